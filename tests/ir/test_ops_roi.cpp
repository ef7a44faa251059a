// Tests of ops/roi.cpp (ROIPooling, Proposal as ovms.ir custom ops); expected values worked out by hand or with
// straightforward loops written from the OpenVINO op specifications.
#include <algorithm>
#include <array>
#include <sstream>

#include "engine/half.h"
#include "ops_test_common.h"

using namespace irtest;

namespace {

// 4x4 map used by the max-pooling tests (channel 0); channel 1 is its negation.
const std::vector<float> kMap = {1, 9, 2, 3,  //
                                 4, 0, 8, 5,  //
                                 7, 6, 1, 2,  //
                                 3, 2, 0, 4};

std::vector<float> twoChannels() {
  std::vector<float> v = kMap;
  for (float x : kMap) v.push_back(-x);
  return v;
}

std::vector<float> roiPool(const Attrs& a, const std::vector<int64_t>& fdims, const std::vector<float>& feat, const std::vector<float>& rois,
                           std::vector<int64_t>* shape = nullptr, const std::string& ver = "opset2") {
  IrBuilder b;
  int64_t R = static_cast<int64_t>(rois.size() / 5);
  auto f = b.param("feat", "f32", fdims);
  auto r = b.param("rois", "f32", {R, 5});
  b.result(b.op("ROIPooling", ver, a, {f, r}, {{R, fdims[1], std::stoll(a.at("pooled_h")), std::stoll(a.at("pooled_w"))}}));
  return runF(b, {{"feat", Tensor::f32(fdims, feat)}, {"rois", Tensor::f32({R, 5}, rois)}}, shape);
}

}  // namespace

TEST(IrOpsRoi, RoiPoolingMaxOneRoi) {
  // spatial_scale 0.5: corners round(0.5)=1 (half away from zero), round(3)=3 -> rows/cols 1..3 (3x3 ROI).
  // 2x2 bins of 1.5: bin 0 covers [floor(0), ceil(1.5)) = offsets 0..1, bin 1 covers [floor(1.5), ceil(3)) = 1..2.
  Attrs a{{"pooled_h", "2"}, {"pooled_w", "2"}, {"spatial_scale", "0.5"}, {"method", "max"}};
  std::vector<int64_t> shape;
  auto got = roiPool(a, {1, 2, 4, 4}, twoChannels(), {0, 1, 1, 6, 6}, &shape);
  EXPECT_EQ(shape, (std::vector<int64_t>{1, 2, 2, 2}));
  // ch0: rows{1,2}x cols{1,2} = {0,8,6,1} -> 8; rows{1,2}x cols{2,3} = {8,5,1,2} -> 8;
  //      rows{2,3}x cols{1,2} = {6,1,2,0} -> 6; rows{2,3}x cols{2,3} = {1,2,0,4} -> 4
  // ch1 (negated): max of the negatives -> {0, -1, 0, 0}
  expectNear(got, {8, 8, 6, 4, 0, -1, 0, 0});
  // opset1 label and the default method ("max") give the same result
  Attrs d{{"pooled_h", "2"}, {"pooled_w", "2"}, {"spatial_scale", "0.5"}};
  expectNear(roiPool(d, {1, 2, 4, 4}, twoChannels(), {0, 1, 1, 6, 6}, nullptr, "opset1"), {8, 8, 6, 4, 0, -1, 0, 0});
}

TEST(IrOpsRoi, RoiPoolingMaxEdgeCases) {
  Attrs a{{"pooled_h", "2"}, {"pooled_w", "2"}, {"spatial_scale", "1"}, {"method", "max"}};
  std::vector<float> feat = kMap;
  for (float x : kMap) feat.push_back(x + 100);  // batch 1
  std::vector<float> rois = {
      0, 3, 3, 1, 1,      // malformed (x2 < x1): forced to 1x1 at (3,3) -> every bin is map[3][3] = 4
      1, 0, 0, 0, 0,      // batch 1, single pixel (0,0) -> 101 everywhere
      0, 10, 10, 12, 12,  // entirely outside the map: all bins empty -> 0
      0, 2, 2, 5, 5,      // 4x4 ROI from (2,2), clipped: bins rows/cols {2,3} | {4,5} (empty)
  };
  std::vector<int64_t> shape;
  auto got = roiPool(a, {2, 1, 4, 4}, feat, rois, &shape);
  EXPECT_EQ(shape, (std::vector<int64_t>{4, 1, 2, 2}));
  expectNear(got, {4, 4, 4, 4, 101, 101, 101, 101, 0, 0, 0, 0, 4, 0, 0, 0});
}

