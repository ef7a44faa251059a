// Tests of ops/legacy_detection.cpp (PriorBox folding, RegionYolo); expected values worked out by hand / loops.
#include "ops_test_common.h"

using namespace irtest;

namespace {
std::vector<float> priorBox(const std::string& ver, const Attrs& a) {
  IrBuilder b;
  auto p = b.param("x", "f32", {1});  // the graph needs an input; the PriorBox output is a constant
  b.result(b.op("ReLU", "opset1", {}, {p}, {{1}}));
  b.result(b.op("PriorBox", ver, a, {b.i64({2}, {1, 1}), b.i64({2}, {10, 10})}, {{2, 16}}));
  auto out = runAll(b, {{"x", Tensor::f32({1}, {0})}});
  EXPECT_EQ(out[1].shape, (std::vector<int64_t>{2, 16}));
  return out[1].as<float>();
}
}  // namespace

TEST(IrOpsLegacyDet, PriorBoxOrdersAndVariance) {
  // 1x1 feature map on a 10x10 image: center (5, 5). min 4 -> half 2; max sqrt(4*9)=6 -> half 3;
  // aspect ratio 2 (and 0.5 by flip): half sizes (2*sqrt2, 2/sqrt2) and (2/sqrt2, 2*sqrt2).
  const float s2 = std::sqrt(2.0f);
  std::vector<float> minb{0.3f, 0.3f, 0.7f, 0.7f}, maxb{0.2f, 0.2f, 0.8f, 0.8f};
  std::vector<float> ar2{(5 - 2 * s2) / 10, (5 - 2 / s2) / 10, (5 + 2 * s2) / 10, (5 + 2 / s2) / 10};
  std::vector<float> ar05{(5 - 2 / s2) / 10, (5 - 2 * s2) / 10, (5 + 2 / s2) / 10, (5 + 2 * s2) / 10};
  auto cat = [](std::vector<std::vector<float>> parts) {
    std::vector<float> r;
    for (auto& p : parts) r.insert(r.end(), p.begin(), p.end());
    return r;
  };
  std::vector<float> var;
  for (int k = 0; k < 4; ++k) var.insert(var.end(), {0.1f, 0.1f, 0.2f, 0.2f});
  Attrs a{{"min_size", "4"}, {"max_size", "9"}, {"aspect_ratio", "2"}, {"flip", "true"}, {"clip", "false"}, {"step", "0"}, {"offset", "0.5"},
          {"variance", "0.1,0.1,0.2,0.2"}, {"scale_all_sizes", "true"}};
  expectNear(priorBox("opset1", a), cat({minb, maxb, ar2, ar05, var}));
  auto a8 = a;
  a8["min_max_aspect_ratios_order"] = "false";
  expectNear(priorBox("opset8", a8), cat({minb, ar2, ar05, maxb, var}));
  // clip keeps everything in [0, 1]; a single variance fills the second row
  auto ac = a;
  ac["min_size"] = "14";
  ac["max_size"] = "";
  ac["aspect_ratio"] = "";
  ac["clip"] = "true";
  ac["variance"] = "0.5";
  IrBuilder b;
  auto p = b.param("x", "f32", {1});
  b.result(b.op("ReLU", "opset1", {}, {p}, {{1}}));
  b.result(b.op("PriorBox", "opset1", ac, {b.i64({2}, {1, 1}), b.i64({2}, {10, 10})}, {{2, 4}}));
  auto out = runAll(b, {{"x", Tensor::f32({1}, {0})}});
  expectNear(out[1].as<float>(), {0, 0, 1, 1, 0.5f, 0.5f, 0.5f, 0.5f});
}

// Sizes known only at run time: the ovms.ir PriorBox kernel gives the boxes the load-time folding gives.
TEST(IrOpsLegacyDet, PriorBoxWithRunTimeSizes) {
  Attrs a = {{"min_size", "4"}, {"max_size", "9"}, {"aspect_ratio", "2,3"}, {"flip", "true"}, {"clip", "true"}, {"step", "0"}, {"offset", "0.5"},
             {"variance", "0.1,0.1,0.2,0.2"}, {"min_max_aspect_ratios_order", "false"}};
  IrBuilder dyn;
  dyn.result(dyn.op("PriorBox", "opset8", a, {dyn.param("sz", "i64", {2}), dyn.param("img", "i64", {2})}, {{2, -1}}));
  IrBuilder fixed;
  fixed.result(fixed.op("PriorBox", "opset8", a, {fixed.i64({2}, {3, 5}), fixed.i64({2}, {12, 20})}, {{2, 3 * 5 * 6 * 4}}));
  auto want = runAll(fixed, {});
  auto got = runAll(dyn, {{"sz", Tensor::i64({2}, {3, 5})}, {"img", Tensor::i64({2}, {12, 20})}});
  ASSERT_EQ(got[0].shape, want[0].shape);
  expectNear(got[0].as<float>(), want[0].as<float>());
}

namespace {
float sigm(float v) { return 1 / (1 + std::exp(-v)); }
}  // namespace

TEST(IrOpsLegacyDet, RegionYoloV3AndV2) {
  // coords 4, classes 2 -> 7 entries per region; H = W = 2
  const int per = 7, HW = 4;
  for (bool softmax : {false, true}) {
    int regions = softmax ? 3 : 2;
    int C = per * regions;
    std::vector<float> x = seq(static_cast<size_t>(C * HW), -3.0f, 0.1f);
    std::vector<float> exp(x.size());
    for (int r = 0; r < regions; ++r)
      for (int i = 0; i < HW; ++i) {
        auto at = [&](int e) { return static_cast<size_t>((r * per + e) * HW + i); };
        for (int e : {0, 1, 4}) exp[at(e)] = sigm(x[at(e)]);
        for (int e : {2, 3}) exp[at(e)] = x[at(e)];
        if (softmax) {
          float m = std::max(x[at(5)], x[at(6)]);
          float s = std::exp(x[at(5)] - m) + std::exp(x[at(6)] - m);
          for (int e : {5, 6}) exp[at(e)] = std::exp(x[at(e)] - m) / s;
        } else {
          for (int e : {5, 6}) exp[at(e)] = sigm(x[at(e)]);
        }
      }
    IrBuilder b;
    auto p = b.param("x", "f32", {1, C, 2, 2});
    Attrs a{{"coords", "4"}, {"classes", "2"}, {"num", "3"}, {"do_softmax", softmax ? "true" : "false"}, {"axis", "1"}, {"end_axis", "3"}};
    if (!softmax) a["mask"] = "0,2";
    std::vector<int64_t> od = softmax ? std::vector<int64_t>{1, C * HW} : std::vector<int64_t>{1, C, 2, 2};
    b.result(b.op("RegionYolo", "opset1", a, {p}, {od}));
    std::vector<int64_t> shape;
    expectNear(runF(b, {{"x", Tensor::f32({1, C, 2, 2}, x)}}, &shape), exp);
    EXPECT_EQ(shape, od);
  }
}
