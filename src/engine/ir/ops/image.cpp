// Interpolate (v4, v11) -> ONNX Resize; TopK (v1, v3, v11) -> ONNX TopK.
#include <algorithm>

#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

std::vector<Value> interpolate(NodeContext& c, bool v11) {
  if (v11) c.requireInputs(2, 3);
  else c.requireInputs(3, 4);
  const Value& x = c.in(0);
  if (!isFloatOnnx(x.type)) c.fail("only floating point inputs are supported");
  int64_t rank = c.rankOf(0);
  size_t axes_input = v11 ? 2 : 3;
  std::vector<int64_t> axes;
  if (c.numInputs() > axes_input) {
    axes = c.constInts(axes_input);
    for (auto& a : axes) a = normAxis(c, a, rank);
  } else {
    for (int64_t k = 0; k < rank; ++k) axes.push_back(k);
  }
  // Refused with a load error: ONNX Resize gains antialias only in opset 18 (the translation targets opset 17),
  // and Pillow's resampling filters have no ONNX counterpart.
  if (c.b("antialias", false)) c.fail("antialias is not supported (antialiased downscaling has no ONNX opset 17 equivalent)");
  std::string mode = c.strReq("mode");
  if (mode == "bilinear_pillow" || mode == "bicubic_pillow")
    c.fail("mode '" + mode + "' (Pillow-compatible resampling) is not supported");
  std::string onnx_mode;
  if (mode == "nearest") onnx_mode = "nearest";
  else if (mode == "linear" || mode == "linear_onnx") onnx_mode = "linear";
  else if (mode == "cubic") onnx_mode = "cubic";
  else c.fail("unsupported mode '" + mode + "'");
  std::string ctm = c.str("coordinate_transformation_mode", "half_pixel");
  if (ctm != "half_pixel" && ctm != "pytorch_half_pixel" && ctm != "asymmetric" && ctm != "tf_half_pixel_for_nn" && ctm != "align_corners")
    c.fail("unsupported coordinate_transformation_mode '" + ctm + "'");
  std::string nm = c.str("nearest_mode", "round_prefer_floor");
  if (nm != "round_prefer_floor" && nm != "round_prefer_ceil" && nm != "floor" && nm != "ceil") c.fail("unsupported nearest_mode '" + nm + "'");
  std::string data = x.name;
  auto pb = c.ints("pads_begin"), pe = c.ints("pads_end");
  bool padded = std::any_of(pb.begin(), pb.end(), [](int64_t v) { return v != 0; }) || std::any_of(pe.begin(), pe.end(), [](int64_t v) { return v != 0; });
  if (padded) {
    std::vector<int64_t> pads(static_cast<size_t>(2 * rank), 0);
    for (size_t k = 0; k < pb.size() && k < static_cast<size_t>(rank); ++k) pads[k] = pb[k];
    for (size_t k = 0; k < pe.size() && k < static_cast<size_t>(rank); ++k) pads[static_cast<size_t>(rank) + k] = pe[k];
    data = c.g.op("Pad", {data, c.g.constI64(pads)});
  }
  std::string scm = c.strReq("shape_calculation_mode");
  std::string axes_c = c.g.constI64(axes);
  std::string scales, sizes;
  if (scm == "sizes") {
    std::string sz = castTo(c.g, c.in(1), TP::INT64);
    sizes = c.g.node("ScatterElements", {c.g.op("Shape", {data}), axes_c, sz}).attr("axis", int64_t{0}).out();
  } else if (scm == "scales") {
    std::string sc = castTo(c.g, c.in(v11 ? 1 : 2), TP::FLOAT);
    scales = c.g.node("ScatterElements", {c.g.constF32(std::vector<float>(static_cast<size_t>(rank), 1.0f)), axes_c, sc}).attr("axis", int64_t{0}).out();
  } else {
    c.fail("unsupported shape_calculation_mode '" + scm + "'");
  }
  auto n = c.g.node("Resize", {data, "", scales, sizes});
  n.attr("mode", onnx_mode).attr("coordinate_transformation_mode", ctm);
  if (onnx_mode == "nearest") n.attr("nearest_mode", nm);
  if (onnx_mode == "cubic") n.attr("cubic_coeff_a", static_cast<float>(c.f("cube_coeff", -0.75)));
  // Resize drops trailing empty inputs poorly in some runtimes: keep the explicit list.
  if (sizes.empty()) n.proto()->mutable_input()->RemoveLast();
  Value v = c.out(n.out(), x.type);
  v.ir_type = x.ir_type;
  return {v};
}

