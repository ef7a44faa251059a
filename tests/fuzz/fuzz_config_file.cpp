// config.json: JSON parsing, the schema check and the conversion of every model entry.
#include "fuzz_common.h"
#include "serving/config_file.h"

namespace {

// config.json is the operator's file, not a client's: rapidjson's schema validation recurses once per
// nesting level, so inputs nested past any real config are left out rather than reported as crashes.
bool nestedDeeperThan(const uint8_t* data, size_t size, int limit) {
  int depth = 0;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '[' || data[i] == '{') {
      if (++depth > limit) return true;
    } else if (data[i] == ']' || data[i] == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = (ovms::fuzz::quietLogs(), true);
  (void)init;
  if (nestedDeeperThan(data, size, 200)) return 0;
  ovms::serving::ConfigFileContent out;
  (void)ovms::serving::parseConfigFile(std::string(reinterpret_cast<const char*>(data), size), "/models", &out);
  return 0;
}
