// config.json: JSON parsing, the schema check and the conversion of every model entry.
#include "fuzz_common.h"
#include "serving/config_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = (ovms::fuzz::quietLogs(), true);
  (void)init;
  ovms::serving::ConfigFileContent out;
  (void)ovms::serving::parseConfigFile(std::string(reinterpret_cast<const char*>(data), size), "/models", &out);
  return 0;
}
