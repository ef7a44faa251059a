// Tests of the binary (JPEG/PNG) input decoding: fixture pixels against PIL's decoding
// (tests/image/make_fixtures.py), OpenCV-compatible INTER_LINEAR resizing against an independent
// bilinear formula, precision conversion, every OVMS error case, and fuzzed inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "api/image/image_decoder.h"
#include "serving/inference_request.h"

namespace {

using ovms::StatusCode;
using ovms::api::image::decodeImage;
using ovms::api::image::decodeImagesToTensor;
using ovms::api::image::Image;
using ovms::api::image::ImageTarget;
using ovms::engine::Precision;
using ovms::serving::InferenceInput;

std::string readFile(const std::string& name) {
  std::ifstream f(std::string(OVMS_IMAGE_TEST_DATA) + "/" + name, std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

struct Pix {
  int rows = 0, cols = 0, channels = 0, bits = 0;
  std::string raw;
  int at(size_t i) const {
    if (bits == 16) return static_cast<uint8_t>(raw[2 * i]) | (static_cast<uint8_t>(raw[2 * i + 1]) << 8);
    return static_cast<uint8_t>(raw[i]);
  }
  size_t count() const { return static_cast<size_t>(rows) * cols * channels; }
};

Pix readPix(const std::string& name) {
  std::string all = readFile(name + ".pix");
  Pix p;
  auto nl = all.find('\n');
  std::istringstream header(all.substr(0, nl));
  header >> p.rows >> p.cols >> p.channels >> p.bits;
  p.raw = all.substr(nl + 1);
  EXPECT_EQ(p.raw.size(), p.count() * (p.bits / 8)) << name;
  return p;
}

Image decoded(const std::string& name) {
  Image img;
  EXPECT_TRUE(decodeImage(readFile(name), &img)) << name;
  return img;
}

template <typename T>
T elem(const Image& img, size_t i) {
  T v;
  std::memcpy(&v, img.data.data() + i * sizeof(T), sizeof(T));
  return v;
}

template <typename T>
T elem(const InferenceInput& in, size_t i) {
  T v;
  std::memcpy(&v, static_cast<const uint8_t*>(in.tensor.data) + i * sizeof(T), sizeof(T));
  return v;
}

float halfToFloatRef(uint16_t h) {
  const int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v = exp == 0 ? std::ldexp(static_cast<float>(mant), -24) : std::ldexp(static_cast<float>(mant + 1024), exp - 25);
  return (h & 0x8000) ? -v : v;
}

// Independent bilinear reference with half-pixel centres and clamped source coordinates
// (what OpenCV's INTER_LINEAR computes, up to its fixed-point rounding for 8-bit data).
double bilinearRef(const Image& src, int dst_rows, int dst_cols, int y, int x, int c) {
  auto coord = [](int d, int src_n, int dst_n, int* i0, int* i1, double* w) {
    double f = (d + 0.5) * static_cast<double>(src_n) / dst_n - 0.5;
    f = std::clamp(f, 0.0, static_cast<double>(src_n - 1));
    *i0 = static_cast<int>(std::floor(f));
    *i1 = std::min(*i0 + 1, src_n - 1);
    *w = f - *i0;
  };
  int y0, y1, x0, x1;
  double wy, wx;
  coord(y, src.rows, dst_rows, &y0, &y1, &wy);
  coord(x, src.cols, dst_cols, &x0, &x1, &wx);
  auto px = [&](int yy, int xx) {
    return static_cast<double>(src.data[(static_cast<size_t>(yy) * src.cols + xx) * src.channels + c]);
  };
  return (1 - wy) * ((1 - wx) * px(y0, x0) + wx * px(y0, x1)) + wy * ((1 - wx) * px(y1, x0) + wx * px(y1, x1));
}

ImageTarget target(Precision p, ovms::engine::Shape shape) {
  ImageTarget t;
  t.precision = p;
  t.shape = std::move(shape);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

struct FixtureCase {
  const char* name;
  int tolerance;  // JPEG: libjpeg-turbo (TurboJPEG) vs PIL's libjpeg may differ by ±1-2; PNG: exact
};

class FixtureDecode : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(FixtureDecode, MatchesPilPixelsInOpenCvChannelOrder) {
  const auto& fc = GetParam();
  Pix expected = readPix(fc.name);
  Image img = decoded(fc.name);
  ASSERT_EQ(img.rows, expected.rows);
  ASSERT_EQ(img.cols, expected.cols);
  ASSERT_EQ(img.channels, expected.channels);
  ASSERT_EQ(img.depth, expected.bits == 16 ? Precision::U16 : Precision::U8);
  int max_diff = 0;
  for (size_t i = 0; i < expected.count(); ++i) {
    const int got = expected.bits == 16 ? elem<uint16_t>(img, i) : img.data[i];
    max_diff = std::max(max_diff, std::abs(got - expected.at(i)));
  }
  RecordProperty("max_abs_diff", max_diff);
  EXPECT_LE(max_diff, fc.tolerance) << fc.name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureDecode,
                         ::testing::Values(FixtureCase{"color.jpg", 2}, FixtureCase{"gray.jpg", 2}, FixtureCase{"color.png", 0},
                                           FixtureCase{"gray.png", 0}, FixtureCase{"rgba.png", 0}, FixtureCase{"gray_alpha.png", 0},
                                           FixtureCase{"palette_trns.png", 0}, FixtureCase{"rgb_trns.png", 0},
                                           FixtureCase{"gray16.png", 0}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

TEST(ImageDecode, CmykJpegBecomesThreeChannels) {
  Image img = decoded("cmyk.jpg");
  EXPECT_EQ(img.rows, 12);
  EXPECT_EQ(img.cols, 16);
  EXPECT_EQ(img.channels, 3);
  EXPECT_EQ(img.depth, Precision::U8);
}

TEST(ImageDecode, RejectsNonImages) {
  Image img;
  EXPECT_FALSE(decodeImage("", &img));
  EXPECT_FALSE(decodeImage("INVALID IMAGE", &img));
  EXPECT_FALSE(decodeImage(std::string("\xFF\xD8\xFF", 3), &img));
  EXPECT_FALSE(decodeImage(std::string("\x89PNG\r\n\x1a\n", 8), &img));
  EXPECT_FALSE(decodeImage("GIF89a", &img));
}

TEST(ImageDecode, PngWithTrailingBytesStillDecodes) {
  Image img;
  EXPECT_TRUE(decodeImage(readFile("gray.png") + "trailing garbage", &img));
  EXPECT_EQ(img.channels, 1);
}

TEST(ImageDecode, PngWithoutIendFailsLikeOpenCv) {
  std::string png = readFile("gray.png");
  Image img;
  EXPECT_FALSE(decodeImage(png.substr(0, png.size() - 12), &img));  // drop the IEND chunk
}

// Corrupted data must never crash or read out of bounds (run under ASan with -DOVMS_SANITIZE=ON).
TEST(ImageDecode, FuzzedFixturesNeverCrash) {
  const char* names[] = {"color.jpg", "gray.jpg", "cmyk.jpg", "color.png", "gray.png", "rgba.png",
                         "gray_alpha.png", "palette_trns.png", "rgb_trns.png", "gray16.png"};
  // OVMS_IMAGE_FUZZ_ROUNDS raises the number of random corruptions per fixture (default 300).
  const char* env = std::getenv("OVMS_IMAGE_FUZZ_ROUNDS");
  const int rounds = env ? std::max(1, std::atoi(env)) : 300;
  std::mt19937 rng(env ? static_cast<unsigned>(std::atoi(env)) : 12345u);
  size_t decoded_count = 0, failed_count = 0;
  for (const char* name : names) {
    const std::string good = readFile(name);
    auto check = [&](const std::string& data) {
      Image img;
      int channels = 3;
      if (decodeImage(data, &img)) {
        channels = img.channels;
        ++decoded_count;
        ASSERT_GT(img.rows, 0);
        ASSERT_EQ(img.data.size(), static_cast<size_t>(img.rows) * img.cols * img.channels * (img.depth == Precision::U16 ? 2 : 1));
      } else {
        ++failed_count;
      }
      // The full path too: errors must be IMAGE_PARSING_FAILED or channel/shape ones, never a crash.
      InferenceInput in;
      auto st = decodeImagesToTensor("x", {data}, target(Precision::FP32, {1, 8, 8, channels}), &in);
      if (!data.empty()) {
        EXPECT_TRUE(st.ok() || st.code() == StatusCode::IMAGE_PARSING_FAILED || st.code() == StatusCode::INVALID_NO_OF_CHANNELS)
            << st.message();
      }
    };
    // Every truncation (in a copy sized exactly, so ASan sees over-reads).
    for (size_t len = 0; len < good.size(); len += (good.size() > 800 ? 3 : 1)) check(std::string(good.data(), len));
    // Random byte flips, 1-8 bytes at a time.
    for (int round = 0; round < rounds; ++round) {
      std::string bad = good;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] = static_cast<char>(rng() & 0xff);
      check(bad);
    }
  }
  EXPECT_GT(decoded_count, 0u);
  EXPECT_GT(failed_count, 0u);
}

// ---------------------------------------------------------------------------------------------
// Resize
// ---------------------------------------------------------------------------------------------

Image rowImage(std::vector<uint8_t> values, int rows, int cols, int channels) {
  Image img;
  img.rows = rows;
  img.cols = cols;
  img.channels = channels;
  img.depth = Precision::U8;
  img.data = std::move(values);
  return img;
}

TEST(ImageResize, HandComputedOpenCvValues) {
  // cv2.resize(np.array([[0, 255]], np.uint8), (4, 1)) == [[0, 64, 191, 255]] (fixed-point rounding).
  Image src = rowImage({0, 255}, 1, 2, 1), dst;
  ASSERT_TRUE(ovms::api::image::resizeImage(src, 1, 4, &dst));
  EXPECT_EQ(dst.data, (std::vector<uint8_t>{0, 64, 191, 255}));

  Image srcf;
  ASSERT_TRUE(ovms::api::image::convertImage(src, Precision::FP32, &srcf));
  ASSERT_TRUE(ovms::api::image::resizeImage(srcf, 1, 4, &dst));
  EXPECT_FLOAT_EQ(elem<float>(dst, 0), 0.f);
  EXPECT_FLOAT_EQ(elem<float>(dst, 1), 63.75f);
  EXPECT_FLOAT_EQ(elem<float>(dst, 2), 191.25f);
  EXPECT_FLOAT_EQ(elem<float>(dst, 3), 255.f);
}

TEST(ImageResize, ExactHalvingAveragesWithRoundHalfUp) {
  // OpenCV turns an exact 2x INTER_LINEAR downscale into INTER_AREA: (a+b+c+d+2)>>2.
  Image src = rowImage({0, 1, 1, 1, 1, 0, 0, 1}, 2, 4, 1), dst;
  ASSERT_TRUE(ovms::api::image::resizeImage(src, 1, 2, &dst));
  EXPECT_EQ(dst.data, (std::vector<uint8_t>{1, 1}));  // 2/4 → 1 (0.5 rounds up) and 3/4 → 1
  Image color = decoded("color.png");
  ASSERT_TRUE(ovms::api::image::resizeImage(color, 24, 32, &dst));
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 32; ++x)
      for (int c = 0; c < 3; ++c) {
        auto p = [&](int yy, int xx) { return static_cast<int>(color.data[(static_cast<size_t>(yy) * 64 + xx) * 3 + c]); };
        const int sum = p(2 * y, 2 * x) + p(2 * y, 2 * x + 1) + p(2 * y + 1, 2 * x) + p(2 * y + 1, 2 * x + 1);
        ASSERT_EQ(dst.data[(static_cast<size_t>(y) * 32 + x) * 3 + c], (sum + 2) >> 2);
      }
}

class ResizeSizes : public ::testing::TestWithParam<std::pair<int, int>> {};

TEST_P(ResizeSizes, MatchesBilinearFormula) {
  const auto [rows, cols] = GetParam();
  for (const char* name : {"color.png", "gray.png", "rgba.png"}) {
    Image src = decoded(name), dst_u8, srcf, dst_f;
    ASSERT_TRUE(ovms::api::image::resizeImage(src, rows, cols, &dst_u8));
    ASSERT_TRUE(ovms::api::image::convertImage(src, Precision::FP32, &srcf));
    ASSERT_TRUE(ovms::api::image::resizeImage(srcf, rows, cols, &dst_f));
    ASSERT_EQ(dst_u8.rows, rows);
    ASSERT_EQ(dst_u8.cols, cols);
    for (int y = 0; y < rows; ++y)
      for (int x = 0; x < cols; ++x)
        for (int c = 0; c < src.channels; ++c) {
          const size_t i = (static_cast<size_t>(y) * cols + x) * src.channels + c;
          const double ref = bilinearRef(src, rows, cols, y, x, c);
          // U8: OpenCV's 11-bit fixed-point coefficients round differently from exact math by ≤1.
          ASSERT_LE(std::abs(dst_u8.data[i] - ref), 1.0) << name << " " << y << "," << x << "," << c;
          ASSERT_NEAR(elem<float>(dst_f, i), ref, 1e-3) << name << " " << y << "," << x << "," << c;
        }
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, ResizeSizes,
                         ::testing::Values(std::pair{20, 30}, std::pair{100, 150}, std::pair{48, 100}, std::pair{7, 64},
                                           std::pair{1, 1}, std::pair{61, 17}));

// ---------------------------------------------------------------------------------------------
// decodeImagesToTensor
// ---------------------------------------------------------------------------------------------

TEST(DecodeImagesToTensor, StaticShapeSameSizeIsTheDecodedImage) {
  const std::string png = readFile("color.png");
  InferenceInput in;
  auto st = decodeImagesToTensor("image", {png}, target(Precision::U8, {1, 48, 64, 3}), &in);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(in.name, "image");
  EXPECT_EQ(in.tensor.precision, Precision::U8);
  EXPECT_EQ(in.tensor.shape, (ovms::engine::Shape{1, 48, 64, 3}));
  ASSERT_EQ(in.tensor.bytes, 48u * 64 * 3);
  EXPECT_EQ(in.tensor.data, in.storage.bytes.data());
  Pix expected = readPix("color.png");
  EXPECT_EQ(0, std::memcmp(in.tensor.data, expected.raw.data(), expected.raw.size()));
}

TEST(DecodeImagesToTensor, StaticShapeResizes) {
  const std::string png = readFile("color.png");
  InferenceInput in;
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::U8, {1, 100, 150, 3}), &in).ok());
  EXPECT_EQ(in.tensor.shape, (ovms::engine::Shape{1, 100, 150, 3}));
  Image resized;
  ASSERT_TRUE(ovms::api::image::resizeImage(decoded("color.png"), 100, 150, &resized));
  EXPECT_EQ(0, std::memcmp(in.tensor.data, resized.data.data(), resized.data.size()));
}

TEST(DecodeImagesToTensor, FloatModelResizesAfterConversion) {
  // OVMS converts to the model precision first, then resizes (float bilinear, no rounding).
  const std::string png = readFile("color.png");
  InferenceInput in;
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::FP32, {1, 20, 30, 3}), &in).ok());
  Image src = decoded("color.png");
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 30; ++x)
      for (int c = 0; c < 3; ++c)
        ASSERT_NEAR(elem<float>(in, (static_cast<size_t>(y) * 30 + x) * 3 + c), bilinearRef(src, 20, 30, y, x, c), 1e-3);
}

