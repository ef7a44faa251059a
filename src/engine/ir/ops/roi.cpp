// ROIPooling (opset2) and Proposal (opset1, opset4): ovms.ir custom ops (kernels in roi_kernels.cpp, ORT ops in
// roi_custom_ops.cpp). Inputs are computed in f32; the outputs are cast back to the feature map's compute type.
#include <cmath>

#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

// Rank of input i when known (value or XML port), else -1.
int64_t knownRank(const NodeContext& c, size_t i) {
  const Value& v = c.in(i);
  if (v.rank >= 0) return v.rank;
  if (i < c.layer.inputs.size() && c.layer.inputs[i].has_dims) return static_cast<int64_t>(c.layer.inputs[i].dims.size());
  return -1;
}

// Dimension d of input i when statically known, else -1.
int64_t knownDim(const NodeContext& c, size_t i, size_t d) {
  const Value& v = c.in(i);
  if (v.rank >= 0 && d < v.dims.size()) return v.dims[d];
  return -1;
}

void requireFloat(const NodeContext& c, size_t i, const char* what) {
  if (!isFloatOnnx(c.in(i).type)) c.fail(std::string(what) + " must be a floating point tensor, got " + onnxTypeName(c.in(i).type));
}

// Casts a FLOAT custom-op output back to `type` (the compute type of the layer's data input).
Value floatOut(NodeContext& c, const std::string& name, int32_t type, size_t index) {
  if (type == TP::FLOAT) return c.out(name, TP::FLOAT, index);
  return c.out(c.g.cast(name, TP::FLOAT, type), type, index);
}

std::vector<Value> roiPooling(NodeContext& c) {
  c.requireInputs(2, 2);
  requireFloat(c, 0, "feature maps input");
  requireFloat(c, 1, "rois input");
  int64_t r0 = knownRank(c, 0), r1 = knownRank(c, 1);
  if (r0 >= 0 && r0 != 4) c.fail("expected a 4-D feature maps input [N, C, H, W], got rank " + std::to_string(r0));
  if (r1 >= 0 && r1 != 2) c.fail("expected a 2-D rois input [num_rois, 5], got rank " + std::to_string(r1));
  int64_t box = knownDim(c, 1, 1);
  if (box >= 0 && box != 5) c.fail("the second dimension of rois must be 5 (batch_id, x1, y1, x2, y2), got " + std::to_string(box));
  int64_t ph = c.iReq("pooled_h"), pw = c.iReq("pooled_w");
  if (ph < 1 || pw < 1) c.fail("pooled_h and pooled_w must be positive, got " + std::to_string(ph) + " and " + std::to_string(pw));
  if (!c.has("spatial_scale")) c.fail("missing attribute 'spatial_scale'");
  double scale = c.f("spatial_scale", 1);
  if (!std::isnormal(scale) || scale < 0) c.fail("spatial_scale must be a positive number, got " + c.str("spatial_scale", ""));
  std::string method = c.str("method", "max");
  if (method != "max" && method != "bilinear") c.fail("method must be 'max' or 'bilinear', got '" + method + "'");
  auto n = c.g.node("ROIPooling", {castTo(c.g, c.in(0), TP::FLOAT), castTo(c.g, c.in(1), TP::FLOAT)}, 1, kCustomDomain);
  n.attr("pooled_h", ph).attr("pooled_w", pw).attr("spatial_scale", static_cast<float>(scale)).attr("method", method);
  return {floatOut(c, n.out(), c.in(0).type, 0)};
}

