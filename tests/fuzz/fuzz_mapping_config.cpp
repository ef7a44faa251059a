// mapping_config.json next to a model: read while the version loads (Servable::load).
#include <filesystem>
#include <memory>

#include "fuzz_common.h"
#include "serving/servable.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    ovms::fuzz::quietLogs();
    std::string d = ovms::fuzz::scratchDir() + "/mapping";
    std::filesystem::create_directories(d);
    std::filesystem::copy_file(std::string(OVMS_FUZZ_DEMO_MODEL) + "/1/model.onnx", d + "/model.onnx",
                               std::filesystem::copy_options::overwrite_existing);
    return d;
  }();
  ovms::fuzz::writeFile(dir + "/mapping_config.json", std::string_view(reinterpret_cast<const char*>(data), size));
  ovms::serving::ModelConfig c;
  c.name = "demo";
  c.base_path = dir;
  std::unique_ptr<ovms::serving::Servable> s;
  (void)ovms::serving::Servable::load(dir, c, &s);
  return 0;
}