TEST(DecodeImagesToTensor, BatchOfTwoImages) {
  const std::string a = readFile("color.png"), b = readFile("color.jpg");
  InferenceInput in;
  auto st = decodeImagesToTensor("x", {a, b}, target(Precision::FP32, {2, 24, 32, 3}), &in);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(in.tensor.shape, (ovms::engine::Shape{2, 24, 32, 3}));
  ASSERT_EQ(in.tensor.bytes, 2u * 24 * 32 * 3 * 4);
  const size_t per = 24 * 32 * 3;
  int i = 0;
  for (const char* name : {"color.png", "color.jpg"}) {
    Image f, r;
    ASSERT_TRUE(ovms::api::image::convertImage(decoded(name), Precision::FP32, &f));
    ASSERT_TRUE(ovms::api::image::resizeImage(f, 24, 32, &r));
    EXPECT_EQ(0, std::memcmp(static_cast<const uint8_t*>(in.tensor.data) + i * per * 4, r.data.data(), per * 4)) << name;
    ++i;
  }
}

TEST(DecodeImagesToTensor, RangeDimsClampTheFirstImageSize) {
  const std::string png = readFile("color.png");  // 64x48
  auto t = target(Precision::U8, {1, -1, -1, 3});
  t.h_min = 10, t.h_max = 20;    // 48 > 20 → 20
  t.w_min = 100, t.w_max = 200;  // 64 < 100 → 100
  InferenceInput in;
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, t, &in).ok());
  EXPECT_EQ(in.tensor.shape, (ovms::engine::Shape{1, 20, 100, 3}));
  Image resized;
  ASSERT_TRUE(ovms::api::image::resizeImage(decoded("color.png"), 20, 100, &resized));
  EXPECT_EQ(0, std::memcmp(in.tensor.data, resized.data.data(), resized.data.size()));

  t.h_min = 40, t.h_max = 60;  // inside: kept
  t.w_min = 1, t.w_max = 64;
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, t, &in).ok());
  EXPECT_EQ(in.tensor.shape, (ovms::engine::Shape{1, 48, 64, 3}));
}

