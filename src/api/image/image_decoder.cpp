#include "api/image/image_decoder.h"

#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <utility>

#include "engine/half.h"
#include "serving/inference_request.h"

namespace ovms::api::image {
namespace {

using engine::floatToHalf;
using engine::halfToFloat;
using engine::Precision;

// ------------------------------------------------------------------------------------------------
// Element helpers
// ------------------------------------------------------------------------------------------------

size_t depthSize(Precision p) {
  switch (p) {
    case Precision::U8:
    case Precision::I8:
      return 1;
    case Precision::U16:
    case Precision::I16:
    case Precision::FP16:
      return 2;
    case Precision::I32:
    case Precision::FP32:
      return 4;
    case Precision::FP64:
      return 8;
    default:
      return 0;
  }
}

bool isSupportedPrecision(Precision p) { return depthSize(p) != 0; }

// saturate_cast<T>(double) as OpenCV does it: round half to even (cvRound), then clamp.
template <typename T>
T saturateFromFloating(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return 0;
    const double r = std::nearbyint(v);  // default rounding mode: to nearest even
    if (r <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
    if (r >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(r);
  }
}

template <typename T>
T saturateFromInt(int64_t v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (v < static_cast<int64_t>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
    if (v > static_cast<int64_t>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

// ------------------------------------------------------------------------------------------------
// JPEG (TurboJPEG)
// ------------------------------------------------------------------------------------------------

struct TjHandle {
  tjhandle h = nullptr;
  ~TjHandle() {
    if (h) tjDestroy(h);
  }
};

bool decodeJpeg(const unsigned char* data, size_t size, Image* out) {
  if (size > std::numeric_limits<unsigned long>::max()) return false;
  TjHandle tj;
  tj.h = tjInitDecompress();
  if (!tj.h) return false;
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(tj.h, data, static_cast<unsigned long>(size), &width, &height, &subsamp, &colorspace) != 0)
    return false;
  if (width <= 0 || height <= 0) return false;
  if (static_cast<int64_t>(width) * height > kMaxImagePixels) return false;

  int pixel_format = TJPF_BGR;
  int decode_channels = 3;
  if (colorspace == TJCS_GRAY) {
    pixel_format = TJPF_GRAY;
    decode_channels = 1;
  } else if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
    pixel_format = TJPF_CMYK;
    decode_channels = 4;
  }
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * decode_channels);
  int flags = 0;
#ifdef TJFLAG_LIMITSCANS
  flags |= TJFLAG_LIMITSCANS;  // refuse pathological progressive files (DoS guard)
#endif
  if (tjDecompress2(tj.h, data, static_cast<unsigned long>(size), pixels.data(), width, 0, height, pixel_format, flags) != 0) {
    // libjpeg warnings (e.g. "Premature end of JPEG file") still produce a full image; OpenCV's
    // decoder accepts them too (it only fails on errors).
    if (tjGetErrorCode(tj.h) != TJERR_WARNING) return false;
  }

  out->rows = height;
  out->cols = width;
  out->depth = Precision::U8;
  if (decode_channels == 4) {
    // OpenCV: icvCvt_CMYK2BGR_8u_C4C3R on libjpeg's (Adobe-inverted) CMYK output.
    out->channels = 3;
    out->data.resize(static_cast<size_t>(width) * height * 3);
    const size_t n = static_cast<size_t>(width) * height;
    for (size_t i = 0; i < n; ++i) {
      const int c = pixels[i * 4 + 0], m = pixels[i * 4 + 1], y = pixels[i * 4 + 2], k = pixels[i * 4 + 3];
      out->data[i * 3 + 2] = static_cast<uint8_t>(k - (((255 - c) * k) >> 8));
      out->data[i * 3 + 1] = static_cast<uint8_t>(k - (((255 - m) * k) >> 8));
      out->data[i * 3 + 0] = static_cast<uint8_t>(k - (((255 - y) * k) >> 8));
    }
  } else {
    out->channels = decode_channels;
    out->data = std::move(pixels);
  }
  return true;
}

// ------------------------------------------------------------------------------------------------
// PNG (libpng, the transforms of OpenCV's PngDecoder)
// ------------------------------------------------------------------------------------------------

struct PngSource {
  const unsigned char* data;
  size_t size;
  size_t offset;
};

void pngReadFn(png_structp png, png_bytep out, png_size_t length) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (src == nullptr || length > src->size - src->offset) png_error(png, "read past end of data");
  std::memcpy(out, src->data + src->offset, length);
  src->offset += length;
}

[[noreturn]] void pngErrorFn(png_structp png, png_const_charp) { png_longjmp(png, 1); }
void pngWarningFn(png_structp, png_const_charp) {}

// Everything that must survive a longjmp lives on the heap behind one pointer that is set before
// setjmp and never changed after it.
struct PngState {
  PngSource source{};
  std::vector<png_bytep> rows;
  Image image;
};

bool decodePngInto(PngState* st) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, pngErrorFn, pngWarningFn);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, &st->source, pngReadFn);
  png_set_user_limits(png, 1u << 20, 1u << 20);  // OpenCV's CV_IO_MAX_IMAGE_WIDTH/HEIGHT
  png_read_info(png, info);

  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, nullptr, nullptr, nullptr);
  if (width == 0 || height == 0 || static_cast<int64_t>(width) * static_cast<int64_t>(height) > kMaxImagePixels)
    png_error(png, "image too large");

  // PngDecoder::readHeader: the Mat type for IMREAD_UNCHANGED.
  int channels = 1;
  if (color_type == PNG_COLOR_TYPE_RGB || color_type == PNG_COLOR_TYPE_PALETTE) {
    png_bytep trans = nullptr;
    int num_trans = 0;
    png_color_16p trans_values = nullptr;
    png_get_tRNS(png, info, &trans, &num_trans, &trans_values);
    channels = num_trans > 0 ? 4 : 3;
  } else if (color_type == PNG_COLOR_TYPE_GRAY_ALPHA || color_type == PNG_COLOR_TYPE_RGB_ALPHA) {
    channels = 4;
  }
  const bool sixteen = bit_depth == 16;

  // PngDecoder::readData transforms.
  if (sixteen) png_set_swap(png);  // host (little-endian) order
  if (channels < 4)
    png_set_strip_alpha(png);
  else
    png_set_tRNS_to_alpha(png);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0 && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if ((color_type & PNG_COLOR_MASK_COLOR) && channels > 1)
    png_set_bgr(png);
  else if (channels > 1)
    png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);

  const size_t elem = sixteen ? 2 : 1;
  const size_t row_bytes = static_cast<size_t>(width) * channels * elem;
  if (png_get_rowbytes(png, info) != row_bytes) png_error(png, "unexpected row layout");

  Image& img = st->image;
  img.rows = static_cast<int>(height);
  img.cols = static_cast<int>(width);
  img.channels = channels;
  img.depth = sixteen ? Precision::U16 : Precision::U8;
  img.data.assign(row_bytes * height, 0);
  st->rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) st->rows[y] = img.data.data() + row_bytes * y;
  png_read_image(png, st->rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

bool decodePng(const unsigned char* data, size_t size, Image* out) {
  if (size < 8 || png_sig_cmp(data, 0, 8) != 0) return false;
  auto st = std::make_unique<PngState>();
  st->source = PngSource{data, size, 0};
  if (!decodePngInto(st.get())) return false;
  *out = std::move(st->image);
  return true;
}

// ------------------------------------------------------------------------------------------------
// Conversion (Mat::convertTo)
// ------------------------------------------------------------------------------------------------

template <typename S, typename D>
void convertLoop(const S* src, D* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if constexpr (std::is_floating_point_v<S>)
      dst[i] = saturateFromFloating<D>(static_cast<double>(src[i]));
    else
      dst[i] = saturateFromInt<D>(static_cast<int64_t>(src[i]));
  }
}

