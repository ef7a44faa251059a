#include "api/binary_inputs.h"

#include "api/image/binary_input.h"

namespace ovms::api {

int inputIndex(const serving::Servable& servable, const std::string& name) {
  const auto& ins = servable.inputs();
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

bool acceptsImages(const serving::Servable& servable, int input_index) {
  if (input_index < 0) return false;
  return image::isImageInput(servable.inputs()[input_index], true);
}

Status decodeImages(const serving::Servable& servable, int input_index, const std::vector<std::string_view>& images,
                    StatusCode empty_status, serving::InferenceInput* out) {
  const auto& info = servable.inputs()[input_index];
  image::ImageTarget target;
  target.precision = info.precision;
  target.shape = info.shape;
  const auto& dims = servable.inputDims();
  if (static_cast<size_t>(input_index) < dims.size() && dims[input_index].size() == 4) {
    const auto& d = dims[input_index];
    auto range = [](const serving::Dimension& dim, int64_t* lo, int64_t* hi) {
      if (dim.min >= 0 && dim.max >= 0 && dim.min != dim.max) {
        *lo = dim.min;
        *hi = dim.max;
      }
    };
    range(d[0], &target.n_min, &target.n_max);
    range(d[1], &target.h_min, &target.h_max);
    range(d[2], &target.w_min, &target.w_max);
  }
  target.empty_image_status = empty_status;
  // The reference behaviour (§7.4): any layout compatible with N...HWC (NHWC, N?HWC, the default
  // N...) takes images, and static model H/W resize them. OVMS's own code resizes only for an
  // explicit NHWC layout; resizing for the default layout too is what clients of §7.4 expect.
  const auto& layouts = servable.inputLayouts();
  const std::string layout = static_cast<size_t>(input_index) < layouts.size() ? layouts[input_index] : "N...";
  target.layout_is_nhwc_compatible = nhwcCompatible(layout);
  target.layout_allows_resize = target.layout_is_nhwc_compatible;
  return image::decodeImagesToTensor(info.name, images, target, out);
}

}  // namespace ovms::api
