// More element-wise ops: Gelu (v2, v7), Selu, Mish, Round (v5), Mod, FloorMod, ConvertLike, HardSigmoid, SoftSign,
// Sign, trigonometric/hyperbolic functions, CumSum (v3), BitwiseNot-free logical helpers.
#include <cmath>

#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

void checkBroadcast(NodeContext& c) {
  std::string ab = lower(c.str("auto_broadcast", "numpy"));
  if (ab != "numpy" && ab != "none") c.fail("unsupported auto_broadcast '" + ab + "'");
}

Value same(NodeContext& c, const std::string& name, const Value& like) {
  Value v = c.out(name, like.type);
  v.ir_type = like.ir_type;
  return v;
}

// Runs `body` on the input converted to a float compute type, then casts back to the input type.
template <typename F>
std::vector<Value> floatUnary(NodeContext& c, F body) {
  c.requireInputs(1, 1);
  const Value& a = c.in(0);
  int32_t ct = (a.type == TP::FLOAT || a.type == TP::DOUBLE) ? a.type : TP::FLOAT;
  std::string x = c.g.cast(a.name, a.type, ct);
  std::string r = body(x, ct);
  return {same(c, c.g.cast(r, ct, a.type), a)};
}

std::vector<Value> gelu(NodeContext& c, bool v7) {
  std::string mode = v7 ? lower(c.str("approximation_mode", "erf")) : "erf";
  if (mode != "erf" && mode != "tanh") c.fail("unsupported approximation_mode '" + mode + "'");
  return floatUnary(c, [&](const std::string& x, int32_t t) {
    std::string half = c.g.constScalar(t, 0.5), one = c.g.constScalar(t, 1.0);
    std::string inner;
    if (mode == "erf") {
      inner = c.g.op("Erf", {c.g.op("Mul", {x, c.g.constScalar(t, 1.0 / std::sqrt(2.0))})});
    } else {
      // tanh(sqrt(2/pi) * (x + 0.044715 x^3))
      std::string x3 = c.g.op("Mul", {c.g.op("Mul", {x, x}), x});
      std::string s = c.g.op("Add", {x, c.g.op("Mul", {x3, c.g.constScalar(t, 0.044715)})});
      inner = c.g.op("Tanh", {c.g.op("Mul", {s, c.g.constScalar(t, std::sqrt(2.0 / M_PI))})});
    }
    return c.g.op("Mul", {c.g.op("Mul", {x, half}), c.g.op("Add", {one, inner})});
  });
}

std::vector<Value> selu(NodeContext& c) {
  c.requireInputs(3, 3);
  const Value& a = c.in(0);
  int32_t ct = (a.type == TP::FLOAT || a.type == TP::DOUBLE) ? a.type : TP::FLOAT;
  std::string x = c.g.cast(a.name, a.type, ct);
  std::string alpha = castTo(c.g, c.in(1), ct), lambda = castTo(c.g, c.in(2), ct);
  if (c.in(1).isConst() && c.in(2).isConst() && c.in(1).constant->numel() == 1 && c.in(2).constant->numel() == 1) {
    float al = static_cast<float>(c.constDoubles(1)[0]), la = static_cast<float>(c.constDoubles(2)[0]);
    std::string r = c.g.node("Selu", {x}).attr("alpha", al).attr("gamma", la).out();
    return {same(c, c.g.cast(r, ct, a.type), a)};
  }
  // lambda * (x > 0 ? x : alpha * (exp(x) - 1))
  std::string zero = c.g.constScalar(ct, 0.0), one = c.g.constScalar(ct, 1.0);
  std::string neg = c.g.op("Mul", {alpha, c.g.op("Sub", {c.g.op("Exp", {x}), one})});
  std::string r = c.g.op("Mul", {lambda, c.g.op("Where", {c.g.op("Greater", {x, zero}), x, neg})});
  return {same(c, c.g.cast(r, ct, a.type), a)};
}

std::vector<Value> roundOp(NodeContext& c) {
  c.requireInputs(1, 1);
  const Value& a = c.in(0);
  if (!isFloatOnnx(a.type)) return {same(c, c.g.op("Identity", {a.name}), a)};  // integers are already rounded
  std::string mode = lower(c.strReq("mode"));
  if (mode == "half_to_even") return {same(c, c.g.op("Round", {a.name}), a)};
  if (mode != "half_away_from_zero") c.fail("unsupported mode '" + mode + "'");
  // sign(x) * floor(|x| + 0.5)
  std::string r = c.g.op("Mul", {c.g.op("Sign", {a.name}), c.g.op("Floor", {c.g.op("Add", {c.g.op("Abs", {a.name}), c.g.constScalar(a.type, 0.5)})})});
  return {same(c, r, a)};
}

// Mod: truncated remainder (sign of the dividend). FloorMod: floored remainder (sign of the divisor).
std::vector<Value> mod(NodeContext& c, bool floor_mod) {
  c.requireInputs(2, 2);
  checkBroadcast(c);
  const Value& a = c.in(0);
  int32_t t = a.type;
  if (t == TP::BOOL) c.fail("boolean inputs are not supported");
  int32_t ct = ortArithmeticType(t) ? t : widenedType(t);
  std::string x = c.g.cast(a.name, t, ct), y = castTo(c.g, c.in(1), ct);
  std::string r;
  if (isFloatOnnx(ct)) {
    if (!floor_mod) {
      r = c.g.node("Mod", {x, y}).attr("fmod", int64_t{1}).out();
    } else {
      // x - floor(x / y) * y
      r = c.g.op("Sub", {x, c.g.op("Mul", {c.g.op("Floor", {c.g.op("Div", {x, y})}), y})});
    }
  } else {
    r = c.g.node("Mod", {x, y}).attr("fmod", int64_t{floor_mod ? 0 : 1}).out();
  }
  return {same(c, c.g.cast(r, ct, t), a)};
}