template <typename S>
bool convertFrom(const S* src, size_t n, Precision to, uint8_t* dst) {
  switch (to) {
    case Precision::U8: convertLoop(src, reinterpret_cast<uint8_t*>(dst), n); return true;
    case Precision::I8: convertLoop(src, reinterpret_cast<int8_t*>(dst), n); return true;
    case Precision::U16: convertLoop(src, reinterpret_cast<uint16_t*>(dst), n); return true;
    case Precision::I16: convertLoop(src, reinterpret_cast<int16_t*>(dst), n); return true;
    case Precision::I32: convertLoop(src, reinterpret_cast<int32_t*>(dst), n); return true;
    case Precision::FP32: convertLoop(src, reinterpret_cast<float*>(dst), n); return true;
    case Precision::FP64: convertLoop(src, reinterpret_cast<double*>(dst), n); return true;
    case Precision::FP16: {
      auto* h = reinterpret_cast<uint16_t*>(dst);
      for (size_t i = 0; i < n; ++i) h[i] = floatToHalf(static_cast<float>(src[i]));
      return true;
    }
    default:
      return false;
  }
}

// ------------------------------------------------------------------------------------------------
// Resize (cv::resize INTER_LINEAR, hal::resize + resizeGeneric_ + resizeAreaFast_)
// ------------------------------------------------------------------------------------------------

