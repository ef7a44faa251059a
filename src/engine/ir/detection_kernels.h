#pragma once
// Reference computations of OpenVINO detection ops, shared by the ORT custom ops and translation-time folding.
#include <cstdint>
#include <string>
#include <vector>

namespace ovms::engine::ir::kernels {

struct PriorBoxClusteredAttrs {
  std::vector<float> widths, heights, variances;
  float step_w = 0, step_h = 0, step = 0, offset = 0.5f;
  bool clip = false;
};
// Output: [2, 4 * layer_h * layer_w * num_priors] flattened (boxes row, then variances row).
std::vector<float> priorBoxClustered(const PriorBoxClusteredAttrs& a, int64_t layer_h, int64_t layer_w, int64_t img_h, int64_t img_w);

// PriorBox (v0, v8): boxes for every cell of an H x W feature map on an IH x IW image.
struct PriorBoxAttrs {
  std::vector<float> min_size, max_size, aspect_ratio, density, fixed_ratio, fixed_size, variance;
  bool clip = false, flip = false, scale_all_sizes = true, min_max_order = true;
  float step = 0, offset = 0.5f;
};
// Output: [2, 4 * H * W * priors] flattened (normalized corners xmin, ymin, xmax, ymax; then the variances row).
std::vector<float> priorBox(const PriorBoxAttrs& a, int64_t H, int64_t W, int64_t IH, int64_t IW);

struct DetectionOutputAttrs {
  int64_t num_classes = -1;  // -1: derive from the conf input (v8)
  int64_t background_label_id = 0;
  int64_t top_k = -1;
  int64_t keep_top_k = -1;
  std::string code_type = "caffe.PriorBoxParameter.CORNER";
  bool share_location = true;
  bool variance_encoded_in_target = false;
  bool normalized = false;
  bool clip_before_nms = false;
  bool clip_after_nms = false;
  bool decrease_label_id = false;
  float confidence_threshold = 0;
  float nms_threshold = 0;
  int64_t input_height = 1, input_width = 1;
};
// Throws std::runtime_error on inconsistent shapes. Writes rows of 7 values into `out` (resized to rows*7).
// Returns the number of rows of the output ([1, 1, rows, 7]).
int64_t detectionOutput(const DetectionOutputAttrs& a, const float* loc, const std::vector<int64_t>& loc_shape,
                        const float* conf, const std::vector<int64_t>& conf_shape, const float* priors,
                        const std::vector<int64_t>& prior_shape, std::vector<float>& out);
int64_t detectionOutputRows(const DetectionOutputAttrs& a, int64_t batch, int64_t num_classes, int64_t num_priors);

struct NmsAttrs {
  bool center_point_box = false;
  bool sort_result_descending = true;
};
struct NmsResult {
  std::vector<int64_t> indices;  // M x 3
  std::vector<float> scores;     // M x 3
};
NmsResult nonMaxSuppression(const NmsAttrs& a, const float* boxes, int64_t batches, int64_t num_boxes, const float* scores,
                            int64_t num_classes, int64_t max_out_per_class, float iou_threshold, float score_threshold,
                            float soft_nms_sigma);

}  // namespace ovms::engine::ir::kernels
