// Element-wise ops: arithmetic with numpy broadcasting, comparisons, logical ops, activations, Convert, Select.
#include <cmath>

#include "engine/half.h"
#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

void checkBroadcast(NodeContext& c) {
  std::string ab = c.str("auto_broadcast", "numpy");
  for (auto& ch : ab) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (ab != "numpy" && ab != "none") c.fail("unsupported auto_broadcast '" + ab + "'");
}

// Casts both inputs to a type the ORT kernel supports, runs `op`, casts back to the input type.
std::vector<Value> arithmetic(NodeContext& c, const char* op) {
  c.requireInputs(2, 2);
  checkBroadcast(c);
  const Value& a = c.in(0);
  const Value& b = c.in(1);
  int32_t t = a.type;
  int32_t ct = ortArithmeticType(t) ? t : widenedType(t);
  if (t == TP::BOOL) c.fail("arithmetic on boolean tensors is not supported");
  std::string x = c.g.cast(a.name, a.type, ct), y = c.g.cast(b.name, b.type, ct);
  std::string r = c.g.op(op, {x, y});
  return {c.out(c.g.cast(r, ct, t), t)};
}

std::vector<Value> divide(NodeContext& c) {
  c.requireInputs(2, 2);
  checkBroadcast(c);
  const Value& a = c.in(0);
  int32_t t = a.type;
  if (isFloatOnnx(t) || !c.b("m_pythondiv", true)) return arithmetic(c, "Div");
  // Integer division with Python semantics (floor): q = (a - mod(a, b)) / b with mod taking the sign of b.
  int32_t ct = ortArithmeticType(t) ? t : widenedType(t);
  std::string x = c.g.cast(a.name, a.type, ct), y = c.g.cast(c.in(1).name, c.in(1).type, ct);
  std::string m = c.g.node("Mod", {x, y}).attr("fmod", int64_t{0}).out();
  std::string q = c.g.op("Div", {c.g.op("Sub", {x, m}), y});
  return {c.out(c.g.cast(q, ct, t), t)};
}

std::vector<Value> comparison(NodeContext& c, const char* op, bool negate = false) {
  c.requireInputs(2, 2);
  checkBroadcast(c);
  const Value& a = c.in(0);
  const Value& b = c.in(1);
  int32_t t = a.type;
  int32_t ct = (ortArithmeticType(t) || (t == TP::BOOL && std::string(op) == "Equal")) ? t : widenedType(t);
  std::string r = c.g.op(op, {c.g.cast(a.name, a.type, ct), c.g.cast(b.name, b.type, ct)});
  if (negate) r = c.g.op("Not", {r});
  return {c.out(r, TP::BOOL)};
}

std::vector<Value> logical(NodeContext& c, const char* op) {
  c.requireInputs(2, 2);
  checkBroadcast(c);
  std::string r = c.g.op(op, {castTo(c.g, c.in(0), TP::BOOL), castTo(c.g, c.in(1), TP::BOOL)});
  return {c.out(r, TP::BOOL)};
}

// Unary float op; integer inputs are computed in float and cast back.
std::vector<Value> unary(NodeContext& c, const char* op) {
  c.requireInputs(1, 1);
  const Value& a = c.in(0);
  int32_t ct = isFloatOnnx(a.type) ? a.type : TP::FLOAT;
  std::string r = c.g.op(op, {c.g.cast(a.name, a.type, ct)});
  return {c.out(c.g.cast(r, ct, a.type), a.type)};
}

std::vector<Value> convert(NodeContext& c) {
  c.requireInputs(1, 1);
  std::string dt = c.strReq("destination_type");
  auto et = parseElemType(dt);
  if (!et || *et == ElemType::undefined) c.fail("unsupported destination_type '" + dt + "'");
  const Value& a = c.in(0);
  int32_t to = computeOnnxType(*et);
  if (a.isConst()) {
    // Fold at translation time (keeps f16/low-precision weights out of the ONNX graph).
    std::shared_ptr<ConstData> cd;
    if (isIntegerOnnx(a.type) && isIntegerOnnx(to)) {
      cd = ConstData::fromInt64(to, a.constant->dims, a.constant->toInt64());
    } else {
      std::vector<double> v = a.constant->toDouble();
      if (*et == ElemType::f16)
        for (auto& x : v) x = halfToFloat(floatToHalf(static_cast<float>(x)));
      if (*et == ElemType::bf16)
        for (auto& x : v) x = bf16ToFloat(floatToBf16(static_cast<float>(x)));
      if (isIntegerOnnx(to) || to == TP::BOOL)
        for (auto& x : v) x = to == TP::BOOL ? (x != 0 ? 1 : 0) : std::trunc(x);
      cd = ConstData::fromDoubles(to, a.constant->dims, v);
    }
    Value v = c.out("", to);
    v.ir_type = *et;
    v.constant = cd;
    v.rank = static_cast<int64_t>(cd->dims.size());
    v.dims = cd->dims;
    return {v};
  }
  std::string r = a.name;
  if ((*et == ElemType::f16 || *et == ElemType::bf16) && isFloatOnnx(a.type) && a.ir_type != *et) {
    // Emulate the precision loss of the conversion, then keep computing in f32.
    int32_t low = *et == ElemType::f16 ? TP::FLOAT16 : TP::BFLOAT16;
    r = c.g.cast(c.g.cast(r, a.type, low), low, TP::FLOAT);
  } else {
    r = c.g.cast(r, a.type, to);
  }
  Value v = c.out(r, to);
  v.ir_type = *et;
  return {v};
}