TEST(DecodeImagesToTensor, RangeDimsResizeLaterImagesToTheFirstOnesTarget) {
  const std::string a = readFile("color.png"), b = readFile("cmyk.jpg");  // 64x48, 16x12
  auto t = target(Precision::U8, {2, -1, -1, 3});
  t.h_min = 1, t.h_max = 100;
  t.w_min = 1, t.w_max = 100;
  InferenceInput in;
  auto st = decodeImagesToTensor("x", {a, b}, t, &in);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(in.tensor.shape, (ovms::engine::Shape{2, 48, 64, 3}));
}

TEST(DecodeImagesToTensor, DynamicDimsKeepTheImageSize) {
  const std::string png = readFile("gray.png");
  InferenceInput in;
  ASSERT_TRUE(decodeImagesToTensor("x", {png, png}, target(Precision::U8, {-1, -1, -1, -1}), &in).ok());
  EXPECT_EQ(in.tensor.shape, (ovms::engine::Shape{2, 48, 64, 1}));
  Pix expected = readPix("gray.png");
  EXPECT_EQ(0, std::memcmp(in.tensor.data, expected.raw.data(), expected.raw.size()));
  EXPECT_EQ(0, std::memcmp(static_cast<const uint8_t*>(in.tensor.data) + expected.raw.size(), expected.raw.data(), expected.raw.size()));
}

