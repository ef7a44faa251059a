// Tests of ops/data_movement.cpp; expected values computed by hand / with plain loops.
#include "ops_test_common.h"

using namespace irtest;

namespace {
IrBuilder::Out cI64(IrBuilder& b, const std::vector<int64_t>& v) { return b.i64({static_cast<int64_t>(v.size())}, v); }
}  // namespace

TEST(IrOpsData, PadModes) {
  // x = [[1,2,3],[4,5,6]], pads_begin [1,2], pads_end [0,1]
  std::vector<float> x{1, 2, 3, 4, 5, 6};
  auto run = [&](const std::string& mode, bool value) {
    IrBuilder b;
    auto p = b.param("x", "f32", {2, 3});
    std::vector<IrBuilder::Out> ins{p, cI64(b, {1, 2}), cI64(b, {0, 1})};
    if (value) ins.push_back(b.f32({}, {9}));
    b.result(b.op("Pad", "opset1", {{"pad_mode", mode}}, ins, {{3, 6}}));
    std::vector<int64_t> shape;
    auto v = runF(b, {{"x", Tensor::f32({2, 3}, x)}}, &shape);
    EXPECT_EQ(shape, (std::vector<int64_t>{3, 6}));
    return v;
  };
  EXPECT_EQ(run("constant", true), (std::vector<float>{9, 9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9}));
  EXPECT_EQ(run("constant", false), (std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0}));
  EXPECT_EQ(run("edge", false), (std::vector<float>{1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6}));
  // reflect excludes the border: row -1 = row 1; cols: [3,2 | 1,2,3 | 2]
  EXPECT_EQ(run("reflect", false), (std::vector<float>{6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5}));
  // symmetric repeats the border: row -1 = row 0; cols: [2,1 | 1,2,3 | 3]
  EXPECT_EQ(run("symmetric", false), (std::vector<float>{2, 1, 1, 2, 3, 3, 2, 1, 1, 2, 3, 3, 5, 4, 4, 5, 6, 6}));
}

TEST(IrOpsData, Pad12NegativePadsCrop) {
  IrBuilder b;
  auto p = b.param("x", "f32", {2, 4});
  b.result(b.op("Pad", "opset12", {{"pad_mode", "constant"}}, {p, cI64(b, {0, -1}), cI64(b, {1, -2}), b.f32({}, {7})}, {{3, 1}}));
  std::vector<int64_t> shape;
  auto v = runF(b, {{"x", Tensor::f32({2, 4}, seq(8))}}, &shape);
  EXPECT_EQ(shape, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(v, (std::vector<float>{1, 5, 7}));
  // Pad-1 rejects negative pads
  IrBuilder b1;
  auto p1 = b1.param("x", "f32", {2, 4});
  b1.result(b1.op("Pad", "opset1", {{"pad_mode", "constant"}}, {p1, cI64(b1, {0, -1}), cI64(b1, {0, 0})}, {{2, 3}}));
  EXPECT_NE(translateError(b1).find("negative"), std::string::npos);
}

TEST(IrOpsData, PadRuntimePads) {
  IrBuilder b;
  auto p = b.param("x", "f32", {3});
  auto pb = b.param("pb", "i64", {1});
  b.result(b.op("Pad", "opset1", {{"pad_mode", "edge"}}, {p, pb, cI64(b, {1})}, {{-1}}));
  EXPECT_EQ(runF(b, {{"x", Tensor::f32({3}, {1, 2, 3})}, {"pb", Tensor::i64({1}, {2})}}), (std::vector<float>{1, 1, 1, 2, 3, 3}));
}

TEST(IrOpsData, Slice8NegativeStepAndAxes) {
  // x [3,4]; on axis -1: start -1, stop -5 (past the front), step -2 -> cols 3,1; axis 0: 1..3
  IrBuilder b;
  auto p = b.param("x", "f32", {3, 4});
  b.result(b.op("Slice", "opset8", {}, {p, cI64(b, {-1, 1}), cI64(b, {-5, 3}), cI64(b, {-2, 1}), cI64(b, {-1, 0})}, {{2, 2}}));
  std::vector<int64_t> shape;
  auto v = runF(b, {{"x", Tensor::f32({3, 4}, seq(12))}}, &shape);
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(v, (std::vector<float>{7, 5, 11, 9}));
  // no axes input: applies to the leading axes
  IrBuilder b2;
  auto p2 = b2.param("x", "f32", {3, 4});
  b2.result(b2.op("Slice", "opset8", {}, {p2, cI64(b2, {1}), cI64(b2, {100}), cI64(b2, {1})}, {{2, 4}}));
  EXPECT_EQ(runF(b2, {{"x", Tensor::f32({3, 4}, seq(12))}}), seq(8, 4));
}

TEST(IrOpsData, GatherNDBatchDims) {
  // data [2,2,2]; indices [2,1] with batch_dims 1 -> out[b] = data[b, idx[b]] : [2,2]
  IrBuilder b;
  auto p = b.param("x", "f32", {2, 2, 2});
  b.result(b.op("GatherND", "opset8", {{"batch_dims", "1"}}, {p, b.i64({2, 1}, {1, 0})}, {{2, 2}}));
  EXPECT_EQ(runF(b, {{"x", Tensor::f32({2, 2, 2}, seq(8))}}), (std::vector<float>{2, 3, 4, 5}));
  // batch_dims 2: data [2,3,4], indices [2,3,1]: v8 output [2,3], v5 output [6]
  std::vector<int64_t> idx{0, 1, 2, 3, 0, 1};
  std::vector<float> exp;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) exp.push_back(static_cast<float>(i * 12 + j * 4 + idx[i * 3 + j]));
  for (bool v8 : {true, false}) {
    IrBuilder b2;
    auto p2 = b2.param("x", "f32", {2, 3, 4});
    b2.result(b2.op("GatherND", v8 ? "opset8" : "opset5", {{"batch_dims", "2"}}, {p2, b2.i64({2, 3, 1}, idx)}, {v8 ? std::vector<int64_t>{2, 3} : std::vector<int64_t>{6}}));
    std::vector<int64_t> shape;
    EXPECT_EQ(runF(b2, {{"x", Tensor::f32({2, 3, 4}, seq(24))}}, &shape), exp);
    EXPECT_EQ(shape, v8 ? (std::vector<int64_t>{2, 3}) : (std::vector<int64_t>{6}));
  }
}