std::vector<Value> clamp(NodeContext& c) {
  c.requireInputs(1, 1);
  const Value& a = c.in(0);
  double lo = c.f("min", -INFINITY), hi = c.f("max", INFINITY);
  int32_t ct = isFloatOnnx(a.type) || a.type == TP::INT32 || a.type == TP::INT64 || a.type == TP::INT8 || a.type == TP::UINT8 ? a.type : widenedType(a.type);
  if (!isFloatOnnx(ct)) {
    lo = std::ceil(lo);
    hi = std::floor(hi);
  }
  std::string r = c.g.op("Clip", {c.g.cast(a.name, a.type, ct), c.g.constScalar(ct, lo), c.g.constScalar(ct, hi)});
  return {c.out(c.g.cast(r, ct, a.type), a.type)};
}

std::vector<Value> prelu(NodeContext& c) {
  c.requireInputs(2, 2);
  const Value& x = c.in(0);
  const Value& s = c.in(1);
  std::string slope = c.g.cast(s.name, s.type, x.type);
  int64_t xr = c.rankOf(0);
  int64_t sr = s.rank >= 0 ? s.rank : -1;
  // A 1-D slope whose length is the channel count applies per channel (axis 1), not numpy-style.
  if (sr == 1 && xr >= 3) {
    int64_t n = s.dims.empty() ? -1 : s.dims[0];
    int64_t ch = x.rank >= 2 ? x.dims[1] : -1;
    int64_t last = x.rank >= 1 ? x.dims[static_cast<size_t>(x.rank - 1)] : -1;
    bool per_channel = n > 1 && (n == ch || ch < 0) && !(n == last && ch < 0);
    if (n == ch && n > 0) per_channel = true;
    if (per_channel) {
      std::vector<int64_t> axes;
      for (int64_t k = 1; k < xr - 1; ++k) axes.push_back(k);
      slope = c.g.op("Unsqueeze", {slope, c.g.constI64(axes)});
    }
  }
  return {c.out(c.g.op("PRelu", {x.name, slope}), x.type)};
}

std::vector<Value> select(NodeContext& c) {
  c.requireInputs(3, 3);
  checkBroadcast(c);
  const Value& a = c.in(1);
  const Value& b = c.in(2);
  int32_t t = a.type;
  int32_t ct = (ortArithmeticType(t) || t == TP::UINT8) ? t : widenedType(t);
  std::string r = c.g.op("Where", {castTo(c.g, c.in(0), TP::BOOL), c.g.cast(a.name, a.type, ct), c.g.cast(b.name, b.type, ct)});
  return {c.out(c.g.cast(r, ct, t), t)};
}

std::vector<Value> softmaxLike(NodeContext& c, const char* op, bool v1) {
  c.requireInputs(1, 1);
  int64_t rank = c.rankOf(0);
  int64_t axis = c.i("axis", 1);
  if (v1 && axis < 0) c.fail("negative axis is not allowed in opset1");
  axis = normAxis(c, axis, rank);
  const Value& a = c.in(0);
  return {c.out(c.g.node(op, {a.name}).attr("axis", axis).out(), a.type)};
}

}  // namespace

