// Reductions (ReduceSum/Mean/Max/Min/Prod/L1/L2/LogicalAnd/LogicalOr) and MVN.
#include <algorithm>
#include <cctype>

#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

std::vector<int64_t> normAxes(NodeContext& c, std::vector<int64_t> axes, int64_t rank) {
  for (auto& a : axes) a = normAxis(c, a, rank);
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

std::vector<Value> reduce(NodeContext& c, const char* op, bool logical = false) {
  c.requireInputs(2, 2);
  const Value& x = c.in(0);
  int64_t keep = c.b("keep_dims", false) ? 1 : 0;
  int64_t rank = c.rankOf(0);
  if (!c.in(1).isConst()) {
    // Runtime axes: only ReduceSum takes axes as an input in opset 17; Mean = Sum / element count.
    std::string op_s(op);
    if (op_s != "ReduceSum" && op_s != "ReduceMean") c.fail("reduction axes must be constant");
    int32_t ct = ortArithmeticType(x.type) ? x.type : widenedType(x.type);
    std::string in = c.g.cast(x.name, x.type, ct);
    std::string ax = castTo(c.g, c.in(1), TP::INT64);
    ax = c.g.op("Reshape", {ax, c.g.constI64({-1})});
    // negative axes -> positive, so they can index the shape
    ax = c.g.op("Where", {c.g.op("Less", {ax, c.g.constI64({0}, true)}), c.g.op("Add", {ax, c.g.constI64({rank}, true)}), ax});
    std::string r = c.g.node("ReduceSum", {in, ax}).attr("keepdims", keep).attr("noop_with_empty_axes", int64_t{1}).out();
    if (op_s == "ReduceMean") {
      std::string cnt = c.g.node("ReduceProd", {c.g.op("Gather", {c.g.op("Shape", {in}), ax})}).attr("keepdims", int64_t{0}).out();
      r = c.g.op("Div", {r, c.g.cast(cnt, TP::INT64, ct)});
    }
    Value v = c.out(c.g.cast(r, ct, x.type), x.type);
    v.ir_type = x.ir_type;
    return {v};
  }
  auto axes = normAxes(c, c.constInts(1), rank);
  if (axes.empty()) {  // OpenVINO: no axes -> no reduction
    Value v = c.out(c.g.op("Identity", {x.name}), x.type);
    v.ir_type = x.ir_type;
    return {v};
  }
  int32_t t = x.type;
  int32_t ct = logical ? TP::INT32 : (ortArithmeticType(t) ? t : widenedType(t));
  std::string in = c.g.cast(x.name, t, ct);
  std::string r;
  if (std::string(op) == "ReduceSum") r = c.g.node(op, {in, c.g.constI64(axes)}).attr("keepdims", keep).out();
  else r = c.g.node(op, {in}).attr("axes", axes).attr("keepdims", keep).out();
  Value v = c.out(c.g.cast(r, ct, t), t);
  v.ir_type = x.ir_type;
  return {v};
}

std::vector<Value> mvnCompose(NodeContext& c, const std::vector<int64_t>& axes, bool normalize_variance, float eps, bool inside) {
  const Value& x = c.in(0);
  std::string mean = c.g.node("ReduceMean", {x.name}).attr("axes", axes).attr("keepdims", int64_t{1}).out();
  std::string d = c.g.op("Sub", {x.name, mean});
  if (!normalize_variance) return {c.out(d, x.type)};
  std::string var = c.g.node("ReduceMean", {c.g.op("Mul", {d, d})}).attr("axes", axes).attr("keepdims", int64_t{1}).out();
  std::string e = c.g.constScalar(x.type, eps);
  std::string den = inside ? c.g.op("Sqrt", {c.g.op("Add", {var, e})}) : c.g.op("Add", {c.g.op("Sqrt", {var}), e});
  return {c.out(c.g.op("Div", {d, den}), x.type)};
}

std::vector<Value> mvn6(NodeContext& c) {
  c.requireInputs(2, 2);
  if (!isFloatOnnx(c.in(0).type)) c.fail("MVN needs a floating point input");
  auto axes = normAxes(c, c.constInts(1), c.rankOf(0));
  std::string mode = c.strReq("eps_mode");
  for (auto& ch : mode) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (mode != "inside_sqrt" && mode != "outside_sqrt") c.fail("unsupported eps_mode '" + mode + "'");
  return mvnCompose(c, axes, c.b("normalize_variance", true), static_cast<float>(c.f("eps", 1e-9)), mode == "inside_sqrt");
}

std::vector<Value> mvn1(NodeContext& c) {
  c.requireInputs(1, 1);
  if (!isFloatOnnx(c.in(0).type)) c.fail("MVN needs a floating point input");
  int64_t rank = c.rankOf(0);
  std::vector<int64_t> axes;
  if (c.has("reduction_axes")) {
    axes = normAxes(c, c.ints("reduction_axes"), rank);
  } else {
    for (int64_t k = c.b("across_channels", false) ? 1 : 2; k < rank; ++k) axes.push_back(k);
  }
  // MVN-1 adds eps outside the square root (reference implementation: (x - mean) / (sqrt(var) + eps)).
  return mvnCompose(c, axes, c.b("normalize_variance", true), static_cast<float>(c.f("eps", 1e-9)), false);
}

}  // namespace

void ovms_ir_register_reduction(OpRegistry& r) {
  r.add("ReduceSum", "opset1", [](NodeContext& c) { return reduce(c, "ReduceSum"); });
  r.add("ReduceMean", "opset1", [](NodeContext& c) { return reduce(c, "ReduceMean"); });
  r.add("ReduceMax", "opset1", [](NodeContext& c) { return reduce(c, "ReduceMax"); });
  r.add("ReduceMin", "opset1", [](NodeContext& c) { return reduce(c, "ReduceMin"); });
  r.add("ReduceProd", "opset1", [](NodeContext& c) { return reduce(c, "ReduceProd"); });
  r.add("ReduceL1", "opset4", [](NodeContext& c) { return reduce(c, "ReduceL1"); });
  r.add("ReduceL2", "opset4", [](NodeContext& c) { return reduce(c, "ReduceL2"); });
  r.add("ReduceLogicalAnd", "opset1", [](NodeContext& c) {
    auto v = reduce(c, "ReduceMin", true);
    return v;
  });
  r.add("ReduceLogicalOr", "opset1", [](NodeContext& c) { return reduce(c, "ReduceMax", true); });
  r.add("MVN", "opset6", mvn6);
  r.add("MVN", "opset2", mvn1);
}

}  // namespace ovms::engine::ir