// Interpolate-1: target_spatial_shape for `axes`; converted the way OpenVINO's ConvertInterpolate1ToInterpolate4
// does (nearest -> asymmetric/"simple" (floor), linear -> half_pixel unless align_corners, padded, or a 4-D input
// resized on axes {2, 3}, which stay asymmetric).
std::vector<Value> interpolate1(NodeContext& c) {
  c.requireInputs(2, 2);
  const Value& x = c.in(0);
  if (!isFloatOnnx(x.type)) c.fail("only floating point inputs are supported");
  int64_t rank = c.rankOf(0);
  auto axes = c.ints("axes");
  if (axes.empty()) c.fail("missing attribute 'axes'");
  for (auto& a : axes) a = normAxis(c, a, rank);
  if (c.b("antialias", false)) c.fail("antialias is not supported (antialiased downscaling has no ONNX opset 17 equivalent)");
  std::string mode = c.strReq("mode");
  bool align = c.b("align_corners", true);
  auto pb = c.ints("pads_begin"), pe = c.ints("pads_end");
  bool padded = std::any_of(pb.begin(), pb.end(), [](int64_t v) { return v != 0; }) || std::any_of(pe.begin(), pe.end(), [](int64_t v) { return v != 0; });
  if (padded) c.fail("pads are not supported");
  std::string onnx_mode, ctm = "asymmetric";
  if (mode == "nearest") onnx_mode = "nearest";
  else if (mode == "linear" || mode == "linear_onnx") onnx_mode = "linear";
  else if (mode == "cubic") onnx_mode = "cubic";
  else c.fail("unsupported mode '" + mode + "'");
  std::vector<int64_t> sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  if (align) ctm = "align_corners";
  else if (onnx_mode == "linear" && !(rank == 4 && sorted == std::vector<int64_t>{2, 3})) ctm = "half_pixel";
  std::string sz = castTo(c.g, c.in(1), TP::INT64);
  std::string sizes = c.g.node("ScatterElements", {c.g.op("Shape", {x.name}), c.g.constI64(axes), sz}).attr("axis", int64_t{0}).out();
  auto n = c.g.node("Resize", {x.name, "", "", sizes});
  n.attr("mode", onnx_mode).attr("coordinate_transformation_mode", ctm);
  if (onnx_mode == "nearest") n.attr("nearest_mode", "floor");
  if (onnx_mode == "cubic") n.attr("cubic_coeff_a", -0.75f);
  Value v = c.out(n.out(), x.type);
  v.ir_type = x.ir_type;
  return {v};
}

std::vector<Value> topK(NodeContext& c, bool has_index_type) {
  c.requireInputs(2, 2);
  const Value& x = c.in(0);
  int64_t rank = c.rankOf(0);
  int64_t axis = normAxis(c, c.iReq("axis"), rank);
  std::string mode = c.strReq("mode");
  if (mode != "max" && mode != "min") c.fail("unsupported mode '" + mode + "'");
  std::string sort = c.str("sort", "none");
  if (sort != "value" && sort != "index" && sort != "none") c.fail("unsupported sort '" + sort + "'");
  int32_t it = TP::INT32;
  if (has_index_type) it = c.str("index_element_type", "i32") == "i64" ? TP::INT64 : TP::INT32;
  int32_t t = x.type;
  int32_t ct = ortArithmeticType(t) ? t : widenedType(t);
  std::string k = c.g.op("Reshape", {castTo(c.g, c.in(1), TP::INT64), c.g.constI64({1})});
  auto n = c.g.node("TopK", {c.g.cast(x.name, t, ct), k}, 2);
  n.attr("axis", axis).attr("largest", static_cast<int64_t>(mode == "max" ? 1 : 0)).attr("sorted", int64_t{1});
  std::string vals = n.out(0), idx = n.out(1);
  if (sort == "index") {
    auto s = c.g.node("TopK", {idx, k}, 2);
    s.attr("axis", axis).attr("largest", int64_t{0}).attr("sorted", int64_t{1});
    vals = c.g.node("GatherElements", {vals, s.out(1)}).attr("axis", axis).out();
    idx = s.out(0);
  }
  Value v0 = c.out(c.g.cast(vals, ct, t), t, 0);
  v0.ir_type = x.ir_type;
  return {v0, c.out(c.g.cast(idx, TP::INT64, it), it, 1)};
}

}  // namespace

void ovms_ir_register_image(OpRegistry& r) {
  r.add("Interpolate", "opset1", interpolate1);
  r.add("Interpolate", "opset4", [](NodeContext& c) { return interpolate(c, false); });
  r.add("Interpolate", "opset11", [](NodeContext& c) { return interpolate(c, true); });
  r.add("TopK", "opset1", [](NodeContext& c) { return topK(c, false); });
  r.add("TopK", "opset3", [](NodeContext& c) { return topK(c, true); });
  r.add("TopK", "opset11", [](NodeContext& c) { return topK(c, true); });
}

}  // namespace ovms::engine::ir