TEST(IrOpsRoi, RoiPoolingBilinear) {
  // f(x, y) = x^2 + 10 y on a 3x3 grid: bilinear interpolation is linear in x between grid columns.
  std::vector<float> feat(9);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 3; ++x) feat[static_cast<size_t>(y * 3 + x)] = static_cast<float>(x * x + 10 * y);
  auto f = [](float x, float y) {  // bilinear interpolation of the grid, written out
    int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
    int x1 = std::min(x0 + 1, 2), y1 = std::min(y0 + 1, 2);
    auto g = [](int xx, int yy) { return static_cast<float>(xx * xx + 10 * yy); };
    float fx = x - static_cast<float>(x0), fy = y - static_cast<float>(y0);
    float top = g(x0, y0) * (1 - fx) + g(x1, y0) * fx, bot = g(x0, y1) * (1 - fx) + g(x1, y1) * fx;
    return top * (1 - fy) + bot * fy;
  };
  // ROI x 0.25..0.75, y 0..1 on (W-1) = (H-1) = 2 -> x samples 0.5, 1.0, 1.5 and y samples 0, 2.
  Attrs a{{"pooled_h", "2"}, {"pooled_w", "3"}, {"spatial_scale", "1"}, {"method", "bilinear"}};
  auto got = roiPool(a, {1, 1, 3, 3}, feat, {0, 0.25f, 0, 0.75f, 1});
  expectNear(got, {0.5f, 1, 2.5f, 20.5f, 21, 22.5f});
  expectNear(got, {f(0.5f, 0), f(1, 0), f(1.5f, 0), f(0.5f, 2), f(1, 2), f(1.5f, 2)});
  // pooled 1x1 samples the ROI centre: (0.5 * (0.25 + 0.5) * 2) = 0.75 in both axes -> 0.75 + 10 * 0.75
  Attrs one{{"pooled_h", "1"}, {"pooled_w", "1"}, {"spatial_scale", "1"}, {"method", "bilinear"}};
  expectNear(roiPool(one, {1, 1, 3, 3}, feat, {0, 0.25f, 0.25f, 0.5f, 0.5f}), {8.25f});
  // a sample beyond the map (x = 2 * 1.5 = 3 > W-1) is 0; the other sample is at x = 0, y = 0.5 * (0 + 1) * 2 = 1
  Attrs row{{"pooled_h", "1"}, {"pooled_w", "2"}, {"spatial_scale", "1"}, {"method", "bilinear"}};
  expectNear(roiPool(row, {1, 1, 3, 3}, feat, {0, 0, 0, 1.5f, 1}), {10, 0});
}

