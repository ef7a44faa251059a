#include "serving/image_inputs.h"

#include "api/image/image_decoder.h"

namespace ovms::serving {

int inputIndex(const InferenceTarget& target, const std::string& name) {
  const auto& ins = target.inputs();
  for (size_t i = 0; i < ins.size(); ++i)
    if (ins[i].name == name) return static_cast<int>(i);
  return -1;
}

namespace {

// OVMS's validateLayout: the layout must intersect "N...HWC" for a rank-4 input. Expanded to 4
// positions ("..." becomes '?'), every position must be '?' or the letter NHWC expects there.
bool nhwcCompatible(const std::string& layout) {
  std::string full = layout;
  size_t etc = full.find("...");
  if (etc != std::string::npos) {
    size_t letters = full.size() - 3;
    if (letters > 4) return false;
    full.replace(etc, 3, std::string(4 - letters, '?'));
  }
  if (full.size() != 4) return false;
  static const char kNhwc[] = "NHWC";
  for (size_t i = 0; i < 4; ++i)
    if (full[i] != '?' && full[i] != kNhwc[i]) return false;
  return true;
}

}  // namespace

bool acceptsImages(const InferenceTarget& target, int input_index) {
  if (input_index < 0) return false;
  return api::image::isImageInput(target.inputs()[input_index], true);
}

Status decodeImages(const InferenceTarget& target, int input_index, const std::vector<std::string_view>& images,
                    StatusCode empty_status, InferenceInput* out) {
  const auto& info = target.inputs()[input_index];
  api::image::ImageTarget image_target;
  image_target.precision = info.precision;
  image_target.shape = info.shape;
  const auto& dims = target.inputDims();
  if (static_cast<size_t>(input_index) < dims.size() && dims[input_index].size() == 4) {
    const auto& d = dims[input_index];
    auto range = [](const Dimension& dim, int64_t* lo, int64_t* hi) {
      if (dim.min >= 0 && dim.max >= 0 && dim.min != dim.max) {
        *lo = dim.min;
        *hi = dim.max;
      }
    };
    range(d[0], &image_target.n_min, &image_target.n_max);
    range(d[1], &image_target.h_min, &image_target.h_max);
    range(d[2], &image_target.w_min, &image_target.w_max);
  }
  image_target.empty_image_status = empty_status;
  // The reference behaviour (§7.4): any layout compatible with N...HWC (NHWC, N?HWC, the default
  // N...) takes images, and static model H/W resize them. OVMS's own code resizes only for an
  // explicit NHWC layout; resizing for the default layout too is what clients of §7.4 expect.
  const auto& layouts = target.inputLayouts();
  const std::string layout = static_cast<size_t>(input_index) < layouts.size() ? layouts[input_index] : "N...";
  image_target.layout_is_nhwc_compatible = nhwcCompatible(layout);
  image_target.layout_allows_resize = image_target.layout_is_nhwc_compatible;
  return api::image::decodeImagesToTensor(info.name, images, image_target, out);
}

}  // namespace ovms::serving