TEST(DecodeImagesToTensor, GrayAndFourChannelInputs) {
  InferenceInput in;
  EXPECT_TRUE(decodeImagesToTensor("x", {readFile("gray.jpg")}, target(Precision::U8, {1, 24, 32, 1}), &in).ok());
  EXPECT_TRUE(decodeImagesToTensor("x", {readFile("rgba.png")}, target(Precision::U8, {1, 16, 24, 4}), &in).ok());
  EXPECT_EQ(in.tensor.shape, (ovms::engine::Shape{1, 16, 24, 4}));
}

// ---- precision conversion ----

TEST(DecodeImagesToTensor, PrecisionConversions) {
  const std::string png = readFile("color.png");
  Pix px = readPix("color.png");
  const ovms::engine::Shape shape{1, 48, 64, 3};
  InferenceInput in;
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::FP32, shape), &in).ok());
  EXPECT_EQ(in.tensor.bytes, px.count() * 4);
  for (size_t i = 0; i < px.count(); ++i) ASSERT_EQ(elem<float>(in, i), static_cast<float>(px.at(i)));
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::FP64, shape), &in).ok());
  for (size_t i = 0; i < px.count(); ++i) ASSERT_EQ(elem<double>(in, i), static_cast<double>(px.at(i)));
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::I32, shape), &in).ok());
  for (size_t i = 0; i < px.count(); ++i) ASSERT_EQ(elem<int32_t>(in, i), px.at(i));
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::U16, shape), &in).ok());
  for (size_t i = 0; i < px.count(); ++i) ASSERT_EQ(elem<uint16_t>(in, i), px.at(i));
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::I16, shape), &in).ok());
  for (size_t i = 0; i < px.count(); ++i) ASSERT_EQ(elem<int16_t>(in, i), px.at(i));
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::I8, shape), &in).ok());
  for (size_t i = 0; i < px.count(); ++i) ASSERT_EQ(elem<int8_t>(in, i), std::min(px.at(i), 127));  // saturates
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::FP16, shape), &in).ok());
  EXPECT_EQ(in.tensor.bytes, px.count() * 2);
  for (size_t i = 0; i < px.count(); ++i) ASSERT_EQ(halfToFloatRef(elem<uint16_t>(in, i)), static_cast<float>(px.at(i)));
  EXPECT_EQ(elem<uint16_t>(in, 0), elem<uint16_t>(in, 0));
}

