// OpenVINO IR: the XML reader and the IR -> ONNX translator, then ONNX Runtime on the result.
// Input: <model.xml>\0<model.bin>
#include <string>

#include "engine/ir/ir_model.h"
#include "engine/onnx_model.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = (ovms::fuzz::quietLogs(), true);
  (void)init;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto [xml, bin] = ovms::fuzz::splitOnce(in, '\0');
  try {
    auto t = ovms::engine::ir::translateIrToOnnx(xml, bin);
    std::string error;
    (void)ovms::engine::OnnxModel::load(t.onnx_model, ovms::engine::EngineOptions{}, &error);
  } catch (const ovms::engine::ir::IrError&) {
  }
  return 0;
}
