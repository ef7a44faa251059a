// Example custom node: crops the boxes an SSD-style detection model found and resizes every crop,
// so that a pipeline can run a second model once per detected object (demultiply_count: -1).
// Input and output names and params follow OVMS's model_zoo_intel_object_detection node, so its
// demo configs carry over.
//
//   input  "image"       FP32 [1, 3, H, W]   (NCHW, the picture the detector saw), or [1, H, W, 3]
//                                          with original_image_layout "NHWC" (e.g. a decoded JPEG)
//   input  "detection"   FP32 [1, 1, K, 7]   rows [image_id, label, confidence, x_min, y_min,
//                                              x_max, y_max], coordinates normalized to 0..1;
//                                              a row with image_id < 0 ends the list
//   output "images"      FP32 [N, 1, 3, target_image_height, target_image_width]
//   output "coordinates" FP32 [N, 1, 4]   (x_min, y_min, x_max, y_max, normalized)
//   output "confidences" FP32 [N, 1, 1]
//   params "target_image_width", "target_image_height" (required, > 0), "confidence_threshold"
//          (default 0.5), "max_output_batch" (default 100), "original_image_layout" ("NCHW", the
//          default, or "NHWC"). Crops are always NCHW.
// N is the number of boxes with confidence above the threshold (at most max_output_batch); it may
// be 0, which a dynamic demultiplexer reports as "no content".
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "node_utils.h"

using namespace example_nodes;

namespace {

struct Settings {
  int64_t width = 0, height = 0;
  float threshold = 0.5f;
  int64_t max_batch = 100;
  bool nhwc = false;  // layout of the input image
};

// Bilinear sample of one channel at (y, x) in source pixel coordinates; element (y, x) of the
// channel is plane[y * row + x * col].
float sample(const float* plane, int64_t h, int64_t w, int64_t row, int64_t col, float y, float x) {
  y = std::clamp(y, 0.0f, static_cast<float>(h - 1));
  x = std::clamp(x, 0.0f, static_cast<float>(w - 1));
  auto y0 = static_cast<int64_t>(std::floor(y)), x0 = static_cast<int64_t>(std::floor(x));
  int64_t y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, w - 1);
  float fy = y - static_cast<float>(y0), fx = x - static_cast<float>(x0);
  float top = plane[y0 * row + x0 * col] * (1 - fx) + plane[y0 * row + x1 * col] * fx;
  float bottom = plane[y1 * row + x0 * col] * (1 - fx) + plane[y1 * row + x1 * col] * fx;
  return top * (1 - fy) + bottom * fy;
}

void freeOutputs(CustomNodeTensor* outs, int count) {
  if (!outs) return;
  for (int i = 0; i < count; ++i) {
    std::free(outs[i].data);
    std::free(outs[i].dims);
  }
  std::free(outs);
}

}  // namespace