TEST(DecodeImagesToTensor, SixteenBitPngConversions) {
  const std::string png = readFile("gray16.png");
  Pix px = readPix("gray16.png");
  const ovms::engine::Shape shape{1, 12, 16, 1};
  InferenceInput in;
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::U16, shape), &in).ok());
  for (size_t i = 0; i < px.count(); ++i) ASSERT_EQ(elem<uint16_t>(in, i), px.at(i));
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::U8, shape), &in).ok());
  for (size_t i = 0; i < px.count(); ++i) ASSERT_EQ(elem<uint8_t>(in, i), std::min(px.at(i), 255));
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::I16, shape), &in).ok());
  for (size_t i = 0; i < px.count(); ++i) ASSERT_EQ(elem<int16_t>(in, i), std::min(px.at(i), 32767));
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::FP32, shape), &in).ok());
  for (size_t i = 0; i < px.count(); ++i) ASSERT_EQ(elem<float>(in, i), static_cast<float>(px.at(i)));
}

TEST(DecodeImagesToTensor, HalfPrecisionRounding) {
  // 16-bit values above 2048 are not all representable in FP16: round to nearest even.
  Image src;
  src.rows = 1, src.cols = 4, src.channels = 1, src.depth = Precision::U16;
  const uint16_t v[4] = {2049, 2051, 65504, 65535};
  src.data.resize(8);
  std::memcpy(src.data.data(), v, 8);
  Image dst;
  ASSERT_TRUE(ovms::api::image::convertImage(src, Precision::FP16, &dst));
  EXPECT_EQ(halfToFloatRef(elem<uint16_t>(dst, 0)), 2048.f);
  EXPECT_EQ(halfToFloatRef(elem<uint16_t>(dst, 1)), 2052.f);
  EXPECT_EQ(halfToFloatRef(elem<uint16_t>(dst, 2)), 65504.f);
  EXPECT_EQ(elem<uint16_t>(dst, 3), 0x7c00);  // inf
}