constexpr int kCoefBits = 11;
constexpr int kCoefScale = 1 << kCoefBits;

struct AxisTable {
  std::vector<int> ofs;  // source index (element units for x: sx * cn + k; rows for y)
  std::vector<float> a0, a1;
};

// Horizontal coefficients exactly as hal::resize computes them (float fx, borders clamped).
void horizontalTable(int src_w, int dst_w, int cn, double scale_x, AxisTable* t) {
  t->ofs.resize(static_cast<size_t>(dst_w));
  t->a0.resize(static_cast<size_t>(dst_w));
  t->a1.resize(static_cast<size_t>(dst_w));
  for (int dx = 0; dx < dst_w; ++dx) {
    float fx = static_cast<float>((dx + 0.5) * scale_x - 0.5);
    int sx = static_cast<int>(std::floor(fx));
    fx -= static_cast<float>(sx);
    if (sx < 0) {
      fx = 0.f;
      sx = 0;
    }
    if (sx >= src_w - 1) {
      fx = 0.f;
      sx = src_w - 1;
    }
    t->ofs[dx] = sx * cn;
    t->a0[dx] = 1.f - fx;
    t->a1[dx] = fx;
  }
}

// Vertical coefficients: no clamping of fy; the two source rows are clamped instead.
void verticalTable(int dst_h, double scale_y, AxisTable* t) {
  t->ofs.resize(static_cast<size_t>(dst_h));
  t->a0.resize(static_cast<size_t>(dst_h));
  t->a1.resize(static_cast<size_t>(dst_h));
  for (int dy = 0; dy < dst_h; ++dy) {
    float fy = static_cast<float>((dy + 0.5) * scale_y - 0.5);
    int sy = static_cast<int>(std::floor(fy));
    fy -= static_cast<float>(sy);
    t->ofs[dy] = sy;
    t->a0[dy] = 1.f - fy;
    t->a1[dy] = fy;
  }
}

int clampRow(int y, int h) { return y < 0 ? 0 : (y >= h ? h - 1 : y); }

short fixedCoef(float c) { return saturateFromFloating<short>(static_cast<double>(c * static_cast<float>(kCoefScale))); }

// U8: HResizeLinear<uchar,int,short,2048> + VResizeLinear<uchar,int,short,...> (fixed point).
void resizeU8(const uint8_t* src, int sh, int sw, int cn, uint8_t* dst, int dh, int dw, double sx_scale, double sy_scale) {
  AxisTable xt, yt;
  horizontalTable(sw, dw, cn, sx_scale, &xt);
  verticalTable(dh, sy_scale, &yt);
  std::vector<short> ia0(dw), ia1(dw);
  for (int dx = 0; dx < dw; ++dx) {
    ia0[dx] = fixedCoef(xt.a0[dx]);
    ia1[dx] = fixedCoef(xt.a1[dx]);
  }
  const int width = dw * cn;
  std::vector<int> h0(width), h1(width);
  auto hresize = [&](int y, std::vector<int>& d) {
    const uint8_t* s = src + static_cast<size_t>(y) * sw * cn;
    for (int dx = 0; dx < dw; ++dx) {
      const int base = xt.ofs[dx];
      const bool edge = base / cn >= sw - 1;  // dx >= xmax: S[sx] * ONE
      for (int k = 0; k < cn; ++k) {
        d[dx * cn + k] = edge ? s[base + k] * kCoefScale : s[base + k] * ia0[dx] + s[base + k + cn] * ia1[dx];
      }
    }
  };
  for (int dy = 0; dy < dh; ++dy) {
    const int sy = yt.ofs[dy];
    hresize(clampRow(sy, sh), h0);
    hresize(clampRow(sy + 1, sh), h1);
    const int b0 = fixedCoef(yt.a0[dy]);
    const int b1 = fixedCoef(yt.a1[dy]);
    uint8_t* d = dst + static_cast<size_t>(dy) * width;
    for (int x = 0; x < width; ++x) {
      d[x] = static_cast<uint8_t>((((b0 * (h0[x] >> 4)) >> 16) + ((b1 * (h1[x] >> 4)) >> 16) + 2) >> 2);
    }
  }
}