TEST(IrOpsRoi, RoiPoolingF64AndF16Types) {
  // f64: computed in f32 by the custom op, cast back to f64
  {
    IrBuilder b;
    auto f = b.param("feat", "f64", {1, 1, 4, 4});
    auto r = b.param("rois", "f64", {1, 5});
    b.result(b.op("ROIPooling", "opset2", {{"pooled_h", "2"}, {"pooled_w", "2"}, {"spatial_scale", "0.5"}}, {f, r}, {{1, 1, 2, 2}}, "f64"));
    std::vector<double> fd(kMap.begin(), kMap.end());
    auto out = runAll(b, {{"feat", Tensor::make(ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE, {1, 1, 4, 4}, fd)},
                          {"rois", Tensor::make(ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE, {1, 5}, std::vector<double>{0, 1, 1, 6, 6})}});
    ASSERT_EQ(out[0].type, ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE);
    EXPECT_EQ(out[0].as<double>(), (std::vector<double>{8, 8, 6, 4}));
  }
  // f16 on the API (integers are exact in f16)
  {
    IrBuilder b;
    auto f = b.param("feat", "f16", {1, 1, 4, 4});
    auto r = b.param("rois", "f16", {1, 5});
    b.result(b.op("ROIPooling", "opset2", {{"pooled_h", "2"}, {"pooled_w", "2"}, {"spatial_scale", "0.5"}}, {f, r}, {{1, 1, 2, 2}}, "f16"));
    std::vector<uint16_t> fh, rh;
    for (float v : kMap) fh.push_back(ovms::engine::floatToHalf(v));
    for (float v : {0.f, 1.f, 1.f, 6.f, 6.f}) rh.push_back(ovms::engine::floatToHalf(v));
    auto out = runAll(b, {{"feat", Tensor::make(ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16, {1, 1, 4, 4}, fh)},
                          {"rois", Tensor::make(ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16, {1, 5}, rh)}});
    ASSERT_EQ(out[0].type, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16);
    std::vector<float> got;
    for (uint16_t h : out[0].as<uint16_t>()) got.push_back(ovms::engine::halfToFloat(h));
    expectNear(got, {8, 8, 6, 4});
  }
}

TEST(IrOpsRoi, RoiPoolingTranslationErrors) {
  auto err = [](const Attrs& a, std::vector<int64_t> fdims, std::vector<int64_t> rdims) {
    IrBuilder b;
    auto f = b.param("feat", "f32", fdims);
    auto r = b.param("rois", "f32", rdims);
    b.result(b.op("ROIPooling", "opset2", a, {f, r}, {{1, 1, 2, 2}}));
    return translateError(b);
  };
  Attrs ok{{"pooled_h", "2"}, {"pooled_w", "2"}, {"spatial_scale", "1"}};
  EXPECT_EQ(err(ok, {1, 1, 4, 4}, {1, 5}), "");
  EXPECT_NE(err(ok, {1, 4, 4}, {1, 5}).find("4-D feature maps"), std::string::npos);
  EXPECT_NE(err(ok, {1, 1, 4, 4}, {5}).find("2-D rois"), std::string::npos);
  EXPECT_NE(err(ok, {1, 1, 4, 4}, {1, 4}).find("must be 5"), std::string::npos);
  auto bad = ok;
  bad["method"] = "average";
  EXPECT_NE(err(bad, {1, 1, 4, 4}, {1, 5}).find("'max' or 'bilinear'"), std::string::npos);
  bad = ok;
  bad["pooled_h"] = "0";
  EXPECT_NE(err(bad, {1, 1, 4, 4}, {1, 5}).find("positive"), std::string::npos);
  bad = ok;
  bad["spatial_scale"] = "0";
  EXPECT_NE(err(bad, {1, 1, 4, 4}, {1, 5}).find("spatial_scale"), std::string::npos);
  bad = ok;
  bad.erase("spatial_scale");
  EXPECT_NE(err(bad, {1, 1, 4, 4}, {1, 5}).find("spatial_scale"), std::string::npos);
  bad = ok;
  bad.erase("pooled_w");
  EXPECT_NE(err(bad, {1, 1, 4, 4}, {1, 5}).find("pooled_w"), std::string::npos);
  // the layer is named in the message
  EXPECT_NE(err(ok, {1, 4, 4}, {1, 5}).find("ROIPooling"), std::string::npos);
}

TEST(IrOpsRoi, RoiPoolingBadBatchIdFailsAtRun) {
  Attrs a{{"pooled_h", "1"}, {"pooled_w", "1"}, {"spatial_scale", "1"}};
  EXPECT_THROW(roiPool(a, {1, 2, 4, 4}, twoChannels(), {1, 0, 0, 1, 1}), Ort::Exception);
  EXPECT_THROW(roiPool(a, {1, 2, 4, 4}, twoChannels(), {-1, 0, 0, 1, 1}), Ort::Exception);
}