TEST(DecodeImagesToTensor, ResizeInFp16AndInt8) {
  // cv::resize rejects these depths; we resize in float and round.
  const std::string png = readFile("color.png");
  InferenceInput in;
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::FP16, {1, 20, 30, 3}), &in).ok());
  Image src = decoded("color.png");
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 30; ++x)
      for (int c = 0; c < 3; ++c)
        ASSERT_NEAR(halfToFloatRef(elem<uint16_t>(in, (static_cast<size_t>(y) * 30 + x) * 3 + c)), bilinearRef(src, 20, 30, y, x, c),
                    0.25);
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::I8, {1, 20, 30, 3}), &in).ok());
  EXPECT_EQ(in.tensor.bytes, 20u * 30 * 3);
}

// ---- errors ----

TEST(DecodeImagesToTensorErrors, UnsupportedLayout) {
  auto t = target(Precision::FP32, {1, 3, 48, 64});
  t.layout_is_nhwc_compatible = false;
  InferenceInput in;
  EXPECT_EQ(decodeImagesToTensor("x", {readFile("color.png")}, t, &in).code(), StatusCode::UNSUPPORTED_LAYOUT);
  EXPECT_EQ(decodeImagesToTensor("x", {"garbage"}, t, &in).code(), StatusCode::UNSUPPORTED_LAYOUT);  // checked first
}

TEST(DecodeImagesToTensorErrors, RankNotFour) {
  InferenceInput in;
  EXPECT_EQ(decodeImagesToTensor("x", {readFile("color.png")}, target(Precision::U8, {48, 64, 3}), &in).code(),
            StatusCode::INVALID_SHAPE);
}

