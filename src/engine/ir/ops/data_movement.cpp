// Data movement: Pad (v1, v12), Slice (v8), GatherND (v5, v8), GatherElements (v6), ScatterUpdate (v3),
// ScatterNDUpdate (v3), ScatterElementsUpdate (v3, v12), DepthToSpace, SpaceToDepth, ShuffleChannels, Einsum (v7).
#include <algorithm>
#include <limits>
#include <numeric>

#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

Value same(NodeContext& c, const std::string& name, const Value& like) {
  Value v = c.out(name, like.type);
  v.ir_type = like.ir_type;
  return v;
}

std::string i64(NodeContext& c, size_t input) { return castTo(c.g, c.in(input), TP::INT64); }

// Types ORT's data movement kernels (Pad/ScatterND/GatherND/...) handle.
int32_t moveType(int32_t t) {
  if (t == TP::FLOAT16 || t == TP::BFLOAT16) return TP::FLOAT;
  return t;
}

std::string sliceAxis(NodeContext& c, const std::string& x, int64_t axis, int64_t start, int64_t end, int64_t step) {
  return c.g.op("Slice", {x, c.g.constI64({start}), c.g.constI64({end}), c.g.constI64({axis}), c.g.constI64({step})});
}

std::vector<Value> pad(NodeContext& c, bool v12) {
  c.requireInputs(3, 4);
  const Value& a = c.in(0);
  int64_t rank = c.rankOf(0);
  std::string mode = c.strReq("pad_mode");
  if (mode != "constant" && mode != "edge" && mode != "reflect" && mode != "symmetric") c.fail("unsupported pad_mode '" + mode + "'");
  std::string x = a.name;
  std::string value;
  if (mode == "constant" && c.numInputs() == 4) value = c.g.op("Reshape", {castTo(c.g, c.in(3), a.type), c.g.constI64(std::vector<int64_t>{})});
  if (!c.in(1).isConst() || !c.in(2).isConst()) {
    if (mode == "symmetric") c.fail("symmetric padding needs constant pads");
    std::string pads = c.g.node("Concat", {i64(c, 1), i64(c, 2)}).attr("axis", int64_t{0}).out();
    std::vector<std::string> ins{x, pads};
    if (!value.empty()) ins.push_back(value);
    return {same(c, c.g.node("Pad", ins).attr("mode", mode).out(), a)};
  }
  auto pb = c.constInts(1), pe = c.constInts(2);
  if (static_cast<int64_t>(pb.size()) != rank || static_cast<int64_t>(pe.size()) != rank)
    c.fail("pads_begin/pads_end must have one value per input dimension");
  bool negative = false;
  for (int64_t d = 0; d < rank; ++d) negative = negative || pb[d] < 0 || pe[d] < 0;
  if (negative && !v12) c.fail("negative pads need Pad-12");
  // Negative pads remove elements: slice first, then pad with the positive parts.
  for (int64_t d = 0; d < rank; ++d) {
    if (pb[d] >= 0 && pe[d] >= 0) continue;
    int64_t s = pb[d] < 0 ? -pb[d] : 0, e = pe[d] < 0 ? pe[d] : kMax;
    x = sliceAxis(c, x, d, s, e, 1);
  }
  std::vector<int64_t> pads;
  for (auto v : pb) pads.push_back(std::max<int64_t>(v, 0));
  for (auto v : pe) pads.push_back(std::max<int64_t>(v, 0));
  if (std::all_of(pads.begin(), pads.end(), [](int64_t v) { return v == 0; })) return {same(c, c.g.op("Identity", {x}), a)};
  if (mode == "symmetric") {
    // Mirror including the border element: before = reverse(x[0:p]), after = reverse(x[n-q:n]).
    for (int64_t d = 0; d < rank; ++d) {
      int64_t p = pads[d], q = pads[rank + d];
      if (p == 0 && q == 0) continue;
      std::vector<std::string> parts;
      if (p > 0) parts.push_back(sliceAxis(c, x, d, p - 1, kMin, -1));
      parts.push_back(x);
      if (q > 0) parts.push_back(sliceAxis(c, x, d, -1, -q - 1, -1));
      x = c.g.node("Concat", parts).attr("axis", d).out();
    }
    return {same(c, x, a)};
  }
  int32_t ct = moveType(a.type);
  std::vector<std::string> ins{c.g.cast(x, a.type, ct), c.g.constI64(pads)};
  if (!value.empty()) ins.push_back(c.g.cast(value, a.type, ct));
  return {same(c, c.g.cast(c.g.node("Pad", ins).attr("mode", mode).out(), ct, a.type), a)};
}