// ---------------------------------------------------------------------------------------------------------
// Proposal. Common case: base_size 4, ratio {1}, scale {1, 2} -> K = 2 anchors; feature map 1x2, feat_stride 4.
// Caffe anchors (pixel offset 1): side round(sqrt(16 / 1)) = 4, centre 0.5 * (4 - 1) = 1.5:
//   scale 1: half 0.5 * (4 - 1) = 1.5 -> (0, 0, 3, 3);  scale 2: half 0.5 * (8 - 1) = 3.5 -> (-2, -2, 5, 5).
namespace {

struct PBox {
  float x0, y0, x1, y1, s;
};

struct PropCase {
  int64_t batch = 1;
  std::vector<float> image{20, 16, 1};  // height, width, scale
  // per (w, k): foreground score and deltas (dx, dy, dlogw, dlogh)
  std::vector<float> scores{0.9f, 0.3f, 0.6f, 0.8f};  // order (w0,k0), (w0,k1), (w1,k0), (w1,k1)
  std::vector<std::array<float, 4>> deltas{{0.1f, -0.2f, 0.2f, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}};
};

// class_probs [N, 4, 1, 2]: channels 0-1 background (arbitrary), 2-3 foreground for anchors 0-1.
std::vector<float> probsTensor(const PropCase& p) {
  std::vector<float> v;
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int k = 0; k < 2; ++k)
      for (int w = 0; w < 2; ++w) v.push_back(0.5f + 0.1f * static_cast<float>(k + w));  // background, ignored
    for (int k = 0; k < 2; ++k)
      for (int w = 0; w < 2; ++w) v.push_back(p.scores[static_cast<size_t>(w * 2 + k)]);
  }
  return v;
}
// bbox_deltas [N, 8, 1, 2]: channel 4k + j, position w.
std::vector<float> deltasTensor(const PropCase& p) {
  std::vector<float> v;
  for (int64_t n = 0; n < p.batch; ++n)
    for (int k = 0; k < 2; ++k)
      for (int j = 0; j < 4; ++j)
        for (int w = 0; w < 2; ++w) v.push_back(p.deltas[static_cast<size_t>(w * 2 + k)][static_cast<size_t>(j)]);
  return v;
}

struct PropOpts {
  int64_t pre = 10, post = 5, min_size = 1;
  float nms = 0.45f, size_scale = 1, coord_scale = 1;
  bool clip_before = true, clip_after = false, normalize = false;
};

// Straightforward Caffe-style Proposal for the case above; returns rows (batch, x0, y0, x1, y1) and scores.
void expectedCaffe(const PropCase& p, const PropOpts& o, std::vector<float>& rows, std::vector<float>& probs) {
  const float anchors[2][4] = {{0, 0, 3, 3}, {-2, -2, 5, 5}};
  const float ih = p.image[0], iw = p.image[1];
  const float sh = p.image[2], sw = p.image.size() == 4 ? p.image[3] : p.image[2];
  std::vector<PBox> boxes;
  for (int w = 0; w < 2; ++w)
    for (int k = 0; k < 2; ++k) {
      const auto& d = p.deltas[static_cast<size_t>(w * 2 + k)];
      float ax0 = anchors[k][0] + 4.0f * w, ay0 = anchors[k][1], ax1 = anchors[k][2] + 4.0f * w, ay1 = anchors[k][3];
      float bw = ax1 - ax0 + 1, bh = ay1 - ay0 + 1;
      float cx = ax0 + bw / 2 + d[0] / o.coord_scale * bw, cy = ay0 + bh / 2 + d[1] / o.coord_scale * bh;
      float nw = bw * std::exp(d[2] / o.size_scale), nh = bh * std::exp(d[3] / o.size_scale);
      PBox b{cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2, p.scores[static_cast<size_t>(w * 2 + k)]};
      if (o.clip_before) {
        b.x0 = std::clamp(b.x0, 0.0f, iw - 1);
        b.x1 = std::clamp(b.x1, 0.0f, iw - 1);
        b.y0 = std::clamp(b.y0, 0.0f, ih - 1);
        b.y1 = std::clamp(b.y1, 0.0f, ih - 1);
      }
      if (b.x1 - b.x0 + 1 < static_cast<float>(o.min_size) * sw || b.y1 - b.y0 + 1 < static_cast<float>(o.min_size) * sh) b.s = 0;
      boxes.push_back(b);
    }
  std::stable_sort(boxes.begin(), boxes.end(), [](const PBox& a, const PBox& b) { return a.s > b.s; });
  boxes.resize(std::min<size_t>(boxes.size(), static_cast<size_t>(o.pre)));
  auto iou = [](const PBox& a, const PBox& b) {
    float w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0) + 1, h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0) + 1;
    if (w <= 0 || h <= 0) return 0.0f;
    float i = w * h;
    return i / ((a.x1 - a.x0 + 1) * (a.y1 - a.y0 + 1) + (b.x1 - b.x0 + 1) * (b.y1 - b.y0 + 1) - i);
  };
  std::vector<PBox> keep;
  for (const auto& b : boxes) {
    if (static_cast<int64_t>(keep.size()) == o.post) break;
    bool ok = true;
    for (const auto& k : keep) ok = ok && !(iou(k, b) > o.nms);
    if (ok) keep.push_back(b);
  }
  rows.clear();
  probs.clear();
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t r = 0; r < o.post; ++r) {
      if (r < static_cast<int64_t>(keep.size())) {
        PBox b = keep[static_cast<size_t>(r)];
        if (o.clip_after) {
          b.x0 = std::clamp(b.x0, 0.0f, iw);
          b.x1 = std::clamp(b.x1, 0.0f, iw);
          b.y0 = std::clamp(b.y0, 0.0f, ih);
          b.y1 = std::clamp(b.y1, 0.0f, ih);
        }
        if (o.normalize) {
          b.x0 /= iw;
          b.x1 /= iw;
          b.y0 /= ih;
          b.y1 /= ih;
        }
        rows.insert(rows.end(), {static_cast<float>(n), b.x0, b.y0, b.x1, b.y1});
        probs.push_back(b.s);
      } else {
        rows.insert(rows.end(), {r == static_cast<int64_t>(keep.size()) ? -1.0f : 0.0f, 0, 0, 0, 0});
        probs.push_back(0);
      }
    }
  }
}