// Float paths: HResizeLinear<T, WT, AT, 1> + VResizeLinear<T, WT, AT, Cast<WT, T>>.
// WT = float for U16/I16/FP32 (and our FP16/I8/I32 extension), double for FP64.
template <typename T, typename WT, typename Load, typename Store>
void resizeFloatPath(const T* src, int sh, int sw, int cn, T* dst, int dh, int dw, double sx_scale, double sy_scale, Load load,
                     Store store) {
  AxisTable xt, yt;
  horizontalTable(sw, dw, cn, sx_scale, &xt);
  verticalTable(dh, sy_scale, &yt);
  const int width = dw * cn;
  std::vector<WT> h0(width), h1(width);
  auto hresize = [&](int y, std::vector<WT>& d) {
    const T* s = src + static_cast<size_t>(y) * sw * cn;
    for (int dx = 0; dx < dw; ++dx) {
      const int base = xt.ofs[dx];
      const bool edge = base / cn >= sw - 1;
      const WT a0 = static_cast<WT>(xt.a0[dx]), a1 = static_cast<WT>(xt.a1[dx]);
      for (int k = 0; k < cn; ++k) {
        d[dx * cn + k] = edge ? static_cast<WT>(load(s[base + k]))
                              : static_cast<WT>(load(s[base + k])) * a0 + static_cast<WT>(load(s[base + k + cn])) * a1;
      }
    }
  };
  for (int dy = 0; dy < dh; ++dy) {
    const int sy = yt.ofs[dy];
    hresize(clampRow(sy, sh), h0);
    hresize(clampRow(sy + 1, sh), h1);
    const WT b0 = static_cast<WT>(yt.a0[dy]), b1 = static_cast<WT>(yt.a1[dy]);
    T* d = dst + static_cast<size_t>(dy) * width;
    for (int x = 0; x < width; ++x) d[x] = store(h0[x] * b0 + h1[x] * b1);
  }
}

// resizeAreaFast_ for an exact 2x downscale of integer data (ResizeAreaFastVec: (a+b+c+d+2)>>2).
template <typename T>
void resizeHalfInt(const T* src, int sw, int cn, T* dst, int dh, int dw) {
  for (int dy = 0; dy < dh; ++dy) {
    const T* r0 = src + static_cast<size_t>(2 * dy) * sw * cn;
    const T* r1 = r0 + static_cast<size_t>(sw) * cn;
    T* d = dst + static_cast<size_t>(dy) * dw * cn;
    for (int dx = 0; dx < dw; ++dx) {
      for (int k = 0; k < cn; ++k) {
        const int i = 2 * dx * cn + k;
        const int sum = static_cast<int>(r0[i]) + r0[i + cn] + r1[i] + r1[i + cn];
        d[dx * cn + k] = static_cast<T>((sum + 2) >> 2);
      }
    }
  }
}

template <typename T>
T identity(T v) {
  return v;
}

// ------------------------------------------------------------------------------------------------
// Target dims
// ------------------------------------------------------------------------------------------------

