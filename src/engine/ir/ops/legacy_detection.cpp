// Caffe/Darknet-era detection layers: PriorBox (v0/opset1, v8), a constant when the feature-map and image sizes are
// known at translation time, else the ovms.ir PriorBox kernel (sizes at run time); RegionYolo (v0/opset1),
// decomposed into ONNX ops.
#include <algorithm>
#include <cmath>

#include "engine/ir/detection_kernels.h"
#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

std::vector<Value> priorBox(NodeContext& c, bool v8) {
  c.requireInputs(2, 2);
  kernels::PriorBoxAttrs a;
  a.min_size = c.floats("min_size");
  a.max_size = c.floats("max_size");
  a.aspect_ratio = c.floats("aspect_ratio");
  a.density = c.floats("density");
  a.fixed_ratio = c.floats("fixed_ratio");
  a.fixed_size = c.floats("fixed_size");
  a.variance = c.floats("variance");
  a.clip = c.b("clip", false);
  a.flip = c.b("flip", false);
  a.scale_all_sizes = c.b("scale_all_sizes", true);
  a.min_max_order = v8 ? c.b("min_max_aspect_ratios_order", true) : true;
  a.step = static_cast<float>(c.f("step", 0));
  a.offset = static_cast<float>(c.f("offset", 0.5));
  if (!a.variance.empty() && a.variance.size() != 1 && a.variance.size() != 4) c.fail("variance must have 0, 1 or 4 values");
  if (!a.density.empty() && a.density.size() != a.fixed_size.size()) c.fail("density and fixed_size must have the same length");
  if (!a.fixed_size.empty() && a.density.empty()) c.fail("fixed_size needs density");
  if (c.in(0).isConst() && c.in(1).isConst()) {
    auto o = c.constInts(0), im = c.constInts(1);
    if (o.size() != 2 || im.size() != 2) c.fail("output_size and image_size must have 2 values");
    std::vector<float> v;
    try {
      v = kernels::priorBox(a, o[0], o[1], im[0], im[1]);
    } catch (const std::exception& e) {
      c.fail(e.what());
    }
    return {constantPriorBoxes(c, v)};
  }
  // Sizes known only at run time (dynamic input shapes): the ovms.ir PriorBox kernel computes the same boxes.
  auto n = c.g.node("PriorBox", {castTo(c.g, c.in(0), TP::INT64), castTo(c.g, c.in(1), TP::INT64)}, 1, kCustomDomain);
  auto floats = [&](const char* name, const std::vector<float>& v) {
    if (!v.empty()) n.attr(name, v);  // an absent list attribute reads as empty in the kernel
  };
  floats("min_size", a.min_size);
  floats("max_size", a.max_size);
  floats("aspect_ratio", a.aspect_ratio);
  floats("density", a.density);
  floats("fixed_ratio", a.fixed_ratio);
  floats("fixed_size", a.fixed_size);
  floats("variance", a.variance);
  n.attr("clip", static_cast<int64_t>(a.clip)).attr("flip", static_cast<int64_t>(a.flip))
      .attr("scale_all_sizes", static_cast<int64_t>(a.scale_all_sizes)).attr("min_max_order", static_cast<int64_t>(a.min_max_order))
      .attr("step", a.step).attr("offset", a.offset);
  return {c.out(n.out(), TP::FLOAT)};
}

// RegionYolo: per region, sigmoid on x, y (entries 0, 1) and on the objectness (entry `coords`); class scores get
// softmax (do_softmax, YOLOv2) or sigmoid (YOLOv3); with do_softmax the axes axis..end_axis are flattened.
std::vector<Value> regionYolo(NodeContext& c) {
  c.requireInputs(1, 1);
  const Value& x = c.in(0);
  if (!isFloatOnnx(x.type)) c.fail("only floating point inputs are supported");
  int64_t rank = c.rankOf(0);
  if (rank != 4) c.fail("only 4-D inputs are supported");
  int64_t coords = c.i("coords", 4), classes = c.iReq("classes"), num = c.iReq("num");
  bool softmax = c.b("do_softmax", true);
  auto mask = c.ints("mask");
  int64_t regions = softmax ? num : static_cast<int64_t>(mask.size());
  if (coords < 2 || classes < 1 || regions < 1) c.fail("bad coords/classes/num/mask");
  int64_t per = coords + 1 + classes;
  if (x.dims.size() == 4 && x.dims[1] >= 0 && x.dims[1] != per * regions)
    c.fail("input has " + std::to_string(x.dims[1]) + " channels, expected " + std::to_string(per * regions));
  std::string shape = c.g.op("Shape", {x.name});
  std::string r = c.g.op("Reshape", {x.name, c.g.constI64({0, regions, per, -1})});
  auto part = [&](int64_t b, int64_t e) {
    return c.g.op("Slice", {r, c.g.constI64({b}), c.g.constI64({e}), c.g.constI64({2})});
  };
  std::vector<std::string> parts{c.g.op("Sigmoid", {part(0, 2)})};
  if (coords > 2) parts.push_back(part(2, coords));
  parts.push_back(c.g.op("Sigmoid", {part(coords, coords + 1)}));
  std::string cls = part(coords + 1, per);
  parts.push_back(softmax ? c.g.node("Softmax", {cls}).attr("axis", int64_t{2}).out() : c.g.op("Sigmoid", {cls}));
  std::string y = c.g.op("Reshape", {c.g.node("Concat", parts).attr("axis", int64_t{2}).out(), shape});
  if (softmax) {
    int64_t axis = normAxis(c, c.i("axis", 1), rank), end = normAxis(c, c.i("end_axis", 3), rank);
    if (end < axis) c.fail("end_axis is before axis");
    auto sl = [&](int64_t b, int64_t e) {
      return c.g.op("Slice", {shape, c.g.constI64({b}), c.g.constI64({e}), c.g.constI64({0})});
    };
    std::vector<std::string> dims;
    if (axis > 0) dims.push_back(sl(0, axis));
    dims.push_back(c.g.constI64({-1}));
    if (end + 1 < rank) dims.push_back(sl(end + 1, rank));
    y = c.g.op("Reshape", {y, c.g.node("Concat", dims).attr("axis", int64_t{0}).out()});
  }
  Value v = c.out(y, x.type);
  v.ir_type = x.ir_type;
  return {v};
}

}  // namespace

void ovms_ir_register_legacy_detection(OpRegistry& r) {
  r.add("PriorBox", "opset1", [](NodeContext& c) { return priorBox(c, false); });
  r.add("PriorBox", "opset8", [](NodeContext& c) { return priorBox(c, true); });
  r.add("RegionYolo", "opset1", regionYolo);
}

}  // namespace ovms::engine::ir
