#pragma once
// ONNX Runtime custom ops CTCGreedyDecoder and CTCGreedyDecoderSeqLen (domain "ovms.ir"): best-path decoding of
// per-step class scores, as OpenVINO's CTCGreedyDecoder-1 and CTCGreedyDecoderSeqLen-6 define it. Added to the
// process-wide ovms.ir domain by registerIrCustomOps() (custom_ops.cpp).
#include <onnxruntime_cxx_api.h>

namespace ovms::engine::ir {

void addCtcCustomOps(Ort::CustomOpDomain& domain);

}  // namespace ovms::engine::ir