struct Dim {
  enum Kind { ANY, STATIC, RANGE } kind = ANY;
  int64_t value = -1, min = 0, max = std::numeric_limits<int64_t>::max();
  bool match(int64_t v) const {
    switch (kind) {
      case ANY: return true;
      case STATIC: return v == value;
      case RANGE: return v >= min && v <= max;
    }
    return false;
  }
  std::string toString() const {
    switch (kind) {
      case ANY: return "-1";
      case STATIC: return std::to_string(value);
      case RANGE: return "[" + std::to_string(min) + "~" + std::to_string(max) + "]";
    }
    return "";
  }
  // updateTargetResolution: -1 → the image size; range → the image size clamped into it.
  int64_t resolve(int64_t image) const {
    switch (kind) {
      case ANY: return image;
      case STATIC: return value;
      case RANGE: return match(image) ? image : (image > max ? max : min);
    }
    return image;
  }
};

Dim makeDim(int64_t shape_value, int64_t lo, int64_t hi) {
  Dim d;
  if (shape_value >= 0) {
    d.kind = Dim::STATIC;
    d.value = shape_value;
  } else if (lo >= 0 || hi >= 0) {
    d.kind = Dim::RANGE;
    d.min = lo >= 0 ? lo : 0;
    d.max = hi >= 0 ? hi : std::numeric_limits<int64_t>::max();
  }
  return d;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Public pieces
// ------------------------------------------------------------------------------------------------

bool decodeImage(std::string_view encoded, Image* out) {
  if (out == nullptr || encoded.empty()) return false;
  const auto* data = reinterpret_cast<const unsigned char*>(encoded.data());
  const size_t size = encoded.size();
  Image img;
  bool ok = false;
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
    ok = decodeJpeg(data, size, &img);
  } else if (size >= 8 && png_sig_cmp(data, 0, 8) == 0) {
    ok = decodePng(data, size, &img);
  }
  if (!ok) return false;
  *out = std::move(img);
  return true;
}

bool convertImage(const Image& src, Precision to, Image* dst) {
  if (!isSupportedPrecision(to) || !isSupportedPrecision(src.depth) || dst == nullptr) return false;
  const size_t n = static_cast<size_t>(src.rows) * src.cols * src.channels;
  if (src.data.size() != n * depthSize(src.depth)) return false;
  Image out;
  out.rows = src.rows;
  out.cols = src.cols;
  out.channels = src.channels;
  out.depth = to;
  out.data.resize(n * depthSize(to));
  const uint8_t* p = src.data.data();
  bool ok = false;
  switch (src.depth) {
    case Precision::U8: ok = convertFrom(p, n, to, out.data.data()); break;
    case Precision::I8: ok = convertFrom(reinterpret_cast<const int8_t*>(p), n, to, out.data.data()); break;
    case Precision::U16: ok = convertFrom(reinterpret_cast<const uint16_t*>(p), n, to, out.data.data()); break;
    case Precision::I16: ok = convertFrom(reinterpret_cast<const int16_t*>(p), n, to, out.data.data()); break;
    case Precision::I32: ok = convertFrom(reinterpret_cast<const int32_t*>(p), n, to, out.data.data()); break;
    case Precision::FP32: ok = convertFrom(reinterpret_cast<const float*>(p), n, to, out.data.data()); break;
    case Precision::FP64: ok = convertFrom(reinterpret_cast<const double*>(p), n, to, out.data.data()); break;
    case Precision::FP16: {
      std::vector<float> tmp(n);
      const auto* h = reinterpret_cast<const uint16_t*>(p);
      for (size_t i = 0; i < n; ++i) tmp[i] = halfToFloat(h[i]);
      ok = convertFrom(tmp.data(), n, to, out.data.data());
      break;
    }
    default: break;
  }
  if (!ok) return false;
  *dst = std::move(out);
  return true;
}