TEST(IrOpsData, GatherElementsNegativeAxis) {
  IrBuilder b;
  auto p = b.param("x", "f32", {2, 3});
  b.result(b.op("GatherElements", "opset6", {{"axis", "-1"}}, {p, b.constant<int32_t>("i32", {2, 2}, {2, 0, 1, 1})}, {{2, 2}}));
  EXPECT_EQ(runF(b, {{"x", Tensor::f32({2, 3}, seq(6))}}), (std::vector<float>{2, 0, 4, 4}));
}

TEST(IrOpsData, ScatterUpdateAxes) {
  // axis 0: data [3,2], indices [2] = {2, 0}, updates [2,2]
  {
    IrBuilder b;
    auto p = b.param("x", "f32", {3, 2});
    b.result(b.op("ScatterUpdate", "opset3", {}, {p, b.i64({2}, {2, 0}), b.f32({2, 2}, {10, 11, 20, 21}), b.i64({}, {0})}, {{3, 2}}));
    EXPECT_EQ(runF(b, {{"x", Tensor::f32({3, 2}, seq(6))}}), (std::vector<float>{20, 21, 2, 3, 10, 11}));
  }
  // axis 1 (given as -2) with 2-D indices: data [2,4,1], indices [1,2] = {{3,-4}}, updates [2,1,2,1]
  {
    IrBuilder b;
    auto p = b.param("x", "f32", {2, 4, 1});
    b.result(b.op("ScatterUpdate", "opset3", {}, {p, b.i64({1, 2}, {3, -4}), b.f32({2, 1, 2, 1}, {100, 101, 200, 201}), b.i64({}, {-2})}, {{2, 4, 1}}));
    EXPECT_EQ(runF(b, {{"x", Tensor::f32({2, 4, 1}, seq(8))}}), (std::vector<float>{101, 1, 2, 100, 201, 5, 6, 200}));
  }
}

TEST(IrOpsData, ScatterNDUpdate) {
  IrBuilder b;
  auto p = b.param("x", "f32", {2, 3});
  b.result(b.op("ScatterNDUpdate", "opset3", {}, {p, b.constant<int32_t>("i32", {2, 2}, {0, 2, 1, 0}), b.f32({2}, {-1, -2})}, {{2, 3}}));
  EXPECT_EQ(runF(b, {{"x", Tensor::f32({2, 3}, seq(6))}}), (std::vector<float>{0, 1, -1, -2, 4, 5}));
}