Attrs propAttrs(const PropOpts& o) {
  auto bs = [](bool v) { return std::string(v ? "true" : "false"); };
  auto fs = [](float v) { std::ostringstream s; s << v; return s.str(); };
  return {{"base_size", "4"}, {"pre_nms_topn", std::to_string(o.pre)}, {"post_nms_topn", std::to_string(o.post)},
          {"nms_thresh", fs(o.nms)}, {"feat_stride", "4"}, {"min_size", std::to_string(o.min_size)}, {"ratio", "1"}, {"scale", "1,2"},
          {"clip_before_nms", bs(o.clip_before)}, {"clip_after_nms", bs(o.clip_after)}, {"normalize", bs(o.normalize)},
          {"box_size_scale", fs(o.size_scale)}, {"box_coordinate_scale", fs(o.coord_scale)}, {"framework", ""}};
}

// Runs Proposal (v4 returns both outputs, v1 only the boxes).
std::vector<Tensor> runProposal(const std::string& ver, const Attrs& a, int64_t N, int64_t A, int64_t H, int64_t W,
                                const std::vector<float>& probs, const std::vector<float>& deltas, const std::vector<float>& image,
                                int64_t post) {
  IrBuilder b;
  auto cp = b.param("probs", "f32", {N, 2 * A, H, W});
  auto bd = b.param("deltas", "f32", {N, 4 * A, H, W});
  auto im = b.param("image", "f32", {static_cast<int64_t>(image.size())});
  std::vector<std::vector<int64_t>> outs{{N * post, 5}};
  if (ver == "opset4") outs.push_back({N * post});
  auto p = b.op("Proposal", ver, a, {cp, bd, im}, outs);
  b.result(p);
  if (ver == "opset4") b.result({p.id, p.port + 1});
  return runAll(b, {{"probs", Tensor::f32({N, 2 * A, H, W}, probs)},
                    {"deltas", Tensor::f32({N, 4 * A, H, W}, deltas)},
                    {"image", Tensor::f32({static_cast<int64_t>(image.size())}, image)}});
}

