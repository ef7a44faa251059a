#pragma once
// Encoded (JPEG/PNG) images → NHWC model tensors, as OVMS does it with OpenCV
// (tensor_conversion.cpp / binaryutils.cpp; spec §7.4):
//   cv::imdecode(IMREAD_UNCHANGED) → BGR / BGRA / GRAY, 8- or 16-bit
//   → channel and resolution checks → Mat::convertTo(model precision) → cv::resize(INTER_LINEAR)
//   → one tensor of shape (number of images, H, W, C).
// Decoding uses libjpeg-turbo (TurboJPEG API) and libpng; resizing re-implements OpenCV's
// INTER_LINEAR arithmetic (fixed point for U8, float otherwise, and the 2x INTER_AREA shortcut).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/precision.h"
#include "engine/tensor.h"

namespace ovms::serving {
struct InferenceInput;
}

namespace ovms::api::image {

// The model input the images feed.
struct ImageTarget {
  // FP32, FP64, FP16, U8, I8, U16, I16, I32 are supported (OpenCV Mat depths); any other
  // precision → INVALID_PRECISION (reported after the first image decodes, as OVMS does).
  engine::Precision precision = engine::Precision::U8;
  // Model input shape, NHWC. Rank != 4 → INVALID_SHAPE. -1 = dynamic ("any") dimension.
  engine::Shape shape;
  // Optional ranges ("min:max" dims). Used for a dim whose shape value is -1 when either bound is
  // set (a missing bound is 0 / unbounded). A range H/W clamps the first image's size into the
  // range; a range N accepts a batch inside it. Ranges do not disable resizing; "any" dims do.
  int64_t h_min = -1, h_max = -1, w_min = -1, w_max = -1;
  int64_t n_min = -1, n_max = -1;
  // False (e.g. NCHW) → UNSUPPORTED_LAYOUT. True for layouts compatible with N...HWC: NHWC, N?HWC,
  // the default N..., unspecified.
  bool layout_is_nhwc_compatible = true;
  // Whether the layout lets images be resized. When true, resizing happens unless a shape dim is
  // "any" (-1 without a range; this includes N and C!); when false (or with an "any" dim) every
  // image must already have the model's H/W (else INVALID_SHAPE) and all images must share the
  // first one's resolution (else BINARY_IMAGES_RESOLUTION_MISMATCH). The caller decides:
  // serving/image_inputs.cpp sets it for every layout compatible with N...HWC, the default "N..."
  // included, as the reference behaviour (§7.4) asks (OVMS's own code resizes only for NHWC).
  bool layout_allows_resize = true;
  // Status for an empty image string: STRING_VAL_EMPTY for TFS string_val, BYTES_CONTENTS_EMPTY
  // for KServe bytes_contents / raw_input_contents.
  StatusCode empty_image_status = StatusCode::STRING_VAL_EMPTY;
};

// Decodes `images` (each one encoded JPEG or PNG) into one NHWC tensor for `target`, owned by
// out->storage, with out->tensor viewing it and out->name = name. Checks, in OVMS order:
//   layout → UNSUPPORTED_LAYOUT; rank 4 → INVALID_SHAPE;
//   batch (0 images, or a static/range N that does not match) → INVALID_BATCH_SIZE
//     ("Expected: N; Actual: M; input name: x" when N is static or a range; no details for 0 images
//     with a dynamic N);
//   any empty string → target.empty_image_status;
//   then per image: undecodable → IMAGE_PARSING_FAILED; resolution differs from the first image
//   when resizing is not supported → BINARY_IMAGES_RESOLUTION_MISMATCH; channels != C (or != the
//   first image's when C is -1) → INVALID_NO_OF_CHANNELS; unsupported precision →
//   INVALID_PRECISION; size != target H/W when resizing is not supported → INVALID_SHAPE.
// The target H/W come from the first image (static dims as is; range dims: the image size clamped
// into the range; -1: the image size); every image is resized to them.
Status decodeImagesToTensor(const std::string& name, const std::vector<std::string_view>& images, const ImageTarget& target,
                            serving::InferenceInput* out);

// True when a STRING/BYTES input aimed at this model input goes down the image path: OVMS picks it
// by rank alone (4-D, precision not STRING). The layout is checked later, by decodeImagesToTensor
// (→ UNSUPPORTED_LAYOUT), so `layout_allows_nhwc` does not change the answer; it is kept so callers
// can pass what they know.
bool isImageInput(const engine::TensorInfo& info, bool layout_allows_nhwc);

// ---- Lower-level pieces (exposed for tests and for other image users) ----

// An interleaved HWC image; `depth` is the element type of `data` (U8/U16 after decoding).
struct Image {
  int rows = 0;
  int cols = 0;
  int channels = 0;
  engine::Precision depth = engine::Precision::U8;
  std::vector<uint8_t> data;  // rows * cols * channels elements of `depth`, native byte order
};

// Largest decoded image accepted (pixels); larger ones fail like undecodable data.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

// cv::imdecode(buf, IMREAD_UNCHANGED) for JPEG and PNG: gray → 1 channel; colour → BGR; PNG with
// alpha (or colour PNG with tRNS) → BGRA; gray+alpha PNG → BGRA (B=G=R); CMYK JPEG → BGR; 16-bit PNG
// → U16. Returns false for anything else, or for broken data. Never reads outside `encoded`.
bool decodeImage(std::string_view encoded, Image* out);

// Mat::convertTo: saturating conversion to `to` (one of the supported precisions).
bool convertImage(const Image& src, engine::Precision to, Image* dst);

// cv::resize(src, dst, Size(cols, rows), 0, 0, INTER_LINEAR) for the depths OpenCV supports
// (U8 fixed point; U16/I16/FP32/FP64 float). FP16, I8 and I32 (which OpenCV rejects) are resized in
// float and rounded. rows/cols must be > 0.
bool resizeImage(const Image& src, int rows, int cols, Image* dst);

}  // namespace ovms::api::image
