// Tests of ops/activation_ext.cpp and ops/normalization.cpp; expected values computed independently here.
#include "ops_test_common.h"

using namespace irtest;

namespace {
std::vector<float> unaryRun(const std::string& type, const std::string& ver, const Attrs& a, const std::vector<float>& x) {
  IrBuilder b;
  auto p = b.param("x", "f32", {static_cast<int64_t>(x.size())});
  b.result(b.op(type, ver, a, {p}, {{static_cast<int64_t>(x.size())}}));
  return runF(b, {{"x", Tensor::f32({static_cast<int64_t>(x.size())}, x)}});
}
}  // namespace

TEST(IrOpsExt, GeluErfAndTanh) {
  std::vector<float> x{-3, -1, -0.5f, 0, 0.5f, 1, 3};
  std::vector<float> erf, tnh;
  for (float v : x) {
    erf.push_back(0.5f * v * (1 + std::erf(v / std::sqrt(2.0f))));
    tnh.push_back(0.5f * v * (1 + std::tanh(std::sqrt(2 / static_cast<float>(M_PI)) * (v + 0.044715f * v * v * v))));
  }
  expectNear(unaryRun("Gelu", "opset2", {}, x), erf);
  expectNear(unaryRun("Gelu", "opset7", {{"approximation_mode", "ERF"}}, x), erf);
  expectNear(unaryRun("Gelu", "opset7", {{"approximation_mode", "tanh"}}, x), tnh);
  IrBuilder b;
  auto p = b.param("x", "f32", {2});
  b.result(b.op("Gelu", "opset7", {{"approximation_mode", "fast"}}, {p}, {{2}}));
  EXPECT_NE(translateError(b).find("approximation_mode"), std::string::npos);
}

TEST(IrOpsExt, MishSoftSignSign) {
  std::vector<float> x{-2, -0.5f, 0, 0.5f, 2};
  std::vector<float> mish, ss, sg;
  for (float v : x) {
    mish.push_back(v * std::tanh(std::log1p(std::exp(v))));
    ss.push_back(v / (1 + std::fabs(v)));
    sg.push_back(v > 0 ? 1.f : v < 0 ? -1.f : 0.f);
  }
  expectNear(unaryRun("Mish", "opset4", {}, x), mish);
  expectNear(unaryRun("SoftSign", "opset9", {}, x), ss);
  expectNear(unaryRun("Sign", "opset1", {}, x), sg);
  expectNear(unaryRun("Atan", "opset1", {}, {1.0f}), {static_cast<float>(M_PI / 4)});
  expectNear(unaryRun("Asinh", "opset4", {}, {1.0f}), {std::asinh(1.0f)});
}

TEST(IrOpsExt, SeluConstAndRuntimeParams) {
  std::vector<float> x{-1, 0, 2};
  const float al = 1.67326f, la = 1.0507f;
  std::vector<float> exp;
  for (float v : x) exp.push_back(la * (v > 0 ? v : al * (std::exp(v) - 1)));
  {
    IrBuilder b;
    auto p = b.param("x", "f32", {3});
    b.result(b.op("Selu", "opset1", {}, {p, b.f32({1}, {al}), b.f32({1}, {la})}, {{3}}));
    expectNear(runF(b, {{"x", Tensor::f32({3}, x)}}), exp);
  }
  {
    IrBuilder b;
    auto p = b.param("x", "f32", {3});
    auto a = b.param("a", "f32", {1});
    b.result(b.op("Selu", "opset1", {}, {p, a, b.f32({1}, {la})}, {{3}}));
    expectNear(runF(b, {{"x", Tensor::f32({3}, x)}, {"a", Tensor::f32({1}, {al})}}), exp);
  }
}

TEST(IrOpsExt, HardSigmoidAndSwishBeta) {
  std::vector<float> x{-4, -1, 0, 1, 4};
  std::vector<float> hs, sw;
  for (float v : x) {
    hs.push_back(std::min(1.f, std::max(0.f, 0.2f * v + 0.5f)));
    sw.push_back(v / (1 + std::exp(-2 * v)));
  }
  IrBuilder b;
  auto p = b.param("x", "f32", {5});
  b.result(b.op("HardSigmoid", "opset1", {}, {p, b.f32({}, {0.2f}), b.f32({}, {0.5f})}, {{5}}));
  expectNear(runF(b, {{"x", Tensor::f32({5}, x)}}), hs);
  IrBuilder b2;
  auto p2 = b2.param("x", "f32", {5});
  b2.result(b2.op("Swish", "opset4", {}, {p2, b2.f32({}, {2.0f})}, {{5}}));
  expectNear(runF(b2, {{"x", Tensor::f32({5}, x)}}), sw);
}