bool resizeImage(const Image& src, int rows, int cols, Image* dst) {
  if (dst == nullptr || rows <= 0 || cols <= 0 || src.rows <= 0 || src.cols <= 0 || src.channels <= 0) return false;
  const size_t esz = depthSize(src.depth);
  if (esz == 0 || src.data.size() != static_cast<size_t>(src.rows) * src.cols * src.channels * esz) return false;
  Image out;
  out.rows = rows;
  out.cols = cols;
  out.channels = src.channels;
  out.depth = src.depth;
  out.data.resize(static_cast<size_t>(rows) * cols * src.channels * esz);
  if (rows == src.rows && cols == src.cols) {  // cv::resize: same size → copy
    out.data = src.data;
    *dst = std::move(out);
    return true;
  }
  const int sh = src.rows, sw = src.cols, cn = src.channels;
  // cv::resize: inv_scale = dsize / ssize; hal::resize: scale = 1 / inv_scale.
  const double scale_x = 1. / (static_cast<double>(cols) / sw);
  const double scale_y = 1. / (static_cast<double>(rows) / sh);
  const int iscale_x = static_cast<int>(std::nearbyint(scale_x));
  const int iscale_y = static_cast<int>(std::nearbyint(scale_y));
  const bool half = std::abs(scale_x - iscale_x) < std::numeric_limits<double>::epsilon() &&
                    std::abs(scale_y - iscale_y) < std::numeric_limits<double>::epsilon() && iscale_x == 2 && iscale_y == 2 &&
                    (cn == 1 || cn == 3 || cn == 4);
  const uint8_t* s = src.data.data();
  uint8_t* d = out.data.data();
  switch (src.depth) {
    case Precision::U8:
      if (half)
        resizeHalfInt(s, sw, cn, d, rows, cols);
      else
        resizeU8(s, sh, sw, cn, d, rows, cols, scale_x, scale_y);
      break;
    case Precision::U16:
      if (half)
        resizeHalfInt(reinterpret_cast<const uint16_t*>(s), sw, cn, reinterpret_cast<uint16_t*>(d), rows, cols);
      else
        resizeFloatPath<uint16_t, float>(reinterpret_cast<const uint16_t*>(s), sh, sw, cn, reinterpret_cast<uint16_t*>(d), rows, cols,
                                         scale_x, scale_y, identity<uint16_t>, [](float v) { return saturateFromFloating<uint16_t>(v); });
      break;
    case Precision::I16:
      if (half)
        resizeHalfInt(reinterpret_cast<const int16_t*>(s), sw, cn, reinterpret_cast<int16_t*>(d), rows, cols);
      else
        resizeFloatPath<int16_t, float>(reinterpret_cast<const int16_t*>(s), sh, sw, cn, reinterpret_cast<int16_t*>(d), rows, cols,
                                        scale_x, scale_y, identity<int16_t>, [](float v) { return saturateFromFloating<int16_t>(v); });
      break;
    case Precision::I8:  // not supported by cv::resize; float path, rounded
      resizeFloatPath<int8_t, float>(reinterpret_cast<const int8_t*>(s), sh, sw, cn, reinterpret_cast<int8_t*>(d), rows, cols, scale_x,
                                     scale_y, identity<int8_t>, [](float v) { return saturateFromFloating<int8_t>(v); });
      break;
    case Precision::I32:  // not supported by cv::resize; double path, rounded
      resizeFloatPath<int32_t, double>(reinterpret_cast<const int32_t*>(s), sh, sw, cn, reinterpret_cast<int32_t*>(d), rows, cols,
                                       scale_x, scale_y, identity<int32_t>, [](double v) { return saturateFromFloating<int32_t>(v); });
      break;
    case Precision::FP32:
      resizeFloatPath<float, float>(reinterpret_cast<const float*>(s), sh, sw, cn, reinterpret_cast<float*>(d), rows, cols, scale_x,
                                    scale_y, identity<float>, identity<float>);
      break;
    case Precision::FP64:
      resizeFloatPath<double, double>(reinterpret_cast<const double*>(s), sh, sw, cn, reinterpret_cast<double*>(d), rows, cols,
                                      scale_x, scale_y, identity<double>, identity<double>);
      break;
    case Precision::FP16:  // not supported by cv::resize; float path
      resizeFloatPath<uint16_t, float>(reinterpret_cast<const uint16_t*>(s), sh, sw, cn, reinterpret_cast<uint16_t*>(d), rows, cols,
                                       scale_x, scale_y, halfToFloat, floatToHalf);
      break;
    default:
      return false;
  }
  *dst = std::move(out);
  return true;
}

// ------------------------------------------------------------------------------------------------
// decodeImagesToTensor
// ------------------------------------------------------------------------------------------------

