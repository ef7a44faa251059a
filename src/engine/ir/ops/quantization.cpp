// FakeQuantize, composed from ONNX primitives with OpenVINO's exact formula:
//   x <= min(il, ih) -> ol;  x > max(il, ih) -> oh;
//   else round((x - il) / (ih - il) * (levels - 1)) / (levels - 1) * (oh - ol) + ol
// (round = nearest, ties to even, like std::nearbyint in OpenVINO's reference).
// When all five inputs are constants (quantized weights) the result is computed at load time, so INT8 IRs do not
// re-quantize their weights on every request.
#include <algorithm>
#include <cmath>

#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

// Numpy broadcast of constant shapes; returns false if incompatible.
bool broadcastDims(const std::vector<std::vector<int64_t>>& shapes, std::vector<int64_t>& out) {
  size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  out.assign(rank, 1);
  for (const auto& s : shapes)
    for (size_t k = 0; k < s.size(); ++k) {
      int64_t& o = out[rank - s.size() + k];
      if (s[k] == o || s[k] == 1) continue;
      if (o != 1) return false;
      o = s[k];
    }
  return true;
}

std::shared_ptr<ConstData> foldFakeQuantize(NodeContext& c, int64_t levels) {
  std::vector<std::vector<double>> vals;
  std::vector<std::vector<int64_t>> shapes;
  for (size_t k = 0; k < 5; ++k) {
    vals.push_back(c.constDoubles(k));
    shapes.push_back(c.in(k).constant->dims);
  }
  std::vector<int64_t> dims;
  if (!broadcastDims(shapes, dims)) c.fail("inputs cannot be broadcast together");
  int64_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<double> out(static_cast<size_t>(n));
  const size_t rank = dims.size();
  std::vector<int64_t> idx(rank, 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    float v[5];
    for (size_t k = 0; k < 5; ++k) {  // element of input k at the broadcast position
      const auto& s = shapes[k];
      int64_t off = 0;
      for (size_t d = 0; d < s.size(); ++d) off = off * s[d] + (s[d] == 1 ? 0 : idx[rank - s.size() + d]);
      v[k] = static_cast<float>(vals[k][static_cast<size_t>(off)]);
    }
    float x = v[0], il = v[1], ih = v[2], ol = v[3], oh = v[4];
    float lo = std::min(il, ih), hi = std::max(il, ih), l1 = static_cast<float>(levels - 1);
    float y;
    if (x <= lo) y = ol;
    else if (x > hi) y = oh;
    else y = std::nearbyint((x - il) / (ih - il) * l1) / l1 * (oh - ol) + ol;
    out[static_cast<size_t>(flat)] = y;
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return ConstData::fromDoubles(TP::FLOAT, dims, out);
}

std::vector<Value> fakeQuantize(NodeContext& c) {
  c.requireInputs(5, 5);
  std::string ab = c.str("auto_broadcast", "numpy");
  if (ab != "numpy" && ab != "none") c.fail("unsupported auto_broadcast '" + ab + "'");
  const Value& x = c.in(0);
  if (!isFloatOnnx(x.type)) c.fail("FakeQuantize needs a floating point input");
  int64_t levels = c.iReq("levels");
  if (levels < 2) c.fail("levels must be at least 2");
  int32_t t = x.type;
  bool all_const = true;
  for (size_t k = 0; k < 5; ++k) all_const = all_const && c.in(k).isConst();
  if (all_const && t == TP::FLOAT) {
    Value v = c.out("", t);
    v.ir_type = x.ir_type;
    v.constant = foldFakeQuantize(c, levels);
    v.rank = static_cast<int64_t>(v.constant->dims.size());
    v.dims = v.constant->dims;
    return {v};
  }
  std::string il = castTo(c.g, c.in(1), t), ih = castTo(c.g, c.in(2), t);
  std::string ol = castTo(c.g, c.in(3), t), oh = castTo(c.g, c.in(4), t);
  auto& g = c.g;
  std::string lo = g.op("Min", {il, ih}), hi = g.op("Max", {il, ih});
  std::string xc = g.op("Min", {g.op("Max", {x.name, lo}), hi});
  std::string l1 = g.constScalar(t, static_cast<double>(levels - 1));
  std::string q = g.op("Round", {g.op("Mul", {g.op("Div", {g.op("Sub", {xc, il}), g.op("Sub", {ih, il})}), l1})});
  std::string y = g.op("Add", {g.op("Mul", {g.op("Div", {q, l1}), g.op("Sub", {oh, ol})}), ol});
  // exact endpoints as the specification states them
  y = g.op("Where", {g.op("LessOrEqual", {x.name, lo}), g.op("Expand", {ol, g.op("Shape", {y})}), y});
  y = g.op("Where", {g.op("Greater", {x.name, hi}), g.op("Expand", {oh, g.op("Shape", {y})}), y});
  Value v = c.out(y, t);
  v.ir_type = x.ir_type;
  return {v};
}

}  // namespace

void ovms_ir_register_quantization(OpRegistry& r) { r.add("FakeQuantize", "opset1", fakeQuantize); }

}  // namespace ovms::engine::ir