std::vector<Value> slice8(NodeContext& c) {
  c.requireInputs(4, 5);
  const Value& a = c.in(0);
  std::vector<std::string> ins{a.name, i64(c, 1), i64(c, 2)};
  if (c.numInputs() == 5) {
    std::string ax = i64(c, 4);
    // normalize negative axes is done by ONNX Slice itself
    ins.push_back(ax);
  } else {
    ins.push_back("");
  }
  ins.push_back(i64(c, 3));
  return {same(c, c.g.op("Slice", ins), a)};
}

std::vector<Value> gatherND(NodeContext& c, bool v8) {
  c.requireInputs(2, 2);
  const Value& a = c.in(0);
  int64_t bd = c.i("batch_dims", 0);
  if (bd < 0) c.fail("batch_dims must be non-negative");
  int32_t ct = moveType(a.type);
  std::string r = c.g.node("GatherND", {c.g.cast(a.name, a.type, ct), i64(c, 1)}).attr("batch_dims", bd).out();
  if (!v8 && bd > 1) {
    // GatherND-5 flattens the batch dimensions into one.
    std::string s = c.g.op("Shape", {r});
    std::string lead = c.g.node("ReduceProd", {sliceAxis(c, s, 0, 0, bd, 1)}).attr("keepdims", int64_t{1}).out();
    std::string shape = c.g.node("Concat", {lead, sliceAxis(c, s, 0, bd, kMax, 1)}).attr("axis", int64_t{0}).out();
    r = c.g.op("Reshape", {r, shape});
  }
  return {same(c, c.g.cast(r, ct, a.type), a)};
}

std::vector<Value> gatherElements(NodeContext& c) {
  c.requireInputs(2, 2);
  const Value& a = c.in(0);
  int64_t axis = normAxis(c, c.iReq("axis"), c.rankOf(0));
  int32_t ct = moveType(a.type);
  std::string r = c.g.node("GatherElements", {c.g.cast(a.name, a.type, ct), i64(c, 1)}).attr("axis", axis).out();
  return {same(c, c.g.cast(r, ct, a.type), a)};
}

// Negative indices (counted from the end of `axis` of data) -> non-negative.
std::string positiveIndices(NodeContext& c, const std::string& data, const std::string& idx, int64_t axis) {
  std::string dim = c.g.op("Gather", {c.g.op("Shape", {data}), c.g.constI64({axis}, true)});
  return c.g.op("Where", {c.g.op("Less", {idx, c.g.constI64({0}, true)}), c.g.op("Add", {idx, dim}), idx});
}

