// PriorBoxClustered (folded to a constant when its inputs are known, else the ovms.ir custom op),
// DetectionOutput v1/v8 and NonMaxSuppression v5/v9 (ovms.ir custom ops, see custom_ops.cpp).
#include <algorithm>
#include <cctype>

#include "engine/ir/detection_kernels.h"
#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

std::vector<Value> priorBoxClustered(NodeContext& c) {
  c.requireInputs(2, 2);
  kernels::PriorBoxClusteredAttrs a;
  a.widths = c.floats("width");
  a.heights = c.floats("height");
  a.variances = c.floats("variance");
  a.step_w = static_cast<float>(c.f("step_w", 0));
  a.step_h = static_cast<float>(c.f("step_h", 0));
  a.step = static_cast<float>(c.f("step", 0));
  a.offset = static_cast<float>(c.f("offset", 0.5));
  a.clip = c.b("clip", true);
  if (a.widths.size() != a.heights.size() || a.widths.empty()) c.fail("width and height must be non-empty lists of the same length");
  if (!a.variances.empty() && a.variances.size() != 1 && a.variances.size() != 4) c.fail("variance must have 1 or 4 values");
  if (c.in(0).isConst() && c.in(1).isConst()) {
    auto o = c.constInts(0), im = c.constInts(1);
    if (o.size() != 2 || im.size() != 2) c.fail("output_size and image_size must have 2 values");
    std::vector<float> v;
    try {
      v = kernels::priorBoxClustered(a, o[0], o[1], im[0], im[1]);
    } catch (const std::exception& e) {
      c.fail(e.what());
    }
    return {constantPriorBoxes(c, v)};
  }
  auto n = c.g.node("PriorBoxClustered", {castTo(c.g, c.in(0), TP::INT64), castTo(c.g, c.in(1), TP::INT64)}, 1, kCustomDomain);
  n.attr("widths", a.widths).attr("heights", a.heights).attr("step_w", a.step_w).attr("step_h", a.step_h).attr("step", a.step)
      .attr("offset", a.offset).attr("clip", static_cast<int64_t>(a.clip ? 1 : 0));
  if (!a.variances.empty()) n.attr("variances", a.variances);
  return {c.out(n.out(), TP::FLOAT)};
}

std::vector<Value> detectionOutput(NodeContext& c, bool v8) {
  c.requireInputs(3, 5);
  if (c.numInputs() != 3) c.fail("the 5-input form (ARM confidences/locations) is not supported");
  std::vector<std::string> ins;
  for (size_t k = 0; k < 3; ++k) ins.push_back(castTo(c.g, c.in(k), TP::FLOAT));
  auto n = c.g.node("DetectionOutput", ins, 1, kCustomDomain);
  if (!v8) n.attr("num_classes", c.iReq("num_classes"));
  n.attr("background_label_id", c.i("background_label_id", 0));
  n.attr("top_k", c.i("top_k", -1));
  auto kt = c.ints("keep_top_k", {-1});
  if (kt.empty()) c.fail("keep_top_k is empty");
  n.attr("keep_top_k", kt[0]);
  n.attr("code_type", c.str("code_type", "caffe.PriorBoxParameter.CORNER"));
  n.attr("share_location", static_cast<int64_t>(c.b("share_location", true)));
  n.attr("variance_encoded_in_target", static_cast<int64_t>(c.b("variance_encoded_in_target", false)));
  n.attr("normalized", static_cast<int64_t>(c.b("normalized", false)));
  n.attr("clip_before_nms", static_cast<int64_t>(c.b("clip_before_nms", false)));
  n.attr("clip_after_nms", static_cast<int64_t>(c.b("clip_after_nms", false)));
  n.attr("decrease_label_id", static_cast<int64_t>(c.b("decrease_label_id", false)));
  n.attr("confidence_threshold", static_cast<float>(c.f("confidence_threshold", 0)));
  n.attr("nms_threshold", static_cast<float>(c.f("nms_threshold", 0)));
  n.attr("input_height", c.i("input_height", 1));
  n.attr("input_width", c.i("input_width", 1));
  if (c.f("objectness_score", 0) != 0 && c.numInputs() == 3) {
    // objectness_score only matters with ARM inputs
  }
  return {c.out(n.out(), TP::FLOAT)};
}

std::vector<Value> nms(NodeContext& c) {
  c.requireInputs(2, 6);
  std::string enc = c.str("box_encoding", "corner");
  if (enc != "corner" && enc != "center") c.fail("unsupported box_encoding '" + enc + "'");
  int32_t ot = c.str("output_type", "i64") == "i32" ? TP::INT32 : TP::INT64;
  std::vector<std::string> ins{castTo(c.g, c.in(0), TP::FLOAT), castTo(c.g, c.in(1), TP::FLOAT)};
  auto scalar = [&](size_t i, int32_t t, double def) {
    std::string s = i < c.numInputs() ? castTo(c.g, c.in(i), t) : (t == TP::INT64 ? c.g.constI64({static_cast<int64_t>(def)}) : c.g.constF32({static_cast<float>(def)}));
    return c.g.op("Reshape", {s, c.g.constI64({-1})});
  };
  ins.push_back(scalar(2, TP::INT64, 0));
  ins.push_back(scalar(3, TP::FLOAT, 0));
  ins.push_back(scalar(4, TP::FLOAT, 0));
  ins.push_back(scalar(5, TP::FLOAT, 0));
  auto n = c.g.node("NonMaxSuppression", ins, 3, kCustomDomain);
  n.attr("center_point_box", static_cast<int64_t>(enc == "center" ? 1 : 0));
  n.attr("sort_result_descending", static_cast<int64_t>(c.b("sort_result_descending", true) ? 1 : 0));
  return {c.out(c.g.cast(n.out(0), TP::INT64, ot), ot, 0), c.out(n.out(1), TP::FLOAT, 1),
          c.out(c.g.cast(n.out(2), TP::INT64, ot), ot, 2)};
}

}  // namespace

void ovms_ir_register_detection(OpRegistry& r) {
  r.add("PriorBoxClustered", "opset1", priorBoxClustered);
  r.add("DetectionOutput", "opset1", [](NodeContext& c) { return detectionOutput(c, false); });
  r.add("DetectionOutput", "opset8", [](NodeContext& c) { return detectionOutput(c, true); });
  r.add("NonMaxSuppression", "opset5", nms);
  r.add("NonMaxSuppression", "opset9", nms);
}

}  // namespace ovms::engine::ir
