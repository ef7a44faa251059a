// The OMZ face detector (SSD: ShapeOf -> StridedSlice -> PriorBoxClustered -> DetectionOutput) served with dynamic
// input shapes: nothing of the prior-box subgraph folds, the boxes are computed at run time, and the detector still
// finds the face in messi5.jpg and none in home.jpg, at its native size and at another one.
#include <turbojpeg.h>

#include <algorithm>
#include <cstdlib>

#include "ir_test_util.h"

using namespace irtest;
namespace ir = ovms::engine::ir;

namespace {

// Tests that need ../shared fail in CI when it is missing, and are skipped elsewhere.
#define IR_NEED_FIXTURES()                                                                         \
  if (!irtest::haveFixtures()) {                                                                   \
    const char* ci = std::getenv("CI");                                                            \
    if (ci && std::string(ci) == "true") FAIL() << "fixtures folder absent: " << fixturesDir();    \
    GTEST_SKIP() << "fixtures folder absent: " << fixturesDir();                                   \
  }

struct Bgr {
  int w = 0, h = 0;
  std::vector<uint8_t> px;
};

Bgr loadPhoto(const std::string& name) {
  std::string data = readFile(fixturesDir() + "/images/" + name);
  Bgr img;
  tjhandle h = tjInitDecompress();
  int ss, cs;
  const auto* src = reinterpret_cast<const unsigned char*>(data.data());
  if (tjDecompressHeader3(h, src, static_cast<unsigned long>(data.size()), &img.w, &img.h, &ss, &cs) != 0) {
    tjDestroy(h);
    throw std::runtime_error("bad jpeg " + name);
  }
  img.px.resize(static_cast<size_t>(img.w) * img.h * 3);
  int rc = tjDecompress2(h, src, static_cast<unsigned long>(data.size()), img.px.data(), img.w, 0, img.h, TJPF_BGR, 0);
  tjDestroy(h);
  if (rc != 0) throw std::runtime_error("jpeg decode failed " + name);
  return img;
}

// Bilinear resize to [1, 3, H, W] float BGR 0..255.
Tensor toInput(const Bgr& img, int H, int W) {
  std::vector<float> out(static_cast<size_t>(3) * H * W);
  for (int y = 0; y < H; ++y) {
    float sy = std::clamp((y + 0.5f) * img.h / H - 0.5f, 0.0f, static_cast<float>(img.h - 1));
    int y0 = static_cast<int>(sy), y1 = std::min(y0 + 1, img.h - 1);
    float fy = sy - y0;
    for (int x = 0; x < W; ++x) {
      float sx = std::clamp((x + 0.5f) * img.w / W - 0.5f, 0.0f, static_cast<float>(img.w - 1));
      int x0 = static_cast<int>(sx), x1 = std::min(x0 + 1, img.w - 1);
      float fx = sx - x0;
      for (int c = 0; c < 3; ++c) {
        auto p = [&](int xx, int yy) { return static_cast<float>(img.px[(static_cast<size_t>(yy) * img.w + xx) * 3 + c]); };
        out[(static_cast<size_t>(c) * H + y) * W + x] = (1 - fy) * ((1 - fx) * p(x0, y0) + fx * p(x1, y0)) + fy * ((1 - fx) * p(x0, y1) + fx * p(x1, y1));
      }
    }
  }
  return Tensor::f32({1, 3, H, W}, out);
}

struct Detection {
  float conf, x0, y0, x1, y1;
};
std::vector<Detection> detections(const Tensor& t) {
  auto v = t.as<float>();
  std::vector<Detection> r;
  for (size_t k = 0; k + 7 <= v.size(); k += 7) {
    if (v[k] < 0) break;
    r.push_back({v[k + 2], v[k + 3], v[k + 4], v[k + 5], v[k + 6]});
  }
  return r;
}

ir::IrTranslation faceDetector(int version, bool dynamic) {
  std::string base = fixturesDir() + "/omz-ir/face-detection-retail-0004/" + std::to_string(version) + "/face-detection-retail-0004";
  ir::IrOptions opt;
  if (dynamic) opt.input_shapes["data"] = {1, 3, -1, -1};
  return ir::translateIrToOnnx(base + ".xml", base + ".bin", opt);
}

}  // namespace

TEST(IrDynamicDetector, FaceDetectionWithDynamicShapesFindsMessiAndNoFaceAtHome) {
  IR_NEED_FIXTURES();
  auto messi = loadPhoto("messi5.jpg"), home = loadPhoto("home.jpg");
  for (int version : {1, 2}) {
    Runner fixed(faceDetector(version, false).onnx_model);
    Runner dyn(faceDetector(version, true).onnx_model);
    // Native size: the run-time priors give the same detections as the folded ones.
    auto a = detections(dyn.run({{"data", toInput(messi, 300, 300)}})[0]);
    auto s = detections(fixed.run({{"data", toInput(messi, 300, 300)}})[0]);
    ASSERT_EQ(a.size(), s.size()) << "version " << version;
    for (size_t k = 0; k < a.size(); ++k) {
      EXPECT_NEAR(a[k].conf, s[k].conf, 1e-5) << "version " << version;
      EXPECT_NEAR(a[k].x0, s[k].x0, 1e-5) << "version " << version;
      EXPECT_NEAR(a[k].y1, s[k].y1, 1e-5) << "version " << version;
    }
    // Another size (the prior grid follows the feature map): one strong face, upper middle of the photo.
    for (auto [H, W] : {std::pair<int, int>{300, 300}, {320, 480}}) {
      auto d = detections(dyn.run({{"data", toInput(messi, H, W)}})[0]);
      int strong = 0;
      Detection best{0, 0, 0, 0, 0};
      for (const auto& x : d) {
        strong += x.conf > 0.5f;
        if (x.conf > best.conf) best = x;
      }
      EXPECT_EQ(strong, 1) << "version " << version << " at " << H << "x" << W;
      EXPECT_GT(best.conf, 0.9f) << "version " << version << " at " << H << "x" << W;
      float cx = (best.x0 + best.x1) / 2, cy = (best.y0 + best.y1) / 2;
      EXPECT_GT(cx, 0.2f);
      EXPECT_LT(cx, 0.8f);
      EXPECT_LT(cy, 0.6f);
      EXPECT_LT(best.x1 - best.x0, 0.3f);
      for (const auto& x : detections(dyn.run({{"data", toInput(home, H, W)}})[0]))
        EXPECT_LT(x.conf, 0.5f) << "home.jpg, version " << version << " at " << H << "x" << W;
    }
  }
}