TEST(IrOpsData, ScatterElementsUpdateV3AndV12Reductions) {
  std::vector<int64_t> idx{1, 1, 0, 2};
  std::vector<float> upd{10, 20, 30, 40};
  auto run = [&](const std::string& ver, const Attrs& a) {
    IrBuilder b;
    auto p = b.param("x", "f32", {2, 3});
    b.result(b.op("ScatterElementsUpdate", ver, a, {p, b.i64({2, 2}, idx), b.f32({2, 2}, upd), b.i64({}, {-1})}, {{2, 3}}));
    return runF(b, {{"x", Tensor::f32({2, 3}, {1, 2, 3, 4, 5, 6})}});
  };
  // row 0 gets col1 <- 10 then 20 (last wins for "none"); row 1: col0 <- 30, col2 <- 40
  auto none = run("opset3", {});
  EXPECT_EQ(none[0], 1);
  EXPECT_TRUE(none[1] == 10 || none[1] == 20);
  EXPECT_EQ((std::vector<float>(none.begin() + 2, none.end())), (std::vector<float>{3, 30, 5, 40}));
  EXPECT_EQ(run("opset12", {{"reduction", "sum"}}), (std::vector<float>{1, 32, 3, 34, 5, 46}));
  EXPECT_EQ(run("opset12", {{"reduction", "prod"}}), (std::vector<float>{1, 400, 3, 120, 5, 240}));
  IrBuilder b;
  auto p = b.param("x", "f32", {2, 3});
  b.result(b.op("ScatterElementsUpdate", "opset12", {{"reduction", "mean"}}, {p, b.i64({2, 2}, idx), b.f32({2, 2}, upd), b.i64({}, {1})}, {{2, 3}}));
  EXPECT_NE(translateError(b).find("reduction"), std::string::npos);
}

TEST(IrOpsData, DepthToSpaceAndSpaceToDepthModes) {
  // x [1,4,1,2] (C=4, bs=2) -> [1,1,2,4]
  std::vector<float> x = seq(8);  // x[c][w] = c*2 + w
  auto d2s = [&](const std::string& mode) {
    IrBuilder b;
    auto p = b.param("x", "f32", {1, 4, 1, 2});
    b.result(b.op("DepthToSpace", "opset1", {{"mode", mode}, {"block_size", "2"}}, {p}, {{1, 1, 2, 4}}));
    return runF(b, {{"x", Tensor::f32({1, 4, 1, 2}, x)}});
  };
  // blocks_first: c = (bh*2 + bw) * 1 + 0 ; y[h*2+bh][w*2+bw] = x[bh*2+bw][w]
  // depth_first: c = 0*4 + bh*2 + bw (same here since C_out = 1)
  std::vector<float> exp(8);
  for (int bh = 0; bh < 2; ++bh)
    for (int w = 0; w < 2; ++w)
      for (int bw = 0; bw < 2; ++bw) exp[bh * 4 + w * 2 + bw] = x[(bh * 2 + bw) * 2 + w];
  EXPECT_EQ(d2s("blocks_first"), exp);
  EXPECT_EQ(d2s("depth_first"), exp);
  // C_out = 2 distinguishes the modes: x [1,8,1,1] -> [1,2,2,2]
  auto d2s2 = [&](const std::string& mode) {
    IrBuilder b;
    auto p = b.param("x", "f32", {1, 8, 1, 1});
    b.result(b.op("DepthToSpace", "opset1", {{"mode", mode}, {"block_size", "2"}}, {p}, {{1, 2, 2, 2}}));
    return runF(b, {{"x", Tensor::f32({1, 8, 1, 1}, seq(8))}});
  };
  // blocks_first: in channel = (bh*2+bw)*2 + c ; depth_first: c*4 + bh*2 + bw; out index c*4 + bh*2 + bw
  std::vector<float> bf(8), df(8);
  for (int c = 0; c < 2; ++c)
    for (int bh = 0; bh < 2; ++bh)
      for (int bw = 0; bw < 2; ++bw) {
        bf[c * 4 + bh * 2 + bw] = static_cast<float>((bh * 2 + bw) * 2 + c);
        df[c * 4 + bh * 2 + bw] = static_cast<float>(c * 4 + bh * 2 + bw);
      }
  EXPECT_EQ(d2s2("blocks_first"), bf);
  EXPECT_EQ(d2s2("depth_first"), df);
  // SpaceToDepth is the inverse of DepthToSpace in the same mode.
  for (std::string mode : {"blocks_first", "depth_first"}) {
    IrBuilder b;
    auto p = b.param("x", "f32", {1, 2, 2, 2});
    b.result(b.op("SpaceToDepth", "opset1", {{"mode", mode}, {"block_size", "2"}}, {p}, {{1, 8, 1, 1}}));
    auto& src = mode == "blocks_first" ? bf : df;
    EXPECT_EQ(runF(b, {{"x", Tensor::f32({1, 2, 2, 2}, src)}}), seq(8)) << mode;
  }
}

