#include "fuzz_common.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/logging.h"
#include "serving/model_manager.h"

namespace ovms::fuzz {

void quietLogs() {
  ovms::configureLogging("ERROR", "/dev/null");
  ovms::servingLogger()->set_level(spdlog::level::off);
  ovms::modelManagerLogger()->set_level(spdlog::level::off);
}

serving::ModelManager* demoManager() {
  static auto* m = [] {
    quietLogs();
    auto* mm = new serving::ModelManager();
    serving::ModelConfig c;
    c.name = "demo";
    c.base_path = OVMS_FUZZ_DEMO_MODEL;
    if (!mm->startSingleModel(c).ok()) abort();
    return mm;
  }();
  return m;
}

const std::string& scratchDir() {
  static const std::string dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("ovms-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir;
}

void writeFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

}  // namespace ovms::fuzz
