// FakeQuantize. OpenVINO's formula:
//   x <= min(il, ih) -> ol;  x > max(il, ih) -> oh;
//   else round((x - il) / (ih - il) * (levels - 1)) / (levels - 1) * (oh - ol) + ol
// (round = nearest, ties to even, like std::nearbyint in OpenVINO's reference).
//
// Where the ranges allow it, FakeQuantize becomes an ONNX QuantizeLinear/DequantizeLinear pair, so that
// ONNX Runtime's QDQ fusions run the neighbouring Conv/MatMul on integer kernels (see qdq_rewrite.cpp):
//  * activations (x computed at run time, ranges constant): the level index k = round((x - il) / s_in) equals
//    QuantizeLinear(x, s_in, zp_in) when zp_in = -il / s_in is an integer (uint8, 256 levels); the output
//    ol + k * s_out equals DequantizeLinear(k, s_out, zp_out) when zp_out = -ol / s_out is an integer.
//    255 levels clip to [il, ih] first, so the index cannot reach 255. Per-tensor or per-channel (one axis).
//  * constants (quantized weights): the level indices are computed at load time and stored as int8, with a
//    DequantizeLinear (per-tensor or per-channel) in front; the float values are kept as the Value's constant
//    for translators that fold.
// Zero points count as integers within 1e-3 (OpenVINO's FP16 ranges round -il/s to 128.0000029 and the like;
// 1e-3 of a step is far below the quantization error itself). Anything else (non-constant ranges, a zero or
// negative scale, ranges that vary along two axes, a fractional zero point) keeps the exact float emulation.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/ir/op_registry.h"
#include "engine/ir/qdq_rewrite.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

constexpr double kZeroPointTolerance = 1e-3;

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

// Offset of the element at broadcast position `idx` (over `rank` dims) in a tensor of shape `s`.
int64_t broadcastOffset(const std::vector<int64_t>& s, const std::vector<int64_t>& idx, size_t rank) {
  int64_t off = 0;
  for (size_t d = 0; d < s.size(); ++d) off = off * s[d] + (s[d] == 1 ? 0 : idx[rank - s.size() + d]);
  return off;
}

bool nearInteger(double v, double* rounded) {
  *rounded = std::nearbyint(v);
  return std::isfinite(v) && std::fabs(v - *rounded) <= kZeroPointTolerance;
}

// Per-channel quantization parameters of one range pair (lo, hi) over `levels`: scale and the zero point
// as the integer -lo/scale, or nothing when that is not an integer.
struct RangeParams {
  std::vector<float> scale;
  std::vector<double> zero;  // -lo / scale, integral
};

// The axis (in a tensor of rank `rank`) along which the range constants vary, -1 when they are all scalars
// (per-tensor); returns false when they vary along more than one axis or do not broadcast to `rank`.
bool rangeAxis(const std::vector<std::vector<int64_t>>& range_shapes, int64_t rank, int64_t* axis, int64_t* channels) {
  *axis = -1;
  *channels = 1;
  for (const auto& s : range_shapes) {
    if (static_cast<int64_t>(s.size()) > rank) {
      // leading 1s beyond the rank are harmless
      for (size_t d = 0; d + rank < s.size(); ++d)
        if (s[d] != 1) return false;
    }
    for (size_t d = 0; d < s.size(); ++d) {
      if (s[d] == 1) continue;
      int64_t a = rank - static_cast<int64_t>(s.size()) + static_cast<int64_t>(d);
      if (a < 0) return false;
      if (*axis != -1 && (*axis != a || *channels != s[d])) return false;
      *axis = a;
      *channels = s[d];
    }
  }
  return true;
}

// Values of a range constant expanded to `channels` entries (it is either a scalar or varies along the axis).
std::vector<double> perChannel(const std::vector<double>& v, int64_t channels) {
  if (static_cast<int64_t>(v.size()) == channels) return v;
  return std::vector<double>(static_cast<size_t>(channels), v.empty() ? 0.0 : v[0]);
}

bool quantParams(const std::vector<double>& lo, const std::vector<double>& hi, int64_t levels, double zp_min,
                 double zp_max, RangeParams* out) {
  out->scale.clear();
  out->zero.clear();
  for (size_t c = 0; c < lo.size(); ++c) {
    double s = (hi[c] - lo[c]) / static_cast<double>(levels - 1);
    float sf = static_cast<float>(s);
    if (!(sf > 0.0f) || !std::isfinite(sf)) return false;
    double z;
    if (!nearInteger(-lo[c] / s, &z) || z < zp_min || z > zp_max) return false;
    out->scale.push_back(sf);
    out->zero.push_back(z);
  }
  return true;
}