std::vector<Value> scatterUpdate(NodeContext& c) {
  c.requireInputs(4, 4);
  const Value& a = c.in(0);
  int64_t r = c.rankOf(0), ir = c.rankOf(1);
  auto axv = c.constInts(3);
  if (axv.size() != 1) c.fail("axis must be a single value");
  int64_t axis = normAxis(c, axv[0], r);
  int32_t ct = moveType(a.type);
  std::string data = c.g.cast(a.name, a.type, ct);
  std::string upd = castTo(c.g, c.in(2), ct);
  std::string idx = positiveIndices(c, data, i64(c, 1), axis);
  idx = c.g.op("Unsqueeze", {idx, c.g.constI64({ir})});
  std::string out;
  if (axis == 0) {
    out = c.g.op("ScatterND", {data, idx, upd});
  } else {
    std::vector<int64_t> perm{axis}, inv(static_cast<size_t>(r));
    for (int64_t k = 0; k < r; ++k)
      if (k != axis) perm.push_back(k);
    for (int64_t k = 0; k < r; ++k) inv[static_cast<size_t>(perm[k])] = k;
    // updates: data.shape[:axis] + indices.shape + data.shape[axis+1:] -> indices.shape + the rest
    std::vector<int64_t> up;
    for (int64_t k = 0; k < ir; ++k) up.push_back(axis + k);
    for (int64_t k = 0; k < axis; ++k) up.push_back(k);
    for (int64_t k = axis + ir; k < r - 1 + ir; ++k) up.push_back(k);
    std::string dt = c.g.node("Transpose", {data}).attr("perm", perm).out();
    std::string ut = c.g.node("Transpose", {upd}).attr("perm", up).out();
    out = c.g.node("Transpose", {c.g.op("ScatterND", {dt, idx, ut})}).attr("perm", inv).out();
  }
  return {same(c, c.g.cast(out, ct, a.type), a)};
}

std::vector<Value> scatterNDUpdate(NodeContext& c) {
  c.requireInputs(3, 3);
  const Value& a = c.in(0);
  int32_t ct = moveType(a.type);
  std::string out = c.g.op("ScatterND", {c.g.cast(a.name, a.type, ct), i64(c, 1), castTo(c.g, c.in(2), ct)});
  return {same(c, c.g.cast(out, ct, a.type), a)};
}

std::vector<Value> scatterElementsUpdate(NodeContext& c, bool v12) {
  c.requireInputs(4, 4);
  const Value& a = c.in(0);
  auto axv = c.constInts(3);
  if (axv.size() != 1) c.fail("axis must be a single value");
  int64_t axis = normAxis(c, axv[0], c.rankOf(0));
  std::string red = "none";
  if (v12) {
    std::string rd = c.str("reduction", "none");
    bool init = c.b("use_init_val", true);
    if (rd == "none") red = "none";
    else if (rd == "sum" && init) red = "add";
    else if (rd == "prod" && init) red = "mul";
    else c.fail("unsupported reduction '" + rd + "'" + (init ? "" : " with use_init_val=false"));
  }
  int32_t ct = moveType(a.type);
  if (red != "none" && !ortArithmeticType(ct)) ct = widenedType(ct);
  auto n = c.g.node("ScatterElements", {c.g.cast(a.name, a.type, ct), i64(c, 1), castTo(c.g, c.in(2), ct)});
  n.attr("axis", axis);
  if (red != "none") n.attr("reduction", red);
  return {same(c, c.g.cast(n.out(), ct, a.type), a)};
}

std::vector<Value> depthToSpace(NodeContext& c) {
  c.requireInputs(1, 1);
  const Value& a = c.in(0);
  if (c.rankOf(0) != 4) c.fail("only 4-D inputs are supported");
  std::string mode = c.strReq("mode");
  if (mode != "blocks_first" && mode != "depth_first") c.fail("unsupported mode '" + mode + "'");
  int64_t bs = c.i("block_size", 1);
  if (bs < 1) c.fail("block_size must be positive");
  int32_t ct = moveType(a.type);
  std::string r = c.g.node("DepthToSpace", {c.g.cast(a.name, a.type, ct)}).attr("blocksize", bs).attr("mode", mode == "blocks_first" ? "DCR" : "CRD").out();
  return {same(c, c.g.cast(r, ct, a.type), a)};
}