void checkCase(const PropCase& p, const PropOpts& o, const std::string& ver = "opset4") {
  std::vector<float> rows, probs;
  expectedCaffe(p, o, rows, probs);
  auto out = runProposal(ver, propAttrs(o), p.batch, 2, 1, 2, probsTensor(p), deltasTensor(p), p.image, o.post);
  ASSERT_EQ(out.size(), ver == "opset4" ? 2u : 1u);
  EXPECT_EQ(out[0].shape, (std::vector<int64_t>{p.batch * o.post, 5}));
  expectNear(out[0].as<float>(), rows, 1e-4f);
  if (ver == "opset4") {
    EXPECT_EQ(out[1].shape, (std::vector<int64_t>{p.batch * o.post}));
    expectNear(out[1].as<float>(), probs);
  }
}

}  // namespace

TEST(IrOpsRoi, ProposalCaffeBasic) {
  // Decoding: w = x1 - x0 + 1, centre x0 + w/2, box centre +- (w e^dlogw)/2 -- so zero deltas move x1 by one pixel.
  // Clipped to [0, 15] x [0, 19] (image 20 high, 16 wide):
  //   A (w0,k0) score .9: centre (2 + .1*4, 2 - .2*4) = (2.4, 1.2), size (4 e^.2, 4) -> (0, 0, 2.4 + 2 e^.2, 3.2)
  //   B (w0,k1) score .3: (-2,-2,5,5) -> (-2,-2,6,6) -> (0, 0, 6, 6)
  //   C (w1,k0) score .6: (4,0,7,3) -> (4, 0, 8, 4)
  //   D (w1,k1) score .8: (2,-2,9,5) -> (2,-2,10,6) -> (2, 0, 10, 6)
  // IoU (areas with +1): A/B 24.54/49 = .50 -> B suppressed at nms_thresh .45; A/D .23, A/C .19, D/C .40 survive.
  const float e2 = std::exp(0.2f);
  const float ax1 = 2.4f + 2 * e2;
  std::vector<float> hand = {0, 0, 0, ax1, 3.2f,  //
                             0, 2, 0, 10, 6,      //
                             0, 4, 0, 8, 4,       //
                             -1, 0, 0, 0, 0,      //
                             0, 0, 0, 0, 0};
  PropCase p;
  PropOpts o;
  auto out = runProposal("opset4", propAttrs(o), 1, 2, 1, 2, probsTensor(p), deltasTensor(p), p.image, 5);
  expectNear(out[0].as<float>(), hand, 1e-4f);
  expectNear(out[1].as<float>(), {0.9f, 0.8f, 0.6f, 0, 0});
  checkCase(p, o);
  // opset1: a single output with the same boxes
  checkCase(p, o, "opset1");
  auto v1 = runProposal("opset1", propAttrs(o), 1, 2, 1, 2, probsTensor(p), deltasTensor(p), p.image, 5);
  ASSERT_EQ(v1.size(), 1u);
  expectNear(v1[0].as<float>(), hand, 1e-4f);
}

TEST(IrOpsRoi, ProposalAttributeEdgeCases) {
  PropCase p;
  {
    PropOpts o;
    o.pre = 2;  // only A and D reach NMS
    checkCase(p, o);
  }
  {
    PropOpts o;
    o.post = 2;  // A, D: no padding, no -1 marker
    checkCase(p, o);
  }
  {
    PropOpts o;
    o.nms = 0.7f;  // nothing suppressed: A, D, C, B (largest IoU .50)
    checkCase(p, o);
  }
  {
    PropOpts o;
    o.clip_before = false;  // A keeps its negative corner through NMS, clipped afterwards to [0, 16] x [0, 20]
    o.clip_after = true;
    checkCase(p, o);
    o.clip_after = false;
    checkCase(p, o);
  }
  {
    PropOpts o;
    o.normalize = true;  // x / 16, y / 20
    checkCase(p, o);
  }
  {
    PropOpts o;
    o.size_scale = 2;  // deltas divided before decoding
    o.coord_scale = 4;
    checkCase(p, o);
  }
  {
    // min_size 4 with image scales (0.5, 1.4): minimum box 2 high x 5.6 wide filters C (5 wide, score -> 0), which
    // then ranks last; A (5.84 wide) passes. With a 3-value image_shape the minimum is 2 x 2 and C keeps 0.6.
    PropOpts o;
    o.min_size = 4;
    PropCase p4 = p;
    p4.image = {20, 16, 0.5f, 1.4f};
    checkCase(p4, o);
    std::vector<float> rows, probs;
    expectedCaffe(p4, o, rows, probs);
    EXPECT_FLOAT_EQ(probs[2], 0.0f);
    EXPECT_FLOAT_EQ(rows[2 * 5 + 1], 4.0f);  // row 2 is C
    PropCase p3 = p;
    p3.image = {20, 16, 0.5f};
    checkCase(p3, o);
    expectedCaffe(p3, o, rows, probs);
    EXPECT_FLOAT_EQ(probs[2], 0.6f);
  }
  {
    PropCase pb = p;  // two images: rows of image 1 carry batch index 1 and their own -1 marker
    pb.batch = 2;
    checkCase(pb, PropOpts{});
  }
}

