// ONNX model bytes: engine::OnnxModel loading (ONNX checks, graph edits, ONNX Runtime session).
#include <string>

#include "engine/onnx_model.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = (ovms::fuzz::quietLogs(), true);
  (void)init;
  std::string error;
  (void)ovms::engine::OnnxModel::load(std::string_view(reinterpret_cast<const char*>(data), size),
                                      ovms::engine::EngineOptions{}, &error);
  return 0;
}
