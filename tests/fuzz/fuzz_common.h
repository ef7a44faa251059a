// Shared pieces of the libFuzzer targets: a served demo model, temp files, input splitting.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ovms::serving {
class ModelManager;
}

namespace ovms::fuzz {

// A model manager serving the demo model as "demo", made once per process (logs quiet).
serving::ModelManager* demoManager();

// Logging off (a fuzzer runs millions of inputs) and protobuf's log through ours.
void quietLogs();

// Splits `data` at the first `sep` (the rest is empty when there is none).
inline std::pair<std::string_view, std::string_view> splitOnce(std::string_view data, char sep) {
  auto p = data.find(sep);
  if (p == std::string_view::npos) return {data, {}};
  return {data.substr(0, p), data.substr(p + 1)};
}

// A directory unique to this process, created on first use, for files a target writes.
const std::string& scratchDir();
void writeFile(const std::string& path, std::string_view content);

}  // namespace ovms::fuzz

// The demo model the targets serve (set by CMake).
#ifndef OVMS_FUZZ_DEMO_MODEL
#error "OVMS_FUZZ_DEMO_MODEL must point at models/demo_classifier"
#endif