TEST(IrOpsExt, RoundModes) {
  std::vector<float> x{-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.4f, -2.6f};
  EXPECT_EQ(unaryRun("Round", "opset5", {{"mode", "half_to_even"}}, x), (std::vector<float>{-2, -2, -0, 0, 2, 2, 2, -3}));
  EXPECT_EQ(unaryRun("Round", "opset5", {{"mode", "half_away_from_zero"}}, x), (std::vector<float>{-3, -2, -1, 1, 2, 3, 2, -3}));
}

TEST(IrOpsExt, ModAndFloorModWithBroadcast) {
  // x [2,2] against y [2]: broadcast along the last axis.
  for (const std::string type : {"f32", "i32"}) {
    for (bool floor_mod : {false, true}) {
      IrBuilder b;
      auto p = b.param("x", type, {2, 2});
      auto y = type == "f32" ? b.f32({2}, {3, -3}) : b.constant<int32_t>("i32", {2}, {3, -3});
      b.result(b.op(floor_mod ? "FloorMod" : "Mod", "opset1", {{"auto_broadcast", "numpy"}}, {p, y}, {{2, 2}}, type));
      Tensor in = type == "f32" ? Tensor::f32({2, 2}, {-7, -7, 7, 7})
                                : Tensor::make<int32_t>(ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, {2, 2}, {-7, -7, 7, 7});
      // -7 mod 3, -7 mod -3, 7 mod 3, 7 mod -3
      std::vector<float> exp = floor_mod ? std::vector<float>{2, -1, 1, -2} : std::vector<float>{-1, -1, 1, 1};
      EXPECT_EQ(runF(b, {{"x", in}}), exp) << type << " floor_mod=" << floor_mod;
    }
  }
}

TEST(IrOpsExt, ConvertLikeTruncates) {
  IrBuilder b;
  auto p = b.param("x", "f32", {4});
  auto like = b.constant<int32_t>("i32", {1}, {0});
  b.result(b.op("ConvertLike", "opset1", {}, {p, like}, {{4}}, "i32"));
  auto out = runAll(b, {{"x", Tensor::f32({4}, {-1.7f, -0.2f, 0.9f, 2.5f})}});
  ASSERT_EQ(out[0].type, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32);
  EXPECT_EQ(out[0].as<int32_t>(), (std::vector<int32_t>{-1, 0, 0, 2}));
}

TEST(IrOpsExt, CumSumAttributesAndNegativeAxis) {
  std::vector<float> x{1, 2, 3, 4, 5, 6};  // [2,3]
  auto run = [&](const Attrs& a, int64_t axis) {
    IrBuilder b;
    auto p = b.param("x", "f32", {2, 3});
    b.result(b.op("CumSum", "opset3", a, {p, b.i64({}, {axis})}, {{2, 3}}));
    return runF(b, {{"x", Tensor::f32({2, 3}, x)}});
  };
  EXPECT_EQ(run({}, -1), (std::vector<float>{1, 3, 6, 4, 9, 15}));
  EXPECT_EQ(run({{"exclusive", "true"}}, 1), (std::vector<float>{0, 1, 3, 0, 4, 9}));
  EXPECT_EQ(run({{"reverse", "true"}}, 0), (std::vector<float>{5, 7, 9, 4, 5, 6}));
  EXPECT_EQ(run({{"reverse", "true"}, {"exclusive", "true"}}, 1), (std::vector<float>{5, 3, 0, 11, 6, 0}));
}

TEST(IrOpsExt, NormalizeL2EpsModes) {
  std::vector<float> x{3, 4, 0, 0};  // [2,2]
  for (std::string mode : {"add", "max"}) {
    IrBuilder b;
    auto p = b.param("x", "f32", {2, 2});
    b.result(b.op("NormalizeL2", "opset1", {{"eps", "0.5"}, {"eps_mode", mode}}, {p, b.i64({1}, {-1})}, {{2, 2}}));
    auto v = runF(b, {{"x", Tensor::f32({2, 2}, x)}});
    float d = mode == "add" ? std::sqrt(25.5f) : 5.0f;
    expectNear(v, {3 / d, 4 / d, 0, 0});
  }
  // over all axes
  IrBuilder b;
  auto p = b.param("x", "f32", {2, 2});
  b.result(b.op("NormalizeL2", "opset1", {{"eps", "1e-10"}, {"eps_mode", "add"}}, {p, b.i64({2}, {0, 1})}, {{2, 2}}));
  expectNear(runF(b, {{"x", Tensor::f32({2, 2}, {1, 1, 1, 1})}}), {0.5f, 0.5f, 0.5f, 0.5f});
}

