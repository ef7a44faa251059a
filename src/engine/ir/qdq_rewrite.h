#pragma once
// Rewrites of the translated ONNX graph that let ONNX Runtime's QDQ fusions run quantized IR models (OpenVINO
// FakeQuantize, INT8-compressed weights) on integer kernels (QLinearConv, QLinearMatMul, ...). See qdq_rewrite.cpp.
#include <onnx/onnx_pb.h>

namespace ovms::engine::ir {

struct QdqRewriteStats {
  int weights_to_int8 = 0;     // weight chains (Convert(int8) -> Subtract -> Multiply) turned into DequantizeLinear
  int biases_folded = 0;       // Conv -> Add(constant) folded into the Conv's bias
  int dq_moved = 0;            // DequantizeLinear moved after MaxPool / Concat
  int q_moved = 0;             // QuantizeLinear moved before MaxPool
  int integer_convs = 0;       // Conv nodes left in the QDQ form ONNX Runtime fuses into QLinearConv
  int weights_back_to_float = 0;  // constant DequantizeLinear nodes folded back (no integer consumer)
};

// Rewrites `model`'s main graph in place. Never changes what the graph computes beyond the rounding of an int32
// Conv bias to the product of its input and weight scales (what QLinearConv needs).
// Does nothing while the float emulation is selected (below).
QdqRewriteStats rewriteForQdq(onnx::ModelProto& model);

// Process-wide switch for benchmarks and tests that compare against the previous translation: FakeQuantize as a
// chain of float operations and no QDQ rewrites. Off by default.
void setFakeQuantizeEmulation(bool on);
bool fakeQuantizeEmulation();

}  // namespace ovms::engine::ir