std::string scaleInit(GraphBuilder& g, const std::vector<float>& s, bool per_channel) {
  return g.constF32(s, !per_channel);
}

std::string zeroInit(GraphBuilder& g, int32_t type, const std::vector<double>& z, bool per_channel) {
  std::vector<int64_t> dims;
  if (per_channel) dims.push_back(static_cast<int64_t>(z.size()));
  auto c = ConstData::fromDoubles(type, dims, z);
  return g.initializer(*c, "zp");
}

// Folds an all-constant FakeQuantize. Returns the float result and, through `levels_out`, the level index of
// every element (0..levels-1), which the integer form stores.
std::shared_ptr<ConstData> foldFakeQuantize(NodeContext& c, int64_t levels, std::vector<int64_t>& dims,
                                            std::vector<uint8_t>* levels_out) {
  std::vector<std::vector<double>> vals;
  std::vector<std::vector<int64_t>> shapes;
  for (size_t k = 0; k < 5; ++k) {
    vals.push_back(c.constDoubles(k));
    shapes.push_back(c.in(k).constant->dims);
  }
  if (!broadcastDims(shapes, dims)) c.fail("inputs cannot be broadcast together");
  int64_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<double> out(static_cast<size_t>(n));
  if (levels_out) levels_out->assign(levels <= 256 ? static_cast<size_t>(n) : 0, 0);
  const size_t rank = dims.size();
  std::vector<int64_t> idx(rank, 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    float v[5];
    for (size_t k = 0; k < 5; ++k)  // element of input k at the broadcast position
      v[k] = static_cast<float>(vals[k][static_cast<size_t>(broadcastOffset(shapes[k], idx, rank))]);
    float x = v[0], il = v[1], ih = v[2], ol = v[3], oh = v[4];
    float lo = std::min(il, ih), hi = std::max(il, ih), l1 = static_cast<float>(levels - 1);
    float y, q;
    if (x <= lo) {
      y = ol;
      q = il <= ih ? 0.0f : l1;
    } else if (x > hi) {
      y = oh;
      q = il <= ih ? l1 : 0.0f;
    } else {
      q = std::nearbyint((x - il) / (ih - il) * l1);
      y = q / l1 * (oh - ol) + ol;
    }
    out[static_cast<size_t>(flat)] = y;
    if (levels_out && !levels_out->empty()) (*levels_out)[static_cast<size_t>(flat)] = static_cast<uint8_t>(q);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return ConstData::fromDoubles(TP::FLOAT, dims, out);
}

// Quantized weights as int8 level indices behind a DequantizeLinear; "" when the output range cannot be
// expressed with an integral zero point (then the folded float constant is used as it is).
std::string integerWeights(NodeContext& c, int64_t levels, const std::vector<int64_t>& dims,
                           const std::vector<uint8_t>& k) {
  if (levels != 256 && levels != 255) return "";
  if (k.empty() || dims.empty()) return "";
  const int64_t rank = static_cast<int64_t>(dims.size());
  std::vector<std::vector<int64_t>> range_shapes = {c.in(3).constant->dims, c.in(4).constant->dims};
  int64_t axis, channels;
  if (!rangeAxis(range_shapes, rank, &axis, &channels)) return "";
  // The input range must not vary along another axis either: the level indices are computed per element, so
  // any input range is fine; only the output range defines the dequantization.
  std::vector<double> ol = perChannel(c.constDoubles(3), channels), oh = perChannel(c.constDoubles(4), channels);
  if (static_cast<int64_t>(ol.size()) != channels || static_cast<int64_t>(oh.size()) != channels) return "";
  // Stored value q = k - shift lies in int8 (255 levels: -127..127, 256 levels: -128..127).
  const double shift = levels == 256 ? 128.0 : 127.0;
  RangeParams p;
  if (!quantParams(ol, oh, levels, -128.0 + shift, 127.0 + shift, &p)) return "";
  for (auto& z : p.zero) z -= shift;
  auto data = std::make_shared<std::string>(k.size(), '\0');
  for (size_t i = 0; i < k.size(); ++i) (*data)[i] = static_cast<char>(static_cast<int8_t>(static_cast<int>(k[i]) - static_cast<int>(shift)));
  ConstData q;
  q.onnx_type = TP::INT8;
  q.dims = dims;
  q.owned = data;
  q.bytes = *data;
  auto& g = c.g;
  bool per_channel = axis >= 0;
  std::string qn = g.initializer(q, "wq");
  auto n = g.node("DequantizeLinear", {qn, scaleInit(g, p.scale, per_channel), zeroInit(g, TP::INT8, p.zero, per_channel)});
  if (per_channel) n.attr("axis", axis);
  return n.out();
}

// QuantizeLinear/DequantizeLinear for a run-time input; "" when the ranges do not allow it.
std::string qdqActivation(NodeContext& c, int64_t levels) {
  const Value& x = c.in(0);
  if (x.type != TP::FLOAT) return "";
  if (levels != 256 && levels != 255) return "";
  for (size_t k = 1; k < 5; ++k)
    if (!c.in(k).isConst()) return "";
  std::vector<std::vector<int64_t>> range_shapes;
  for (size_t k = 1; k < 5; ++k) range_shapes.push_back(c.in(k).constant->dims);
  int64_t axis = -1, channels = 1;
  bool all_scalar = std::all_of(range_shapes.begin(), range_shapes.end(), [](const std::vector<int64_t>& s) {
    int64_t n = 1;
    for (auto d : s) n *= d;
    return n == 1;
  });
  if (!all_scalar) {
    int64_t rank = x.rank >= 0 ? x.rank : -1;
    if (rank < 0 && !c.layer.inputs.empty() && c.layer.inputs[0].has_dims) rank = static_cast<int64_t>(c.layer.inputs[0].dims.size());
    if (rank < 0 || !rangeAxis(range_shapes, rank, &axis, &channels)) return "";
  }
  std::vector<double> il = perChannel(c.constDoubles(1), channels), ih = perChannel(c.constDoubles(2), channels);
  std::vector<double> ol = perChannel(c.constDoubles(3), channels), oh = perChannel(c.constDoubles(4), channels);
  if (static_cast<int64_t>(il.size()) != channels || static_cast<int64_t>(ih.size()) != channels ||
      static_cast<int64_t>(ol.size()) != channels || static_cast<int64_t>(oh.size()) != channels)
    return "";
  const double zp_max = static_cast<double>(levels - 1);
  RangeParams in, out;
  if (!quantParams(il, ih, levels, 0.0, zp_max, &in) || !quantParams(ol, oh, levels, 0.0, zp_max, &out)) return "";
  auto& g = c.g;
  const bool per_channel = axis >= 0;
  std::string src = x.name;
  if (levels == 255) {
    // uint8 saturates at 255, one level past the top: clip to the input range first.
    if (per_channel) return "";  // Clip takes scalar bounds only
    src = g.op("Clip", {src, g.constScalar(TP::FLOAT, il[0]), g.constScalar(TP::FLOAT, ih[0])});
  }
  auto q = g.node("QuantizeLinear", {src, scaleInit(g, in.scale, per_channel), zeroInit(g, TP::UINT8, in.zero, per_channel)});
  if (per_channel) q.attr("axis", axis);
  auto dq = g.node("DequantizeLinear", {q.out(), scaleInit(g, out.scale, per_channel), zeroInit(g, TP::UINT8, out.zero, per_channel)});
  if (per_channel) dq.attr("axis", axis);
  return dq.out();
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
  const bool integer = !fakeQuantizeEmulation();
  if (all_const && t == TP::FLOAT) {
    std::vector<int64_t> dims;
    std::vector<uint8_t> k;
    Value v = c.out("", t);
    v.ir_type = x.ir_type;
    v.constant = foldFakeQuantize(c, levels, dims, &k);
    v.rank = static_cast<int64_t>(v.constant->dims.size());
    v.dims = v.constant->dims;
    if (integer) v.name = integerWeights(c, levels, dims, k);  // "" -> the reader emits the float constant
    return {v};
  }
  std::string qdq = integer ? qdqActivation(c, levels) : "";
  if (!qdq.empty()) {
    Value v = c.out(qdq, t);
    v.ir_type = x.ir_type;
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
  // exact endpoints as the specification states them. Where broadcasts ol/oh itself: an Expand to y's shape
  // would be constant-folded by ONNX Runtime into two activation-sized constants per FakeQuantize.
  y = g.op("Where", {g.op("LessOrEqual", {x.name, lo}), ol, y});
  y = g.op("Where", {g.op("Greater", {x.name, hi}), oh, y});
  Value v = c.out(y, t);
  v.ir_type = x.ir_type;
  return {v};
}

}  // namespace

void ovms_ir_register_quantization(OpRegistry& r) { r.add("FakeQuantize", "opset1", fakeQuantize); }

}  // namespace ovms::engine::ir