std::vector<Value> proposal(NodeContext& c, bool v4) {
  c.requireInputs(3, 3);
  requireFloat(c, 0, "class_probs");
  requireFloat(c, 1, "bbox_deltas");
  int64_t rp = knownRank(c, 0), rd = knownRank(c, 1), ri = knownRank(c, 2);
  if (rp >= 0 && rp != 4) c.fail("class_probs must be 4-D [N, 2K, H, W], got rank " + std::to_string(rp));
  if (rd >= 0 && rd != 4) c.fail("bbox_deltas must be 4-D [N, 4K, H, W], got rank " + std::to_string(rd));
  if (ri >= 0 && ri != 1) c.fail("image_shape must be 1-D with 3 or 4 elements, got rank " + std::to_string(ri));
  int64_t isz = knownDim(c, 2, 0);
  if (isz >= 0 && isz != 3 && isz != 4) c.fail("image_shape must have 3 or 4 elements, got " + std::to_string(isz));

  int64_t base_size = c.iReq("base_size"), pre = c.iReq("pre_nms_topn"), post = c.iReq("post_nms_topn");
  int64_t feat_stride = c.i("feat_stride", 1), min_size = c.i("min_size", 1);
  if (base_size < 1) c.fail("base_size must be positive");
  if (pre < 1) c.fail("pre_nms_topn must be positive");
  if (post < 1) c.fail("post_nms_topn must be positive");
  if (feat_stride < 1) c.fail("feat_stride must be positive");
  if (min_size < 0) c.fail("min_size must not be negative");
  auto ratio = c.floats("ratio"), scale = c.floats("scale");
  if (ratio.empty() || scale.empty()) c.fail("ratio and scale must be non-empty lists");
  for (float r : ratio)
    if (!(r > 0) || !std::isfinite(r)) c.fail("ratio values must be positive");
  std::string fw = c.str("framework", "");
  if (fw != "" && fw != "caffe" && fw != "tensorflow") c.fail("unsupported framework '" + fw + "' (expected '' or 'tensorflow')");
  const int64_t K = static_cast<int64_t>(ratio.size() * scale.size());
  int64_t cp = knownDim(c, 0, 1), cd = knownDim(c, 1, 1);
  if (cp >= 0 && cp != 2 * K)
    c.fail("class_probs has " + std::to_string(cp) + " channels, expected 2 * " + std::to_string(K) + " (ratio x scale anchors)");
  if (cd >= 0 && cd != 4 * K)
    c.fail("bbox_deltas has " + std::to_string(cd) + " channels, expected 4 * " + std::to_string(K) + " (ratio x scale anchors)");
  for (size_t d : {size_t{0}, size_t{2}, size_t{3}}) {
    int64_t a = knownDim(c, 0, d), b = knownDim(c, 1, d);
    if (a >= 0 && b >= 0 && a != b) c.fail("class_probs and bbox_deltas differ in dimension " + std::to_string(d));
  }

  std::vector<std::string> ins{castTo(c.g, c.in(0), TP::FLOAT), castTo(c.g, c.in(1), TP::FLOAT), castTo(c.g, c.in(2), TP::FLOAT)};
  auto n = c.g.node("Proposal", ins, v4 ? 2 : 1, kCustomDomain);
  n.attr("base_size", base_size).attr("pre_nms_topn", pre).attr("post_nms_topn", post);
  n.attr("nms_thresh", static_cast<float>(c.f("nms_thresh", 0))).attr("feat_stride", feat_stride).attr("min_size", min_size);
  n.attr("ratio", ratio).attr("scale", scale);
  n.attr("clip_before_nms", static_cast<int64_t>(c.b("clip_before_nms", true)));
  n.attr("clip_after_nms", static_cast<int64_t>(c.b("clip_after_nms", false)));
  n.attr("normalize", static_cast<int64_t>(c.b("normalize", false)));
  n.attr("box_size_scale", static_cast<float>(c.f("box_size_scale", 1)));
  n.attr("box_coordinate_scale", static_cast<float>(c.f("box_coordinate_scale", 1)));
  n.attr("tensorflow", static_cast<int64_t>(fw == "tensorflow"));
  int32_t t = c.in(0).type;
  std::vector<Value> outs{floatOut(c, n.out(0), t, 0)};
  if (v4) outs.push_back(floatOut(c, n.out(1), t, 1));
  return outs;
}

}  // namespace

void ovms_ir_register_roi(OpRegistry& r) {
  r.add("ROIPooling", "opset2", roiPooling);
  r.add("ROIPooling", "opset1", roiPooling);  // older IRs label the same op opset1
  r.add("Proposal", "opset1", [](NodeContext& c) { return proposal(c, false); });
  r.add("Proposal", "opset4", [](NodeContext& c) { return proposal(c, true); });
}

}  // namespace ovms::engine::ir