TEST(IrOpsData, ShuffleChannels) {
  // [1,6,1] group 2: out channel k = in channel (k % 3) * 2 + k / 3... i.e. reshape [2,3] -> transpose -> [3,2]
  IrBuilder b;
  auto p = b.param("x", "f32", {1, 6, 1});
  b.result(b.op("ShuffleChannels", "opset1", {{"axis", "-2"}, {"group", "2"}}, {p}, {{1, 6, 1}}));
  EXPECT_EQ(runF(b, {{"x", Tensor::f32({1, 6, 1}, seq(6))}}), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(IrOpsData, EinsumMatMulAndTranspose) {
  IrBuilder b;
  auto p = b.param("a", "f32", {2, 3});
  auto q = b.param("b", "f32", {3, 2});
  b.result(b.op("Einsum", "opset7", {{"equation", "ij, jk -> ik"}}, {p, q}, {{2, 2}}));
  std::vector<float> A = seq(6), B = seq(6, 1);
  std::vector<float> exp(4, 0);
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 2; ++k)
      for (int j = 0; j < 3; ++j) exp[i * 2 + k] += A[i * 3 + j] * B[j * 2 + k];
  EXPECT_EQ(runF(b, {{"a", Tensor::f32({2, 3}, A)}, {"b", Tensor::f32({3, 2}, B)}}), exp);
  IrBuilder b2;
  auto p2 = b2.param("a", "f32", {2, 3});
  b2.result(b2.op("Einsum", "opset7", {{"equation", "ij->ji"}}, {p2}, {{3, 2}}));
  EXPECT_EQ(runF(b2, {{"a", Tensor::f32({2, 3}, A)}}), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(IrOpsData, Interpolate1NearestAndLinear) {
  // [1,1,1,2] -> sizes [1,4] on axes 2,3
  {
    IrBuilder b;
    auto p = b.param("x", "f32", {1, 1, 1, 2});
    b.result(b.op("Interpolate", "opset1", {{"axes", "2,3"}, {"mode", "nearest"}, {"align_corners", "false"}}, {p, b.i64({2}, {1, 4})}, {{1, 1, 1, 4}}));
    EXPECT_EQ(runF(b, {{"x", Tensor::f32({1, 1, 1, 2}, {1, 2})}}), (std::vector<float>{1, 1, 2, 2}));
  }
  {
    // align_corners: positions 0, 1/3, 2/3, 1 of [1, 4]
    IrBuilder b;
    auto p = b.param("x", "f32", {1, 1, 1, 2});
    b.result(b.op("Interpolate", "opset1", {{"axes", "3"}, {"mode", "linear"}, {"align_corners", "true"}}, {p, b.i64({1}, {4})}, {{1, 1, 1, 4}}));
    expectNear(runF(b, {{"x", Tensor::f32({1, 1, 1, 2}, {1, 4})}}), {1, 2, 3, 4});
  }
  {
    // 4-D on axes {2,3} without align_corners: asymmetric -> x_in = x_out / 2
    IrBuilder b;
    auto p = b.param("x", "f32", {1, 1, 1, 2});
    b.result(b.op("Interpolate", "opset1", {{"axes", "2,3"}, {"mode", "linear"}, {"align_corners", "false"}}, {p, b.i64({2}, {1, 4})}, {{1, 1, 1, 4}}));
    expectNear(runF(b, {{"x", Tensor::f32({1, 1, 1, 2}, {1, 3})}}), {1, 2, 3, 3});
  }
}
