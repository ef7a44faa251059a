#include "common/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace ovms {
namespace {

std::shared_ptr<spdlog::logger> makeLogger(const std::string& name) {
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto l = std::make_shared<spdlog::logger>(name, sink);
  l->set_pattern("[%Y-%m-%d %H:%M:%S.%e][%t][%n][%l][%s:%#] %v");
  return l;
}

spdlog::level::level_enum parseLevel(const std::string& level) {
  if (level == "TRACE") return spdlog::level::trace;
  if (level == "DEBUG") return spdlog::level::debug;
  if (level == "WARNING") return spdlog::level::warn;
  if (level == "ERROR") return spdlog::level::err;
  return spdlog::level::info;
}

}  // namespace

std::shared_ptr<spdlog::logger>& servingLogger() {
  static std::shared_ptr<spdlog::logger> l = makeLogger("serving");
  return l;
}

std::shared_ptr<spdlog::logger>& modelManagerLogger() {
  static std::shared_ptr<spdlog::logger> l = makeLogger("modelmanager");
  return l;
}

void configureLogging(const std::string& level, const std::string& path) {
  spdlog::sink_ptr sink;
  if (path.empty()) {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
  }
  for (auto* l : {&servingLogger(), &modelManagerLogger()}) {
    auto name = (*l)->name();
    *l = std::make_shared<spdlog::logger>(name, sink);
    (*l)->set_pattern("[%Y-%m-%d %H:%M:%S.%e][%t][%n][%l][%s:%#] %v");
    (*l)->set_level(parseLevel(level));
    (*l)->flush_on(spdlog::level::trace);
  }
}

}  // namespace ovms