extern "C" {

OVMS_CUSTOM_NODE_EXPORT int initialize(void** manager, const CustomNodeParam* params, int paramsCount) {
  auto* s = new (std::nothrow) Settings();
  if (!s) return 1;
  bool ok = toInt(param(params, paramsCount, "target_image_width", ""), &s->width) &&
            toInt(param(params, paramsCount, "target_image_height", ""), &s->height) &&
            toFloat(param(params, paramsCount, "confidence_threshold", "0.5"), &s->threshold) &&
            toInt(param(params, paramsCount, "max_output_batch", "100"), &s->max_batch);
  std::string layout = param(params, paramsCount, "original_image_layout", "NCHW");
  s->nhwc = layout == "NHWC";
  if (!ok || (layout != "NCHW" && layout != "NHWC") || s->width <= 0 || s->height <= 0 || s->max_batch <= 0 || s->width > 8192 || s->height > 8192) {
    delete s;
    return 2;
  }
  *manager = s;
  return 0;
}

OVMS_CUSTOM_NODE_EXPORT int deinitialize(void* manager) {
  delete static_cast<Settings*>(manager);
  return 0;
}

OVMS_CUSTOM_NODE_EXPORT int execute(const CustomNodeTensor* inputs, int inputsCount, CustomNodeTensor** outputs,
                                    int* outputsCount, const CustomNodeParam*, int, void* manager) {
  const auto* s = static_cast<const Settings*>(manager);
  const CustomNodeTensor* image = findInput(inputs, inputsCount, "image");
  const CustomNodeTensor* det = findInput(inputs, inputsCount, "detection");
  if (!s || !image || !det) return 1;
  if (image->precision != FP32 || image->dimsCount != 4 || image->dims[0] != 1 || image->dims[s->nhwc ? 3 : 1] != 3)
    return 2;
  if (det->precision != FP32 || det->dimsCount != 4 || det->dims[3] != 7) return 3;
  const int64_t h = static_cast<int64_t>(image->dims[s->nhwc ? 1 : 2]);
  const int64_t w = static_cast<int64_t>(image->dims[s->nhwc ? 2 : 3]);
  if (h <= 0 || w <= 0 || image->dataBytes != static_cast<uint64_t>(3 * h * w) * sizeof(float)) return 4;
  const uint64_t rows = det->dims[0] * det->dims[1] * det->dims[2];
  if (det->dataBytes != rows * 7 * sizeof(float)) return 5;

  const auto* d = reinterpret_cast<const float*>(det->data);
  std::vector<const float*> boxes;
  for (uint64_t r = 0; r < rows && static_cast<int64_t>(boxes.size()) < s->max_batch; ++r) {
    const float* row = d + r * 7;
    if (row[0] < 0) break;
    if (row[2] < s->threshold) continue;
    if (!(row[5] > row[3]) || !(row[6] > row[4])) continue;  // empty or NaN box
    boxes.push_back(row);
  }
  const uint64_t n = boxes.size();
  const uint64_t crop_elems = 3 * static_cast<uint64_t>(s->width * s->height);

  auto* outs = static_cast<CustomNodeTensor*>(std::calloc(3, sizeof(CustomNodeTensor)));
  if (!outs) return 6;
  // malloc(0) may return null; keep every data pointer valid even for N = 0.
  outs[0] = {"images", static_cast<uint8_t*>(std::malloc(std::max<uint64_t>(1, n * crop_elems * sizeof(float)))),
             n * crop_elems * sizeof(float), newDims({n, 1, 3, static_cast<uint64_t>(s->height), static_cast<uint64_t>(s->width)}),
             5, FP32};
  outs[1] = {"coordinates", static_cast<uint8_t*>(std::malloc(std::max<uint64_t>(1, n * 4 * sizeof(float)))),
             n * 4 * sizeof(float), newDims({n, 1, 4}), 3, FP32};
  outs[2] = {"confidences", static_cast<uint8_t*>(std::malloc(std::max<uint64_t>(1, n * sizeof(float)))),
             n * sizeof(float), newDims({n, 1, 1}), 3, FP32};
  for (int i = 0; i < 3; ++i)
    if (!outs[i].data || !outs[i].dims) {
      freeOutputs(outs, 3);
      return 7;
    }

  const auto* img = reinterpret_cast<const float*>(image->data);
  auto* crops = reinterpret_cast<float*>(outs[0].data);
  auto* coords = reinterpret_cast<float*>(outs[1].data);
  auto* confs = reinterpret_cast<float*>(outs[2].data);
  for (uint64_t b = 0; b < n; ++b) {
    const float* row = boxes[b];
    float x0 = std::clamp(row[3], 0.0f, 1.0f), y0 = std::clamp(row[4], 0.0f, 1.0f);
    float x1 = std::clamp(row[5], 0.0f, 1.0f), y1 = std::clamp(row[6], 0.0f, 1.0f);
    coords[b * 4 + 0] = x0;
    coords[b * 4 + 1] = y0;
    coords[b * 4 + 2] = x1;
    coords[b * 4 + 3] = y1;
    confs[b] = row[2];
    // Box in source pixels; each target pixel samples the centre of its cell.
    float px0 = x0 * static_cast<float>(w), py0 = y0 * static_cast<float>(h);
    float bw = (x1 - x0) * static_cast<float>(w), bh = (y1 - y0) * static_cast<float>(h);
    for (int64_t c = 0; c < 3; ++c) {
      // NCHW: planes of h x w; NHWC: interleaved pixels of 3 values.
      const float* plane = s->nhwc ? img + c : img + c * h * w;
      const int64_t row = s->nhwc ? w * 3 : w, col = s->nhwc ? 3 : 1;
      float* dst = crops + b * crop_elems + static_cast<uint64_t>(c * s->width * s->height);
      for (int64_t ty = 0; ty < s->height; ++ty) {
        float sy = py0 + (static_cast<float>(ty) + 0.5f) * bh / static_cast<float>(s->height) - 0.5f;
        for (int64_t tx = 0; tx < s->width; ++tx) {
          float sx = px0 + (static_cast<float>(tx) + 0.5f) * bw / static_cast<float>(s->width) - 0.5f;
          dst[ty * s->width + tx] = sample(plane, h, w, row, col, sy, sx);
        }
      }
    }
  }
  *outputs = outs;
  *outputsCount = 3;
  return 0;
}

OVMS_CUSTOM_NODE_EXPORT int getInputsInfo(CustomNodeTensorInfo** info, int* infoCount, const CustomNodeParam*, int,
                                          void* manager) {
  const auto* s = static_cast<const Settings*>(manager);
  if (!s) return 1;
  auto* i = static_cast<CustomNodeTensorInfo*>(std::calloc(2, sizeof(CustomNodeTensorInfo)));
  if (!i) return 1;
  i[0] = {"image", s->nhwc ? newDims({1, 0, 0, 3}) : newDims({1, 3, 0, 0}), 4, FP32};
  i[1] = {"detection", newDims({1, 1, 0, 7}), 4, FP32};
  if (!i[0].dims || !i[1].dims) {
    std::free(i[0].dims);
    std::free(i[1].dims);
    std::free(i);
    return 2;
  }
  *info = i;
  *infoCount = 2;
  return 0;
}

OVMS_CUSTOM_NODE_EXPORT int getOutputsInfo(CustomNodeTensorInfo** info, int* infoCount, const CustomNodeParam*, int,
                                           void* manager) {
  const auto* s = static_cast<const Settings*>(manager);
  if (!s) return 1;
  auto* i = static_cast<CustomNodeTensorInfo*>(std::calloc(3, sizeof(CustomNodeTensorInfo)));
  if (!i) return 2;
  i[0] = {"images", newDims({0, 1, 3, static_cast<uint64_t>(s->height), static_cast<uint64_t>(s->width)}), 5, FP32};
  i[1] = {"coordinates", newDims({0, 1, 4}), 3, FP32};
  i[2] = {"confidences", newDims({0, 1, 1}), 3, FP32};
  if (!i[0].dims || !i[1].dims || !i[2].dims) {
    for (int k = 0; k < 3; ++k) std::free(i[k].dims);
    std::free(i);
    return 3;
  }
  *info = i;
  *infoCount = 3;
  return 0;
}

OVMS_CUSTOM_NODE_EXPORT int release(void* ptr, void*) {
  std::free(ptr);
  return 0;
}

}  // extern "C"
