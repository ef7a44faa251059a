// MaxPool v1/v8, AvgPool v1.
#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

void poolAttrs(NodeContext& c, NodeBuilder& n, size_t spatial, bool with_dilations) {
  std::vector<int64_t> ones(spatial, 1), zeros(spatial, 0);
  auto kernel = c.ints("kernel");
  auto strides = c.ints("strides", ones);
  auto pb = c.ints("pads_begin", zeros);
  auto pe = c.ints("pads_end", zeros);
  if (kernel.size() != spatial || strides.size() != spatial) c.fail("kernel/strides do not match the spatial rank");
  n.attr("kernel_shape", kernel).attr("strides", strides);
  if (with_dilations) {
    auto dil = c.ints("dilations", ones);
    if (dil.size() != spatial) c.fail("dilations do not match the spatial rank");
    n.attr("dilations", dil);
  }
  std::string rt = c.str("rounding_type", "floor");
  if (rt == "ceil" || rt == "ceil_torch") n.attr("ceil_mode", int64_t{1});
  else if (rt != "floor") c.fail("unsupported rounding_type '" + rt + "'");
  std::string ap = c.str("auto_pad", "explicit");
  if (ap == "same_upper") n.attr("auto_pad", "SAME_UPPER");
  else if (ap == "same_lower") n.attr("auto_pad", "SAME_LOWER");
  else if (ap == "valid") n.attr("auto_pad", "VALID");
  else if (ap == "explicit" || ap == "notset" || ap.empty()) {
    if (pb.size() != spatial || pe.size() != spatial) c.fail("pads do not match the spatial rank");
    std::vector<int64_t> pads = pb;
    pads.insert(pads.end(), pe.begin(), pe.end());
    n.attr("pads", pads);
  } else {
    c.fail("unsupported auto_pad '" + ap + "'");
  }
}

std::vector<Value> maxPool(NodeContext& c, bool v8) {
  c.requireInputs(1, 1);
  const Value& x = c.in(0);
  int64_t rank = c.rankOf(0);
  if (rank < 3) c.fail("input rank must be at least 3");
  if (!isFloatOnnx(x.type) && x.type != TP::INT8 && x.type != TP::UINT8) c.fail("unsupported input type");
  bool want_idx = v8 && c.outputUsed(1);
  auto n = c.g.node("MaxPool", {x.name}, want_idx ? 2 : 1);
  poolAttrs(c, n, static_cast<size_t>(rank - 2), v8);
  std::vector<Value> outs{c.out(n.out(0), x.type, 0)};
  if (v8) {
    std::string idx_t = c.str("index_element_type", "i64");
    int32_t it = idx_t == "i32" ? TP::INT32 : TP::INT64;
    if (want_idx) {
      std::string idx = n.out(1);
      int64_t axis = c.i("axis", 0);
      if (axis < 0) axis += rank;
      if (axis > 0) {
        // ONNX indices are flat over the whole tensor; OpenVINO counts from dimension `axis`.
        std::string shape = c.g.op("Shape", {x.name});
        std::string tail = c.g.op("Slice", {shape, c.g.constI64({axis}), c.g.constI64({rank})});
        std::string size = c.g.node("ReduceProd", {tail}).attr("keepdims", int64_t{0}).out();
        idx = c.g.op("Mod", {idx, size});
      }
      outs.push_back(c.out(c.g.cast(idx, TP::INT64, it), it, 1));
    } else {
      Value unused = c.out(c.g.uniqueName("unused_indices"), it, 1);
      outs.push_back(unused);
    }
  }
  return outs;
}

std::vector<Value> avgPool(NodeContext& c) {
  c.requireInputs(1, 1);
  const Value& x = c.in(0);
  int64_t rank = c.rankOf(0);
  if (rank < 3) c.fail("input rank must be at least 3");
  auto n = c.g.node("AveragePool", {x.name});
  poolAttrs(c, n, static_cast<size_t>(rank - 2), false);
  n.attr("count_include_pad", static_cast<int64_t>(c.b("exclude-pad", false) ? 0 : 1));
  return {c.out(n.out(), x.type)};
}

}  // namespace

void ovms_ir_register_pooling(OpRegistry& r) {
  r.add("MaxPool", "opset1", [](NodeContext& c) { return maxPool(c, false); });
  r.add("MaxPool", "opset8", [](NodeContext& c) { return maxPool(c, true); });
  r.add("AvgPool", "opset1", avgPool);
}

}  // namespace ovms::engine::ir