std::vector<Value> convertLike(NodeContext& c) {
  c.requireInputs(2, 2);
  const Value& a = c.in(0);
  const Value& like = c.in(1);
  int32_t to = like.type;
  ElemType et = like.ir_type != ElemType::undefined ? like.ir_type : *elemTypeFromOnnx(to);
  std::string r;
  if ((et == ElemType::f16 || et == ElemType::bf16) && isFloatOnnx(a.type) && a.ir_type != et) {
    int32_t low = et == ElemType::f16 ? TP::FLOAT16 : TP::BFLOAT16;
    r = c.g.cast(c.g.cast(a.name, a.type, low), low, TP::FLOAT);
  } else if (isFloatOnnx(a.type) && isIntegerOnnx(to)) {
    // OpenVINO converts float -> integer by truncation, which is also what ONNX Cast does.
    r = c.g.cast(a.name, a.type, to);
  } else {
    r = c.g.cast(a.name, a.type, to);
  }
  if (r == a.name) r = c.g.op("Identity", {r});
  Value v = c.out(r, to);
  v.ir_type = et;
  return {v};
}

std::vector<Value> hardSigmoid(NodeContext& c) {
  c.requireInputs(3, 3);
  const Value& a = c.in(0);
  int32_t ct = (a.type == TP::FLOAT || a.type == TP::DOUBLE) ? a.type : TP::FLOAT;
  std::string x = c.g.cast(a.name, a.type, ct);
  if (c.in(1).isConst() && c.in(2).isConst()) {
    float al = static_cast<float>(c.constDoubles(1).at(0)), be = static_cast<float>(c.constDoubles(2).at(0));
    std::string r = c.g.node("HardSigmoid", {x}).attr("alpha", al).attr("beta", be).out();
    return {same(c, c.g.cast(r, ct, a.type), a)};
  }
  std::string lin = c.g.op("Add", {c.g.op("Mul", {x, castTo(c.g, c.in(1), ct)}), castTo(c.g, c.in(2), ct)});
  std::string r = c.g.op("Clip", {lin, c.g.constScalar(ct, 0.0), c.g.constScalar(ct, 1.0)});
  return {same(c, c.g.cast(r, ct, a.type), a)};
}

std::vector<Value> cumsum(NodeContext& c) {
  c.requireInputs(1, 2);
  const Value& a = c.in(0);
  int32_t ct = (a.type == TP::FLOAT || a.type == TP::DOUBLE || a.type == TP::INT32 || a.type == TP::INT64) ? a.type : widenedType(a.type);
  std::string axis;
  if (c.numInputs() == 2) {
    axis = c.g.op("Reshape", {castTo(c.g, c.in(1), TP::INT64), c.g.constI64(std::vector<int64_t>{})});
  } else {
    axis = c.g.constI64({0}, true);
  }
  auto n = c.g.node("CumSum", {c.g.cast(a.name, a.type, ct), axis});
  n.attr("exclusive", int64_t{c.b("exclusive", false) ? 1 : 0}).attr("reverse", int64_t{c.b("reverse", false) ? 1 : 0});
  return {same(c, c.g.cast(n.out(), ct, a.type), a)};
}

}  // namespace

void ovms_ir_register_activation_ext(OpRegistry& r) {
  r.add("Gelu", "opset2", [](NodeContext& c) { return gelu(c, false); });
  r.add("Gelu", "opset7", [](NodeContext& c) { return gelu(c, true); });
  r.add("Selu", "opset1", selu);
  r.add("Mish", "opset4", [](NodeContext& c) {
    return floatUnary(c, [&](const std::string& x, int32_t) { return c.g.op("Mul", {x, c.g.op("Tanh", {c.g.op("Softplus", {x})})}); });
  });
  r.add("SoftSign", "opset9", [](NodeContext& c) {
    return floatUnary(c, [&](const std::string& x, int32_t) { return c.g.op("Softsign", {x}); });
  });
  r.add("HardSigmoid", "opset1", hardSigmoid);
  r.add("Round", "opset5", roundOp);
  r.add("Mod", "opset1", [](NodeContext& c) { return mod(c, false); });
  r.add("FloorMod", "opset1", [](NodeContext& c) { return mod(c, true); });
  r.add("ConvertLike", "opset1", convertLike);
  r.add("CumSum", "opset3", cumsum);
  r.add("Sign", "opset1", [](NodeContext& c) {
    c.requireInputs(1, 1);
    const Value& a = c.in(0);
    int32_t ct = ortArithmeticType(a.type) ? a.type : widenedType(a.type);
    return std::vector<Value>{same(c, c.g.cast(c.g.op("Sign", {c.g.cast(a.name, a.type, ct)}), ct, a.type), a)};
  });
  for (const char* op : {"Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh"}) {
    std::string ov = op;
    std::string onnx = op;
    std::string ver = (ov == "Asinh" || ov == "Acosh" || ov == "Atanh") ? "opset4" : "opset1";
    r.add(ov, ver, [onnx](NodeContext& c) { return floatUnary(c, [&](const std::string& x, int32_t) { return c.g.op(onnx, {x}); }); });
  }
}

}  // namespace ovms::engine::ir