TEST(IrOpsRoi, ProposalCaffeRatioRounding) {
  // base 16, ratio 0.5: width round(sqrt(256 / 0.5)) = round(22.63) = 23, height round(23 * 0.5) = round(11.5) = 12;
  // centre 7.5 -> anchor (7.5 - 11, 7.5 - 5.5, 7.5 + 11, 7.5 + 5.5) = (-3.5, 2, 18.5, 13); zero deltas decode it to
  // centre (-3.5 + 23/2, 2 + 12/2) = (8, 8) +- (11.5, 6) = (-3.5, 2, 19.5, 14) (no clipping).
  Attrs a{{"base_size", "16"}, {"pre_nms_topn", "5"}, {"post_nms_topn", "1"}, {"nms_thresh", "0.7"}, {"feat_stride", "16"},
          {"min_size", "1"}, {"ratio", "0.5"}, {"scale", "1"}, {"clip_before_nms", "false"}};
  auto out = runProposal("opset1", a, 1, 1, 1, 1, {0.1f, 0.9f}, {0, 0, 0, 0}, {100, 100, 1}, 1);
  expectNear(out[0].as<float>(), {0, -3.5f, 2, 19.5f, 14});
}

TEST(IrOpsRoi, ProposalTensorflow) {
  // framework tensorflow: no +1 offset, anchors shifted by base/2, first feature-map axis is x, image_shape[0] bounds x.
  // base 4, ratio 1, scale 1 -> anchor (0,0,4,4) - 2 = (-2,-2,2,2). Map H=1, W=2, stride 4; image (20, 16): x<=20, y<=16.
  //   (h0,w0): shift (0, 0) -> clipped (0,0,2,2), zero deltas -> (0,0,2,2), score .4
  //   (h0,w1): shift (0, 4) -> (-2,2,2,6) clipped (0,2,2,6): size 2x4, centre (1,4); dx .5 -> cx 2, dlogh ln2 -> h 8
  //            -> (1, 0, 3, 8), score .7
  // normalize: x / 20, y / 16.
  Attrs a{{"base_size", "4"}, {"pre_nms_topn", "10"}, {"post_nms_topn", "3"}, {"nms_thresh", "0.5"}, {"feat_stride", "4"},
          {"min_size", "1"}, {"ratio", "1"}, {"scale", "1"}, {"normalize", "true"}, {"framework", "tensorflow"}};
  std::vector<float> probs = {0, 0, 0.4f, 0.7f};
  std::vector<float> deltas = {0, 0.5f, 0, 0, 0, 0, 0, std::log(2.0f)};
  auto out = runProposal("opset4", a, 1, 1, 1, 2, probs, deltas, {20, 16, 1}, 3);
  expectNear(out[0].as<float>(), {0, 1 / 20.f, 0, 3 / 20.f, 8 / 16.f,  //
                                  0, 0, 0, 2 / 20.f, 2 / 16.f,         //
                                  -1, 0, 0, 0, 0},
             1e-5f);
  expectNear(out[1].as<float>(), {0.7f, 0.4f, 0});
}

