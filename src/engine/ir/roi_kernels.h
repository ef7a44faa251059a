#pragma once
// Reference computations of OpenVINO ROIPooling (opset2) and Proposal (opset1 / opset4), used by the "ovms.ir"
// ONNX Runtime custom ops registered in roi_custom_ops.cpp. They follow the semantics of OpenVINO's reference
// implementations (roi_pooling.hpp, proposal.hpp) and the CPU plugin. All functions throw std::runtime_error on
// inconsistent shapes or data (e.g. a ROI batch id outside [0, N)).
#include <cstdint>
#include <string>
#include <vector>

namespace ovms::engine::ir::kernels {

// ---------------------------------------------------------------------------------------------------------
struct RoiPoolingAttrs {
  int64_t pooled_h = 1, pooled_w = 1;
  float spatial_scale = 1;
  bool bilinear = false;  // method "bilinear" (normalized ROI coordinates); otherwise "max"
};
// feat: [N, C, H, W]; rois: [num_rois, 5] rows (batch_id, x1, y1, x2, y2); out: [num_rois, C, pooled_h, pooled_w].
void roiPooling(const RoiPoolingAttrs& a, const float* feat, const std::vector<int64_t>& feat_shape, const float* rois,
                int64_t num_rois, float* out);

// ---------------------------------------------------------------------------------------------------------
struct ProposalAttrs {
  int64_t base_size = 1;
  int64_t pre_nms_topn = 1;
  int64_t post_nms_topn = 1;
  float nms_thresh = 0;
  int64_t feat_stride = 1;
  int64_t min_size = 1;
  std::vector<float> ratio, scale;
  bool clip_before_nms = true;
  bool clip_after_nms = false;
  bool normalize = false;
  float box_size_scale = 1;
  float box_coordinate_scale = 1;
  bool tensorflow = false;  // framework "tensorflow": no +1 pixel offset, unrounded ratios, shifted anchors, swapped x/y
};
// Anchors (ratio-major, scale-minor), laid out as four planes of K values: x0[K], y0[K], x1[K], y1[K].
std::vector<float> proposalAnchors(const ProposalAttrs& a);
// probs: [N, 2K, H, W] (channels K..2K-1 are the foreground scores); deltas: [N, 4K, H, W]; image_info: 3 or 4
// values (height, width, scale[, scale_w]). rois_out: [N * post_nms_topn, 5]; probs_out (may be null):
// [N * post_nms_topn]. Unused rows are zero; the first unused row of every image starts with -1.
void proposal(const ProposalAttrs& a, const float* probs, const std::vector<int64_t>& probs_shape, const float* deltas,
              const std::vector<int64_t>& deltas_shape, const float* image_info, int64_t image_info_size, float* rois_out,
              float* probs_out);

}  // namespace ovms::engine::ir::kernels