std::vector<Value> spaceToDepth(NodeContext& c) {
  c.requireInputs(1, 1);
  const Value& a = c.in(0);
  if (c.rankOf(0) != 4) c.fail("only 4-D inputs are supported");
  std::string mode = c.strReq("mode");
  if (mode != "blocks_first" && mode != "depth_first") c.fail("unsupported mode '" + mode + "'");
  int64_t bs = c.i("block_size", 1);
  if (bs < 1) c.fail("block_size must be positive");
  int32_t ct = moveType(a.type);
  std::string x = c.g.cast(a.name, a.type, ct);
  std::string r;
  if (mode == "blocks_first") {
    r = c.g.node("SpaceToDepth", {x}).attr("blocksize", bs).out();
  } else {
    if (a.dims.size() != 4 || a.dims[1] < 0 || a.dims[2] < 0 || a.dims[3] < 0) c.fail("depth_first mode needs static C, H, W");
    int64_t C = a.dims[1], H = a.dims[2], W = a.dims[3];
    if (H % bs || W % bs) c.fail("spatial dimensions are not divisible by block_size");
    std::string t = c.g.op("Reshape", {x, c.g.constI64({0, C, H / bs, bs, W / bs, bs})});
    t = c.g.node("Transpose", {t}).attr("perm", std::vector<int64_t>{0, 1, 3, 5, 2, 4}).out();
    r = c.g.op("Reshape", {t, c.g.constI64({0, C * bs * bs, H / bs, W / bs})});
  }
  return {same(c, c.g.cast(r, ct, a.type), a)};
}

std::vector<Value> shuffleChannels(NodeContext& c) {
  c.requireInputs(1, 1);
  const Value& a = c.in(0);
  int64_t rank = c.rankOf(0);
  int64_t axis = normAxis(c, c.i("axis", 1), rank);
  int64_t group = c.i("group", 1);
  if (group < 1) c.fail("group must be positive");
  if (a.dims.size() != static_cast<size_t>(rank) || a.dims[axis] < 0) c.fail("the shuffled dimension must be static");
  int64_t ch = a.dims[axis];
  if (ch % group) c.fail("dimension " + std::to_string(ch) + " is not divisible by group " + std::to_string(group));
  std::string s = c.g.op("Shape", {a.name});
  std::string tail = c.g.node("ReduceProd", {sliceAxis(c, s, 0, axis + 1, kMax, 1)}).attr("keepdims", int64_t{1}).out();
  std::string shape4 = c.g.node("Concat", {c.g.constI64({-1, group, ch / group}), tail}).attr("axis", int64_t{0}).out();
  std::string t = c.g.op("Reshape", {a.name, shape4});
  t = c.g.node("Transpose", {t}).attr("perm", std::vector<int64_t>{0, 2, 1, 3}).out();
  return {same(c, c.g.op("Reshape", {t, s}), a)};
}

std::vector<Value> einsum(NodeContext& c) {
  if (c.numInputs() < 1) c.fail("needs at least one input");
  std::string eq = c.strReq("equation");
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  const Value& a = c.in(0);
  int32_t ct = ortArithmeticType(a.type) ? a.type : widenedType(a.type);
  std::vector<std::string> ins;
  for (size_t k = 0; k < c.numInputs(); ++k) ins.push_back(castTo(c.g, c.in(k), ct));
  std::string r = c.g.node("Einsum", ins).attr("equation", eq).out();
  return {same(c, c.g.cast(r, ct, a.type), a)};
}

}  // namespace

void ovms_ir_register_data_movement(OpRegistry& r) {
  r.add("Pad", "opset1", [](NodeContext& c) { return pad(c, false); });
  r.add("Pad", "opset12", [](NodeContext& c) { return pad(c, true); });
  r.add("Slice", "opset8", slice8);
  r.add("GatherND", "opset5", [](NodeContext& c) { return gatherND(c, false); });
  r.add("GatherND", "opset8", [](NodeContext& c) { return gatherND(c, true); });
  r.add("GatherElements", "opset6", gatherElements);
  r.add("ScatterUpdate", "opset3", scatterUpdate);
  r.add("ScatterNDUpdate", "opset3", scatterNDUpdate);
  r.add("ScatterElementsUpdate", "opset3", [](NodeContext& c) { return scatterElementsUpdate(c, false); });
  r.add("ScatterElementsUpdate", "opset12", [](NodeContext& c) { return scatterElementsUpdate(c, true); });
  r.add("DepthToSpace", "opset1", depthToSpace);
  r.add("SpaceToDepth", "opset1", spaceToDepth);
  r.add("ShuffleChannels", "opset1", shuffleChannels);
  r.add("Einsum", "opset7", einsum);
}

}  // namespace ovms::engine::ir