TEST(DecodeImagesToTensorErrors, BatchSize) {
  const std::string png = readFile("color.png");
  InferenceInput in;
  auto st = decodeImagesToTensor("input1", {png, png}, target(Precision::U8, {1, 48, 64, 3}), &in);
  EXPECT_EQ(st.code(), StatusCode::INVALID_BATCH_SIZE);
  EXPECT_EQ(st.details(), "Expected: 1; Actual: 2; input name: input1");
  EXPECT_EQ(st.message(), "Invalid input batch size - Expected: 1; Actual: 2; input name: input1");

  st = decodeImagesToTensor("input1", {}, target(Precision::U8, {1, 48, 64, 3}), &in);
  EXPECT_EQ(st.code(), StatusCode::INVALID_BATCH_SIZE);
  EXPECT_EQ(st.details(), "Expected: 1; Actual: 0; input name: input1");

  st = decodeImagesToTensor("input1", {}, target(Precision::U8, {-1, 48, 64, 3}), &in);
  EXPECT_EQ(st.code(), StatusCode::INVALID_BATCH_SIZE);

  auto t = target(Precision::U8, {-1, 48, 64, 3});
  t.n_min = 1, t.n_max = 2;
  st = decodeImagesToTensor("input1", {png, png, png}, t, &in);
  EXPECT_EQ(st.code(), StatusCode::INVALID_BATCH_SIZE);
  EXPECT_EQ(st.details(), "Expected: [1~2]; Actual: 3; input name: input1");
  EXPECT_TRUE(decodeImagesToTensor("input1", {png, png}, t, &in).ok());
}

TEST(DecodeImagesToTensorErrors, EmptyImageString) {
  InferenceInput in;
  const std::string png = readFile("color.png");
  auto t = target(Precision::U8, {2, 48, 64, 3});
  EXPECT_EQ(decodeImagesToTensor("x", {png, ""}, t, &in).code(), StatusCode::STRING_VAL_EMPTY);
  t.empty_image_status = StatusCode::BYTES_CONTENTS_EMPTY;
  EXPECT_EQ(decodeImagesToTensor("x", {png, ""}, t, &in).code(), StatusCode::BYTES_CONTENTS_EMPTY);
  // Empty strings are found before any decoding.
  EXPECT_EQ(decodeImagesToTensor("x", {"garbage", ""}, t, &in).code(), StatusCode::BYTES_CONTENTS_EMPTY);
}

TEST(DecodeImagesToTensorErrors, ImageParsingFailed) {
  InferenceInput in;
  const std::string png = readFile("color.png");
  auto st = decodeImagesToTensor("x", {"INVALID IMAGE"}, target(Precision::U8, {1, 48, 64, 3}), &in);
  EXPECT_EQ(st.code(), StatusCode::IMAGE_PARSING_FAILED);
  EXPECT_EQ(st.message(), "Image parsing failed");
  EXPECT_EQ(decodeImagesToTensor("x", {png, png.substr(0, 40)}, target(Precision::U8, {2, 48, 64, 3}), &in).code(),
            StatusCode::IMAGE_PARSING_FAILED);
}

TEST(DecodeImagesToTensorErrors, ChannelMismatch) {
  InferenceInput in;
  // colour image → 1-channel model
  EXPECT_EQ(decodeImagesToTensor("x", {readFile("color.jpg")}, target(Precision::U8, {1, 48, 64, 1}), &in).code(),
            StatusCode::INVALID_NO_OF_CHANNELS);
  // grayscale image → 3-channel model (no gray→BGR expansion; OVMS decodes IMREAD_UNCHANGED)
  EXPECT_EQ(decodeImagesToTensor("x", {readFile("gray.png")}, target(Precision::U8, {1, 48, 64, 3}), &in).code(),
            StatusCode::INVALID_NO_OF_CHANNELS);
  EXPECT_EQ(decodeImagesToTensor("x", {readFile("gray.jpg")}, target(Precision::U8, {1, 24, 32, 3}), &in).code(),
            StatusCode::INVALID_NO_OF_CHANNELS);
  // RGBA PNG → 3-channel model
  EXPECT_EQ(decodeImagesToTensor("x", {readFile("rgba.png")}, target(Precision::U8, {1, 16, 24, 3}), &in).code(),
            StatusCode::INVALID_NO_OF_CHANNELS);
  // dynamic C: every image must match the first one's channels
  EXPECT_EQ(decodeImagesToTensor("x", {readFile("color.png"), readFile("gray.png")}, target(Precision::U8, {-1, -1, -1, -1}), &in).code(),
            StatusCode::INVALID_NO_OF_CHANNELS);
}