TEST(IrOpsExt, BatchNormInferenceV5AndV1PortOrder) {
  // [1,2,2] data, per channel gamma/beta/mean/var
  std::vector<float> x{1, 2, 3, 4}, g{2, 0.5f}, be{1, -1}, m{1, 3}, var{4, 0.25f};
  std::vector<float> exp;
  for (int ch = 0; ch < 2; ++ch)
    for (int k = 0; k < 2; ++k) {
      float v = x[ch * 2 + k];
      exp.push_back(g[ch] * (v - m[ch]) / std::sqrt(var[ch] + 0.01f) + be[ch]);
    }
  {
    IrBuilder b;
    auto p = b.param("x", "f32", {1, 2, 2});
    b.result(b.op("BatchNormInference", "opset5", {{"epsilon", "0.01"}}, {p, b.f32({2}, g), b.f32({2}, be), b.f32({2}, m), b.f32({2}, var)}, {{1, 2, 2}}));
    expectNear(runF(b, {{"x", Tensor::f32({1, 2, 2}, x)}}), exp);
  }
  {
    IrBuilder b;
    auto p = b.param("x", "f32", {1, 2, 2});
    b.result(b.op("BatchNormInference", "opset1", {{"epsilon", "0.01"}}, {b.f32({2}, g), b.f32({2}, be), p, b.f32({2}, m), b.f32({2}, var)}, {{1, 2, 2}}));
    expectNear(runF(b, {{"x", Tensor::f32({1, 2, 2}, x)}}), exp);
  }
}

namespace {
// Reference LRN on NCHW over channels (axes [1]) or spatial (axes [2,3]).
std::vector<float> lrnRef(const std::vector<float>& x, int N, int C, int H, int W, bool channels, int size, float alpha, float beta, float bias) {
  std::vector<float> y(x.size());
  int half = size / 2;
  auto at = [&](int n, int c, int h, int w) { return x[((n * C + c) * H + h) * W + w]; };
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int h = 0; h < H; ++h)
        for (int w = 0; w < W; ++w) {
          float s = 0;
          if (channels) {
            for (int k = std::max(0, c - half); k <= std::min(C - 1, c + half); ++k) s += at(n, k, h, w) * at(n, k, h, w);
          } else {
            for (int i = std::max(0, h - half); i <= std::min(H - 1, h + half); ++i)
              for (int j = std::max(0, w - half); j <= std::min(W - 1, w + half); ++j) s += at(n, c, i, j) * at(n, c, i, j);
          }
          float scale = alpha / std::pow(static_cast<float>(size), channels ? 1.f : 2.f);
          y[((n * C + c) * H + h) * W + w] = at(n, c, h, w) / std::pow(bias + scale * s, beta);
        }
  return y;
}
}  // namespace

TEST(IrOpsExt, LrnChannelsAndSpatial) {
  std::vector<float> x = seq(1 * 4 * 3 * 3, -2.0f, 0.25f);
  for (bool channels : {true, false}) {
    for (int size : {3, 4}) {
      IrBuilder b;
      auto p = b.param("x", "f32", {1, 4, 3, 3});
      auto ax = channels ? b.i64({1}, {1}) : b.i64({2}, {2, 3});
      b.result(b.op("LRN", "opset1", {{"alpha", "0.5"}, {"beta", "0.75"}, {"bias", "2"}, {"size", std::to_string(size)}}, {p, ax}, {{1, 4, 3, 3}}));
      expectNear(runF(b, {{"x", Tensor::f32({1, 4, 3, 3}, x)}}), lrnRef(x, 1, 4, 3, 3, channels, size, 0.5f, 0.75f, 2.0f), 1e-5f);
    }
  }
}

TEST(IrOpsExt, FakeQuantizeFoldedOnConstantsMatchesRuntime) {
  // Same data once as a constant (folded at load time) and once as an input (computed by ONNX Runtime).
  std::vector<float> w = seq(24, -1.3f, 0.11f);
  std::vector<float> il{-1.0f, -0.5f, 0.0f}, ih{1.0f, 0.5f, 0.9f}, ol{-2.0f}, oh{2.0f};
  auto build = [&](bool folded) {
    IrBuilder b;
    auto p = b.param("x", "f32", {2, 3, 4});
    auto data = folded ? b.f32({2, 3, 4}, w) : p;
    auto fq = b.op("FakeQuantize", "opset1", {{"levels", "5"}}, {data, b.f32({1, 3, 1}, il), b.f32({1, 3, 1}, ih), b.f32({}, ol), b.f32({}, oh)}, {{2, 3, 4}});
    b.result(b.op("Add", "opset1", {}, {fq, folded ? p : b.f32({}, {0})}, {{2, 3, 4}}));
    return runF(b, {{"x", Tensor::f32({2, 3, 4}, folded ? std::vector<float>(24, 0.0f) : w)}});
  };
  auto a = build(true), r = build(false);
  EXPECT_EQ(a, r);
  // hand-checked element: w[0] = -1.3 on channel 0 (range [-1, 1]) saturates to ol = -2
  EXPECT_EQ(a[0], -2.0f);
  // w[4] = -0.86 on channel 1 (range [-0.5, 0.5]) saturates to -2; w[11] = -0.09 on channel 2: round(0) -> -2
  EXPECT_EQ(a[4], -2.0f);
}