Status decodeImagesToTensor(const std::string& name, const std::vector<std::string_view>& images, const ImageTarget& target,
                            serving::InferenceInput* out) {
  if (out == nullptr) return StatusCode::INTERNAL_ERROR;
  // validateTensor
  if (!target.layout_is_nhwc_compatible) return StatusCode::UNSUPPORTED_LAYOUT;
  if (target.shape.size() != 4) return StatusCode::INVALID_SHAPE;

  const Dim batch = makeDim(target.shape[0], target.n_min, target.n_max);
  const Dim height = makeDim(target.shape[1], target.h_min, target.h_max);
  const Dim width = makeDim(target.shape[2], target.w_min, target.w_max);
  const Dim chans = makeDim(target.shape[3], -1, -1);
  const int64_t count = static_cast<int64_t>(images.size());
  if (count == 0 || !batch.match(count)) {
    if (batch.kind == Dim::ANY) return StatusCode::INVALID_BATCH_SIZE;
    return Status(StatusCode::INVALID_BATCH_SIZE,
                  "Expected: " + batch.toString() + "; Actual: " + std::to_string(count) + "; input name: " + name);
  }
  for (const auto& img : images)
    if (img.empty()) return target.empty_image_status;

  // Static (or range) H and W: every image is resized to them (§7.4); -1 keeps the image size, and
  // then all images of a batch must share one resolution.
  const bool resize_supported = target.layout_allows_resize && height.kind != Dim::ANY && width.kind != Dim::ANY;
  if ((height.kind == Dim::STATIC && height.value <= 0) || (width.kind == Dim::STATIC && width.value <= 0))
    return StatusCode::INVALID_SHAPE;

  int64_t target_h = 0, target_w = 0;
  int first_rows = 0, first_cols = 0, first_channels = 0;
  const size_t esz = depthSize(target.precision);
  std::vector<uint8_t> buffer;

  for (int64_t i = 0; i < count; ++i) {
    Image image;
    if (!decodeImage(images[static_cast<size_t>(i)], &image)) return StatusCode::IMAGE_PARSING_FAILED;

    // validateInput: resolution alignment (only when resizing is impossible), then channels.
    if (i > 0 && !resize_supported && (image.rows != first_rows || image.cols != first_cols))
      return StatusCode::BINARY_IMAGES_RESOLUTION_MISMATCH;
    const int64_t expected_channels = chans.kind == Dim::ANY ? (i > 0 ? first_channels : -1) : chans.value;
    if (expected_channels >= 0 && image.channels != expected_channels) return StatusCode::INVALID_NO_OF_CHANNELS;

    if (i == 0) {
      first_rows = image.rows;
      first_cols = image.cols;
      first_channels = image.channels;
      target_h = height.resolve(image.rows);
      target_w = width.resolve(image.cols);
      if (target_h <= 0 || target_w <= 0 || target_h > (1 << 20) || target_w > (1 << 20) || target_h * target_w > kMaxImagePixels)
        return StatusCode::INVALID_SHAPE;
    }

    if (image.depth != target.precision) {
      if (!isSupportedPrecision(target.precision)) return StatusCode::INVALID_PRECISION;
      Image converted;
      if (!convertImage(image, target.precision, &converted)) return StatusCode::INVALID_PRECISION;
      image = std::move(converted);
    }
    if (image.rows != target_h || image.cols != target_w) {
      if (!resize_supported) return StatusCode::INVALID_SHAPE;
      Image resized;
      if (!resizeImage(image, static_cast<int>(target_h), static_cast<int>(target_w), &resized)) return StatusCode::INTERNAL_ERROR;
      image = std::move(resized);
    }
    if (i == 0) {
      const size_t per_image = static_cast<size_t>(target_h) * static_cast<size_t>(target_w) * static_cast<size_t>(image.channels) * esz;
      buffer.reserve(per_image * static_cast<size_t>(count));
    }
    buffer.insert(buffer.end(), image.data.begin(), image.data.end());
  }

  out->name = name;
  out->storage.precision = target.precision;
  out->storage.shape = engine::Shape{count, target_h, target_w, static_cast<int64_t>(first_channels)};
  out->storage.bytes = std::move(buffer);
  out->tensor = out->storage.view();
  out->typed_values = false;
  out->value_count = 0;
  return StatusCode::OK;
}

bool isImageInput(const engine::TensorInfo& info, bool /*layout_allows_nhwc*/) {
  return info.shape.size() == 4 && info.precision != Precision::STRING;
}

}  // namespace ovms::api::image