TEST(IrOpsRoi, ProposalTranslationErrors) {
  Attrs ok{{"base_size", "4"}, {"pre_nms_topn", "10"}, {"post_nms_topn", "5"}, {"nms_thresh", "0.5"}, {"feat_stride", "4"},
           {"min_size", "1"}, {"ratio", "1"}, {"scale", "1,2"}};
  auto err = [](const std::string& ver, const Attrs& a, std::vector<int64_t> pd, std::vector<int64_t> dd, std::vector<int64_t> id) {
    IrBuilder b;
    auto cp = b.param("probs", "f32", pd);
    auto bd = b.param("deltas", "f32", dd);
    auto im = b.param("image", "f32", id);
    b.result(b.op("Proposal", ver, a, {cp, bd, im}, {{5, 5}}));
    return translateError(b);
  };
  EXPECT_EQ(err("opset1", ok, {1, 4, 2, 2}, {1, 8, 2, 2}, {3}), "");
  EXPECT_EQ(err("opset4", ok, {1, 4, 2, 2}, {1, 8, 2, 2}, {4}), "");
  EXPECT_NE(err("opset4", ok, {4, 2, 2}, {1, 8, 2, 2}, {3}).find("class_probs must be 4-D"), std::string::npos);
  EXPECT_NE(err("opset4", ok, {1, 4, 2, 2}, {1, 8, 2, 2, 1}, {3}).find("bbox_deltas must be 4-D"), std::string::npos);
  EXPECT_NE(err("opset1", ok, {1, 4, 2, 2}, {1, 8, 2, 2}, {1, 3}).find("image_shape must be 1-D"), std::string::npos);
  EXPECT_NE(err("opset1", ok, {1, 4, 2, 2}, {1, 8, 2, 2}, {5}).find("3 or 4 elements"), std::string::npos);
  EXPECT_NE(err("opset1", ok, {1, 6, 2, 2}, {1, 8, 2, 2}, {3}).find("expected 2 * 2"), std::string::npos);
  EXPECT_NE(err("opset1", ok, {1, 4, 2, 2}, {1, 12, 2, 2}, {3}).find("expected 4 * 2"), std::string::npos);
  EXPECT_NE(err("opset1", ok, {1, 4, 2, 2}, {1, 8, 3, 2}, {3}).find("differ in dimension 2"), std::string::npos);
  auto with = [&](const std::string& k, const std::string& v) {
    Attrs a = ok;
    if (v.empty())
      a.erase(k);
    else
      a[k] = v;
    return err("opset4", a, {1, 4, 2, 2}, {1, 8, 2, 2}, {3});
  };
  EXPECT_NE(with("framework", "mxnet").find("unsupported framework"), std::string::npos);
  EXPECT_EQ(with("framework", "tensorflow"), "");
  EXPECT_NE(with("base_size", "").find("base_size"), std::string::npos);
  EXPECT_NE(with("post_nms_topn", "0").find("post_nms_topn"), std::string::npos);
  EXPECT_NE(with("pre_nms_topn", "-1").find("pre_nms_topn"), std::string::npos);
  EXPECT_NE(with("feat_stride", "0").find("feat_stride"), std::string::npos);
  EXPECT_NE(with("ratio", "0").find("ratio"), std::string::npos);
  EXPECT_NE(with("scale", "").find("non-empty"), std::string::npos);
  EXPECT_NE(with("clip_before_nms", "maybe").find("clip_before_nms"), std::string::npos);
}

TEST(IrOpsRoi, ProposalRuntimeErrors) {
  Attrs a{{"base_size", "4"}, {"pre_nms_topn", "10"}, {"post_nms_topn", "2"}, {"nms_thresh", "0.5"}, {"feat_stride", "4"},
          {"min_size", "1"}, {"ratio", "1"}, {"scale", "1"}};
  std::vector<float> probs(4, 0.5f), deltas(8, 0);
  // non-positive image height
  EXPECT_THROW(runProposal("opset1", a, 1, 1, 1, 2, probs, deltas, {0, 16, 1}, 2), Ort::Exception);
  // negative scale
  EXPECT_THROW(runProposal("opset1", a, 1, 1, 1, 2, probs, deltas, {20, 16, -1}, 2), Ort::Exception);
}
