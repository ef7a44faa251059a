// Normalization: NormalizeL2 (v0), BatchNormInference (v0/opset1, v5), LRN (v0/opset1).
#include <algorithm>
#include <cmath>

#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

int32_t floatType(int32_t t) { return (t == TP::FLOAT || t == TP::DOUBLE) ? t : TP::FLOAT; }

Value same(NodeContext& c, const std::string& name, const Value& like) {
  Value v = c.out(name, like.type);
  v.ir_type = like.ir_type;
  return v;
}

std::vector<int64_t> sortedAxes(NodeContext& c, std::vector<int64_t> axes, int64_t rank) {
  for (auto& a : axes) a = normAxis(c, a, rank);
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

// y = x / sqrt(max(sum(x^2), eps)) or x / sqrt(sum(x^2) + eps), the sum over `axes` (kept dims).
std::vector<Value> normalizeL2(NodeContext& c) {
  c.requireInputs(2, 2);
  const Value& a = c.in(0);
  int32_t ct = floatType(a.type);
  int64_t rank = c.rankOf(0);
  auto axes = sortedAxes(c, c.constInts(1), rank);
  float eps = static_cast<float>(c.f("eps", 0.0));
  std::string mode = c.str("eps_mode", "add");
  if (mode != "add" && mode != "max") c.fail("unsupported eps_mode '" + mode + "'");
  std::string x = c.g.cast(a.name, a.type, ct);
  std::string sq = c.g.op("Mul", {x, x});
  std::string sum = axes.empty() ? sq : c.g.node("ReduceSum", {sq, c.g.constI64(axes)}).attr("keepdims", int64_t{1}).out();
  std::string e = c.g.constScalar(ct, eps);
  std::string d = c.g.op("Sqrt", {c.g.op(mode == "add" ? "Add" : "Max", {sum, e})});
  return {same(c, c.g.cast(c.g.op("Div", {x, d}), ct, a.type), a)};
}

// v5 ports: data, gamma, beta, mean, variance. The opset1 node keeps nGraph's v0 port order gamma, beta, data,
// mean, variance; the data port is recognised by its rank (gamma/beta are 1-D).
std::vector<Value> batchNorm(NodeContext& c, bool v1) {
  c.requireInputs(5, 5);
  size_t data = 0;
  std::vector<size_t> rest{1, 2, 3, 4};
  if (v1 && c.rankOf(0) == 1 && c.rankOf(2) >= 2) {
    data = 2;
    rest = {0, 1, 3, 4};
  }
  const Value& a = c.in(data);
  int32_t ct = floatType(a.type);
  if (c.rankOf(data) < 2) c.fail("input rank must be at least 2");
  float eps = static_cast<float>(c.f("epsilon", 0.0));
  if (!c.has("epsilon")) c.fail("missing attribute 'epsilon'");
  std::vector<std::string> ins{c.g.cast(a.name, a.type, ct)};
  for (size_t k : rest) ins.push_back(castTo(c.g, c.in(k), ct));
  std::string r = c.g.node("BatchNormalization", ins).attr("epsilon", eps).out();
  return {same(c, c.g.cast(r, ct, a.type), a)};
}

// OpenVINO LRN: sqr_sum over the window [i - size/2, i + size/2] (clamped) on each axis in `axes`,
// y = x / (bias + alpha / size^len(axes) * sqr_sum)^beta.
std::vector<Value> lrn(NodeContext& c) {
  c.requireInputs(2, 2);
  const Value& a = c.in(0);
  int32_t ct = TP::FLOAT;
  if (!isFloatOnnx(a.type)) c.fail("only floating point inputs are supported");
  int64_t rank = c.rankOf(0);
  auto axes = sortedAxes(c, c.constInts(1), rank);
  if (axes.empty()) c.fail("axes must not be empty");
  int64_t size = c.iReq("size");
  if (size < 1) c.fail("size must be positive");
  double alpha = c.f("alpha", 1e-4), beta = c.f("beta", 0.75), bias = c.f("bias", 1.0);
  std::string x = c.g.cast(a.name, a.type, ct);
  int64_t half = size / 2, k = 2 * half + 1;
  std::string sq = c.g.op("Mul", {x, x});
  std::string sum;
  bool channel = axes == std::vector<int64_t>{1};
  bool spatial = rank >= 3 && rank <= 5 && static_cast<int64_t>(axes.size()) == rank - 2 && axes.front() == 2;
  if (channel && rank >= 2 && rank <= 4) {
    // Treat the channel axis as the first spatial axis of a pooling window: [N, 1, C, rest...].
    std::string u = c.g.op("Unsqueeze", {sq, c.g.constI64({1})});
    std::vector<int64_t> kernel{k}, pads{half};
    for (int64_t d = 2; d < rank; ++d) {
      kernel.push_back(1);
      pads.push_back(0);
    }
    std::vector<int64_t> allpads = pads;
    allpads.insert(allpads.end(), pads.begin(), pads.end());
    std::string p = c.g.node("AveragePool", {u}).attr("kernel_shape", kernel).attr("pads", allpads).attr("count_include_pad", int64_t{1}).out();
    sum = c.g.op("Squeeze", {c.g.op("Mul", {p, c.g.constScalar(ct, static_cast<double>(k))}), c.g.constI64({1})});
  } else if (spatial) {
    size_t ns = static_cast<size_t>(rank - 2);
    std::vector<int64_t> kernel(ns, k), pads(2 * ns, half);
    std::string p = c.g.node("AveragePool", {sq}).attr("kernel_shape", kernel).attr("pads", pads).attr("count_include_pad", int64_t{1}).out();
    sum = c.g.op("Mul", {p, c.g.constScalar(ct, std::pow(static_cast<double>(k), static_cast<double>(ns)))});
  } else {
    c.fail("unsupported axes (supported: [1] for rank <= 4, or all spatial axes for rank 3..5)");
  }
  double scale = alpha / std::pow(static_cast<double>(size), static_cast<double>(axes.size()));
  std::string den = c.g.op("Add", {c.g.constScalar(ct, bias), c.g.op("Mul", {sum, c.g.constScalar(ct, scale)})});
  den = c.g.op("Pow", {den, c.g.constScalar(ct, beta)});
  return {same(c, c.g.cast(c.g.op("Div", {x, den}), ct, a.type), a)};
}

}  // namespace

void ovms_ir_register_normalization(OpRegistry& r) {
  r.add("NormalizeL2", "opset1", normalizeL2);
  r.add("BatchNormInference", "opset1", [](NodeContext& c) { return batchNorm(c, true); });
  r.add("BatchNormInference", "opset5", [](NodeContext& c) { return batchNorm(c, false); });
  r.add("LRN", "opset1", lrn);
}

}  // namespace ovms::engine::ir
