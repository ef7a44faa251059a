// CTC best-path decoders: CTCGreedyDecoder (opset1) and CTCGreedyDecoderSeqLen (opset6), ovms.ir custom ops
// (ctc_custom_ops.cpp); text and licence-plate recognisers end with them.
#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

std::vector<Value> ctcGreedyDecoder(NodeContext& c) {
  c.requireInputs(2, 2);
  const Value& x = c.in(0);
  if (!isFloatOnnx(x.type)) c.fail("data must be floating point");
  if (c.rankOf(0) != 3) c.fail("data must be 3-D [T, N, C]");
  if (c.rankOf(1) != 2) c.fail("sequence_mask must be 2-D [T, N]");
  auto n = c.g.node("CTCGreedyDecoder", {castTo(c.g, x, TP::FLOAT), castTo(c.g, c.in(1), TP::FLOAT)}, 1, kCustomDomain);
  n.attr("merge_repeated", static_cast<int64_t>(c.b("ctc_merge_repeated", true)));
  Value v = c.out(c.g.cast(n.out(), TP::FLOAT, x.type), x.type);
  v.ir_type = x.ir_type;
  return {v};
}

int32_t indexType(NodeContext& c, const char* attr) {
  std::string s = c.str(attr, "i32");
  if (s == "i32") return TP::INT32;
  if (s == "i64") return TP::INT64;
  c.fail("unsupported " + std::string(attr) + " '" + s + "' (i32 or i64)");
}

std::vector<Value> ctcGreedyDecoderSeqLen(NodeContext& c) {
  c.requireInputs(2, 3);
  const Value& x = c.in(0);
  if (!isFloatOnnx(x.type)) c.fail("data must be floating point");
  if (c.rankOf(0) != 3) c.fail("data must be 3-D [N, T, C]");
  if (!isIntegerOnnx(c.in(1).type)) c.fail("sequence_length must be an integer tensor");
  int32_t classes_t = indexType(c, "classes_index_type"), lengths_t = indexType(c, "sequence_length_type");
  std::string blank = c.numInputs() == 3 ? c.g.op("Reshape", {castTo(c.g, c.in(2), TP::INT64), c.g.constI64({1})})
                                         : c.g.constI64({-1});  // -1: the kernel uses C - 1
  std::string lens = c.g.op("Reshape", {castTo(c.g, c.in(1), TP::INT64), c.g.constI64({-1})});
  auto n = c.g.node("CTCGreedyDecoderSeqLen", {castTo(c.g, x, TP::FLOAT), lens, blank}, 2, kCustomDomain);
  n.attr("merge_repeated", static_cast<int64_t>(c.b("merge_repeated", true)));
  return {c.out(c.g.cast(n.out(0), TP::INT64, classes_t), classes_t, 0), c.out(c.g.cast(n.out(1), TP::INT64, lengths_t), lengths_t, 1)};
}

}  // namespace

void ovms_ir_register_sequence_decoding(OpRegistry& r) {
  r.add("CTCGreedyDecoder", "opset1", ctcGreedyDecoder);
  r.add("CTCGreedyDecoderSeqLen", "opset6", ctcGreedyDecoderSeqLen);
}

}  // namespace ovms::engine::ir