void ovms_ir_register_elementwise(OpRegistry& r) {
  r.add("Add", "opset1", [](NodeContext& c) { return arithmetic(c, "Add"); });
  r.add("Subtract", "opset1", [](NodeContext& c) { return arithmetic(c, "Sub"); });
  r.add("Multiply", "opset1", [](NodeContext& c) { return arithmetic(c, "Mul"); });
  r.add("Divide", "opset1", divide);
  r.add("Maximum", "opset1", [](NodeContext& c) { return arithmetic(c, "Max"); });
  r.add("Minimum", "opset1", [](NodeContext& c) { return arithmetic(c, "Min"); });
  r.add("Power", "opset1", [](NodeContext& c) { return arithmetic(c, "Pow"); });
  r.add("SquaredDifference", "opset1", [](NodeContext& c) {
    auto d = arithmetic(c, "Sub");
    d[0].name = c.g.op("Mul", {d[0].name, d[0].name});
    return d;
  });
  r.add("Equal", "opset1", [](NodeContext& c) { return comparison(c, "Equal"); });
  r.add("NotEqual", "opset1", [](NodeContext& c) { return comparison(c, "Equal", true); });
  r.add("Less", "opset1", [](NodeContext& c) { return comparison(c, "Less"); });
  r.add("LessEqual", "opset1", [](NodeContext& c) { return comparison(c, "LessOrEqual"); });
  r.add("Greater", "opset1", [](NodeContext& c) { return comparison(c, "Greater"); });
  r.add("GreaterEqual", "opset1", [](NodeContext& c) { return comparison(c, "GreaterOrEqual"); });
  r.add("LogicalAnd", "opset1", [](NodeContext& c) { return logical(c, "And"); });
  r.add("LogicalOr", "opset1", [](NodeContext& c) { return logical(c, "Or"); });
  r.add("LogicalXor", "opset1", [](NodeContext& c) { return logical(c, "Xor"); });
  r.add("LogicalNot", "opset1", [](NodeContext& c) {
    c.requireInputs(1, 1);
    return std::vector<Value>{c.out(c.g.op("Not", {castTo(c.g, c.in(0), TP::BOOL)}), TP::BOOL)};
  });
  r.add("ReLU", "opset1", [](NodeContext& c) { return unary(c, "Relu"); });
  r.add("Sigmoid", "opset1", [](NodeContext& c) { return unary(c, "Sigmoid"); });
  r.add("Exp", "opset1", [](NodeContext& c) { return unary(c, "Exp"); });
  r.add("Tanh", "opset1", [](NodeContext& c) { return unary(c, "Tanh"); });
  r.add("Sqrt", "opset1", [](NodeContext& c) { return unary(c, "Sqrt"); });
  r.add("Log", "opset1", [](NodeContext& c) { return unary(c, "Log"); });
  r.add("Abs", "opset1", [](NodeContext& c) { return unary(c, "Abs"); });
  r.add("Negative", "opset1", [](NodeContext& c) { return unary(c, "Neg"); });
  r.add("Floor", "opset1", [](NodeContext& c) { return unary(c, "Floor"); });
  r.add("Ceiling", "opset1", [](NodeContext& c) { return unary(c, "Ceil"); });
  r.add("Erf", "opset1", [](NodeContext& c) { return unary(c, "Erf"); });
  r.add("Sin", "opset1", [](NodeContext& c) { return unary(c, "Sin"); });
  r.add("Cos", "opset1", [](NodeContext& c) { return unary(c, "Cos"); });
  r.add("SoftPlus", "opset4", [](NodeContext& c) { return unary(c, "Softplus"); });
  r.add("HSwish", "opset4", [](NodeContext& c) { return unary(c, "HardSwish"); });
  r.add("Swish", "opset4", [](NodeContext& c) {
    c.requireInputs(1, 2);
    const Value& a = c.in(0);
    int32_t ct = isFloatOnnx(a.type) ? a.type : TP::FLOAT;
    std::string x = c.g.cast(a.name, a.type, ct);
    std::string bx = c.numInputs() == 2 ? c.g.op("Mul", {x, castTo(c.g, c.in(1), ct)}) : x;  // optional beta
    std::string r = c.g.op("Mul", {x, c.g.op("Sigmoid", {bx})});
    return std::vector<Value>{c.out(c.g.cast(r, ct, a.type), a.type)};
  });
  r.add("HSigmoid", "opset5", [](NodeContext& c) {
    c.requireInputs(1, 1);
    return std::vector<Value>{c.out(c.g.node("HardSigmoid", {c.in(0).name}).attr("alpha", 1.0f / 6.0f).attr("beta", 0.5f).out(), c.in(0).type)};
  });
  r.add("Elu", "opset1", [](NodeContext& c) {
    c.requireInputs(1, 1);
    float alpha = static_cast<float>(c.f("alpha", 1.0));
    return std::vector<Value>{c.out(c.g.node("Elu", {c.in(0).name}).attr("alpha", alpha).out(), c.in(0).type)};
  });
  r.add("Clamp", "opset1", clamp);
  r.add("PReLU", "opset1", prelu);
  r.add("Select", "opset1", select);
  r.add("Convert", "opset1", convert);
  r.add("SoftMax", "opset1", [](NodeContext& c) { return softmaxLike(c, "Softmax", true); });
  r.add("SoftMax", "opset8", [](NodeContext& c) { return softmaxLike(c, "Softmax", false); });
  r.add("LogSoftmax", "opset5", [](NodeContext& c) { return softmaxLike(c, "LogSoftmax", false); });
}

}  // namespace ovms::engine::ir