TEST(DecodeImagesToTensorErrors, ResolutionMismatchWithDynamicDims) {
  InferenceInput in;
  const std::string a = readFile("color.png"), b = readFile("cmyk.jpg");  // 64x48 vs 16x12, both 3 channels
  EXPECT_EQ(decodeImagesToTensor("x", {a, b}, target(Precision::U8, {2, -1, -1, 3}), &in).code(),
            StatusCode::BINARY_IMAGES_RESOLUTION_MISMATCH);
  // resolution is checked before channels
  EXPECT_EQ(decodeImagesToTensor("x", {a, readFile("gray_alpha.png")}, target(Precision::U8, {2, -1, -1, 3}), &in).code(),
            StatusCode::BINARY_IMAGES_RESOLUTION_MISMATCH);
  // static H/W resize every image, whatever N is (§7.4)
  ASSERT_TRUE(decodeImagesToTensor("x", {a, b}, target(Precision::U8, {-1, 48, 64, 3}), &in).ok());
  EXPECT_EQ(in.tensor.shape, (ovms::engine::Shape{2, 48, 64, 3}));
}

TEST(DecodeImagesToTensorErrors, ResizeWithStaticHwOnlyAndWhenLayoutAllowsIt) {
  InferenceInput in;
  const std::string png = readFile("color.png");  // 64x48
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::U8, {-1, 24, 32, 3}), &in).ok());
  EXPECT_EQ(in.tensor.shape, (ovms::engine::Shape{1, 24, 32, 3}));
  ASSERT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::U8, {1, 24, 32, -1}), &in).ok());
  EXPECT_TRUE(decodeImagesToTensor("x", {png}, target(Precision::U8, {-1, 48, 64, 3}), &in).ok());
  auto t = target(Precision::U8, {1, 24, 32, 3});
  t.layout_allows_resize = false;
  EXPECT_EQ(decodeImagesToTensor("x", {png}, t, &in).code(), StatusCode::INVALID_SHAPE);
  t.shape = {1, 48, 64, 3};
  EXPECT_TRUE(decodeImagesToTensor("x", {png}, t, &in).ok());
}

TEST(DecodeImagesToTensorErrors, UnsupportedPrecision) {
  InferenceInput in;
  const std::string png = readFile("color.png");
  for (Precision p : {Precision::I64, Precision::U32, Precision::U64, Precision::BOOL, Precision::BF16})
    EXPECT_EQ(decodeImagesToTensor("x", {png}, target(p, {1, 48, 64, 3}), &in).code(), StatusCode::INVALID_PRECISION);
  // decoding errors come first
  EXPECT_EQ(decodeImagesToTensor("x", {"bad"}, target(Precision::I64, {1, 48, 64, 3}), &in).code(), StatusCode::IMAGE_PARSING_FAILED);
}

TEST(IsImageInput, FourDimensionalNonStringInputs) {
  using ovms::engine::TensorInfo;
  EXPECT_TRUE(ovms::api::image::isImageInput(TensorInfo{"a", Precision::FP32, {1, 224, 224, 3}}, true));
  EXPECT_TRUE(ovms::api::image::isImageInput(TensorInfo{"a", Precision::U8, {-1, -1, -1, 3}}, true));
  // NCHW still goes down the image path; decodeImagesToTensor then reports UNSUPPORTED_LAYOUT.
  EXPECT_TRUE(ovms::api::image::isImageInput(TensorInfo{"a", Precision::FP32, {1, 3, 224, 224}}, false));
  EXPECT_FALSE(ovms::api::image::isImageInput(TensorInfo{"a", Precision::FP32, {1, 10}}, true));
  EXPECT_FALSE(ovms::api::image::isImageInput(TensorInfo{"a", Precision::U8, {-1, -1}}, true));
  EXPECT_FALSE(ovms::api::image::isImageInput(TensorInfo{"a", Precision::FP32, {1, 1, 224, 224, 3}}, true));
  EXPECT_FALSE(ovms::api::image::isImageInput(TensorInfo{"a", Precision::STRING, {1, 1, 1, 1}}, true));
}

}  // namespace
