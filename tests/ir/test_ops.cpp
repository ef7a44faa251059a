// Per-op translation tests on tiny hand-written IRs; expected values are computed by hand / independently.
#include <cmath>
#include <numeric>

#include "ir_test_util.h"

using namespace irtest;
namespace ir = ovms::engine::ir;
using S = std::map<std::string, std::string>;

namespace {

std::vector<float> run1(const IrBuilder& b, const std::vector<std::pair<std::string, Tensor>>& in, std::vector<int64_t>* shape = nullptr,
                        size_t out_idx = 0) {
  auto t = b.translate();
  Runner r(t.onnx_model);
  auto out = r.run(in);
  if (shape) *shape = out.at(out_idx).shape;
  if (out.at(out_idx).type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
    auto v = out[out_idx].as<int64_t>();
    return std::vector<float>(v.begin(), v.end());
  }
  if (out.at(out_idx).type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32) {
    auto v = out[out_idx].as<int32_t>();
    return std::vector<float>(v.begin(), v.end());
  }
  return out[out_idx].as<float>();
}

std::vector<float> iota(size_t n, float start = 0) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

}  // namespace

TEST(IrOps, AddNumpyBroadcast) {
  IrBuilder b;
  auto x = b.param("x", "f32", {2, 3});
  auto c = b.f32({3}, {10, 20, 30});
  b.result(b.op("Add", "opset1", {{"auto_broadcast", "numpy"}}, {x, c}, {{2, 3}}));
  auto v = run1(b, {{"x", Tensor::f32({2, 3}, iota(6))}});
  EXPECT_EQ(v, (std::vector<float>{10, 21, 32, 13, 24, 35}));
}

TEST(IrOps, SubtractBidirectionalBroadcast) {
  IrBuilder b;
  auto x = b.param("x", "f32", {2, 1});
  auto c = b.f32({1, 3}, {1, 2, 3});
  b.result(b.op("Subtract", "opset1", {}, {x, c}, {{2, 3}}));
  std::vector<int64_t> shape;
  auto v = run1(b, {{"x", Tensor::f32({2, 1}, {10, 20})}}, &shape);
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(v, (std::vector<float>{9, 8, 7, 19, 18, 17}));
}

TEST(IrOps, IntegerDivideIsFloorDivision) {
  IrBuilder b;
  auto x = b.param("x", "i32", {4});
  auto c = b.constant<int32_t>("i32", {4}, {2, 2, -2, 3});
  b.result(b.op("Divide", "opset1", {{"m_pythondiv", "true"}}, {x, c}, {{4}}, "i32"));
  auto v = run1(b, {{"x", Tensor::make<int32_t>(ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, {4}, {-7, 7, 7, 9})}});
  EXPECT_EQ(v, (std::vector<float>{-4, 3, -4, 3}));
}

TEST(IrOps, SoftmaxNegativeAxis) {
  IrBuilder b;
  auto x = b.param("x", "f32", {2, 2});
  b.result(b.op("SoftMax", "opset8", {{"axis", "-1"}}, {x}, {{2, 2}}));
  auto v = run1(b, {{"x", Tensor::f32({2, 2}, {0, 0, 0, std::log(3.0f)})}});
  EXPECT_NEAR(v[0], 0.5f, 1e-6);
  EXPECT_NEAR(v[2], 0.25f, 1e-6);
  EXPECT_NEAR(v[3], 0.75f, 1e-6);
}

TEST(IrOps, SoftmaxV1RejectsNegativeAxis) {
  IrBuilder b;
  auto x = b.param("x", "f32", {2, 2});
  b.result(b.op("SoftMax", "opset1", {{"axis", "-1"}}, {x}, {{2, 2}}));
  EXPECT_THROW(b.translate(), ir::IrError);
}

TEST(IrOps, StridedSliceMasks) {
  // x[:, 1:3, :] on [2,3,4] with begin_mask ignoring axis 0
  IrBuilder b;
  auto x = b.param("x", "f32", {2, 3, 4});
  auto be = b.i64({2}, {5, 1}), en = b.i64({2}, {0, 3});
  b.result(b.op("StridedSlice", "opset1", {{"begin_mask", "1,0"}, {"end_mask", "1,0"}, {"new_axis_mask", ""}, {"shrink_axis_mask", ""}, {"ellipsis_mask", ""}},
                {x, be, en}, {{2, 2, 4}}));
  std::vector<int64_t> shape;
  auto v = run1(b, {{"x", Tensor::f32({2, 3, 4}, iota(24))}}, &shape);
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 2, 4}));
  std::vector<float> exp;
  for (int i = 0; i < 2; ++i)
    for (int j = 1; j < 3; ++j)
      for (int k = 0; k < 4; ++k) exp.push_back(static_cast<float>(i * 12 + j * 4 + k));
  EXPECT_EQ(v, exp);
}

TEST(IrOps, StridedSliceShrinkNewAxisEllipsisNegativeStride) {
  // x[-1, ..., None, ::-1] on [2,3,4] -> shape [3,1,4]
  IrBuilder b;
  auto x = b.param("x", "f32", {2, 3, 4});
  auto be = b.i64({4}, {-1, 0, 0, 0}), en = b.i64({4}, {0, 0, 0, 0}), st = b.i64({4}, {1, 1, 1, -1});
  b.result(b.op("StridedSlice", "opset1",
                {{"begin_mask", "0,0,0,1"}, {"end_mask", "0,0,0,1"}, {"new_axis_mask", "0,0,1,0"}, {"shrink_axis_mask", "1,0,0,0"}, {"ellipsis_mask", "0,1,0,0"}},
                {x, be, en, st}, {{3, 1, 4}}));
  std::vector<int64_t> shape;
  auto v = run1(b, {{"x", Tensor::f32({2, 3, 4}, iota(24))}}, &shape);
  EXPECT_EQ(shape, (std::vector<int64_t>{3, 1, 4}));
  std::vector<float> exp;
  for (int j = 0; j < 3; ++j)
    for (int k = 3; k >= 0; --k) exp.push_back(static_cast<float>(12 + j * 4 + k));
  EXPECT_EQ(v, exp);
}

TEST(IrOps, StridedSliceRuntimeBegin) {
  IrBuilder b;
  auto x = b.param("x", "f32", {5});
  auto be = b.param("b", "i64", {1});
  auto en = b.i64({1}, {4});
  b.result(b.op("StridedSlice", "opset1", {{"begin_mask", "0"}, {"end_mask", "0"}}, {x, be, en}, {{-1}}));
  auto v = run1(b, {{"x", Tensor::f32({5}, iota(5))}, {"b", Tensor::i64({1}, {-3})}});
  EXPECT_EQ(v, (std::vector<float>{2, 3}));
}

TEST(IrOps, GatherNegativeIndicesAndBatchDims) {
  {
    IrBuilder b;
    auto x = b.param("x", "f32", {3, 2});
    auto idx = b.i64({2}, {-1, 0});
    auto ax = b.i64({}, {0});
    b.result(b.op("Gather", "opset8", {{"batch_dims", "0"}}, {x, idx, ax}, {{2, 2}}));
    EXPECT_EQ(run1(b, {{"x", Tensor::f32({3, 2}, iota(6))}}), (std::vector<float>{4, 5, 0, 1}));
  }
  {
    IrBuilder b;
    auto x = b.param("x", "f32", {2, 3});
    auto idx = b.i64({2, 2}, {2, 0, 1, -1});
    auto ax = b.i64({}, {1});
    b.result(b.op("Gather", "opset8", {{"batch_dims", "1"}}, {x, idx, ax}, {{2, 2}}));
    EXPECT_EQ(run1(b, {{"x", Tensor::f32({2, 3}, iota(6))}}), (std::vector<float>{2, 0, 4, 5}));
  }
}

TEST(IrOps, ReshapeSpecialZero) {
  IrBuilder b;
  auto x = b.param("x", "f32", {2, 3, 4});
  auto s = b.i64({2}, {0, -1});
  b.result(b.op("Reshape", "opset1", {{"special_zero", "true"}}, {x, s}, {{2, 12}}));
  std::vector<int64_t> shape;
  run1(b, {{"x", Tensor::f32({2, 3, 4}, iota(24))}}, &shape);
  EXPECT_EQ(shape, (std::vector<int64_t>{2, 12}));
}

TEST(IrOps, BroadcastModes) {
  {
    IrBuilder b;
    auto x = b.param("x", "f32", {3});
    auto s = b.i64({2}, {2, 3});
    auto m = b.i64({1}, {1});
    b.result(b.op("Broadcast", "opset3", {{"mode", "explicit"}}, {x, s, m}, {{2, 3}}));
    EXPECT_EQ(run1(b, {{"x", Tensor::f32({3}, {1, 2, 3})}}), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  }
  {
    IrBuilder b;
    auto x = b.param("x", "f32", {2});
    auto s = b.i64({2}, {2, 3});
    auto m = b.i64({1}, {0});
    b.result(b.op("Broadcast", "opset3", {{"mode", "explicit"}}, {x, s, m}, {{2, 3}}));
    EXPECT_EQ(run1(b, {{"x", Tensor::f32({2}, {1, 2})}}), (std::vector<float>{1, 1, 1, 2, 2, 2}));
  }
  {
    IrBuilder b;
    auto x = b.param("x", "f32", {3, 1});
    auto s = b.i64({2}, {1, 2});
    b.result(b.op("Broadcast", "opset3", {{"mode", "bidirectional"}}, {x, s}, {{3, 2}}));
    EXPECT_EQ(run1(b, {{"x", Tensor::f32({3, 1}, {1, 2, 3})}}), (std::vector<float>{1, 1, 2, 2, 3, 3}));
  }
}

TEST(IrOps, TileShortRepeats) {
  IrBuilder b;
  auto x = b.param("x", "f32", {2, 2});
  auto r = b.i64({1}, {2});
  b.result(b.op("Tile", "opset1", {}, {x, r}, {{2, 4}}));
  EXPECT_EQ(run1(b, {{"x", Tensor::f32({2, 2}, {1, 2, 3, 4})}}), (std::vector<float>{1, 2, 1, 2, 3, 4, 3, 4}));
}

TEST(IrOps, MvnEpsModes) {
  for (bool inside : {true, false}) {
    IrBuilder b;
    auto x = b.param("x", "f32", {1, 4});
    auto ax = b.i64({1}, {-1});
    b.result(b.op("MVN", "opset6", {{"eps", "1"}, {"eps_mode", inside ? "inside_sqrt" : "outside_sqrt"}, {"normalize_variance", "true"}}, {x, ax}, {{1, 4}}));
    auto v = run1(b, {{"x", Tensor::f32({1, 4}, {1, 2, 3, 4})}});
    // mean 2.5, var 1.25
    float den = inside ? std::sqrt(2.25f) : std::sqrt(1.25f) + 1.0f;
    EXPECT_NEAR(v[0], -1.5f / den, 1e-6);
    EXPECT_NEAR(v[3], 1.5f / den, 1e-6);
  }
}

TEST(IrOps, FakeQuantizeFormula) {
  IrBuilder b;
  auto x = b.param("x", "f32", {6});
  auto il = b.f32({}, {0}), ih = b.f32({}, {1}), ol = b.f32({}, {0}), oh = b.f32({}, {2});
  b.result(b.op("FakeQuantize", "opset1", {{"levels", "3"}, {"auto_broadcast", "numpy"}}, {x, il, ih, ol, oh}, {{6}}));
  auto v = run1(b, {{"x", Tensor::f32({6}, {-1, 0, 0.3f, 0.25f, 0.8f, 2})}});
  // round((clamp(x)-0)/1*2)/2*2: 0.3 -> round(0.6)=1 -> 1; 0.25 -> round(0.5)=0 (ties to even) -> 0; 0.8 -> 2
  EXPECT_EQ(v, (std::vector<float>{0, 0, 1, 0, 2, 2}));
}

TEST(IrOps, FakeQuantizePerChannel) {
  IrBuilder b;
  auto x = b.param("x", "f32", {1, 2, 1, 2});
  auto il = b.f32({1, 2, 1, 1}, {0, -1}), ih = b.f32({1, 2, 1, 1}, {1, 1});
  auto ol = b.f32({1, 2, 1, 1}, {0, -2}), oh = b.f32({1, 2, 1, 1}, {1, 2});
  b.result(b.op("FakeQuantize", "opset1", {{"levels", "256"}}, {x, il, ih, ol, oh}, {{1, 2, 1, 2}}));
  auto v = run1(b, {{"x", Tensor::f32({1, 2, 1, 2}, {0.5f, 2, 0, -3})}});
  EXPECT_NEAR(v[0], std::nearbyint(0.5f * 255) / 255, 1e-6);
  EXPECT_NEAR(v[1], 1.0f, 1e-6);
  EXPECT_NEAR(v[2], std::nearbyint(0.5f * 255) / 255 * 4 - 2, 1e-5);
  EXPECT_NEAR(v[3], -2.0f, 1e-6);
}

TEST(IrOps, TopKSortByIndexAndMin) {
  IrBuilder b;
  auto x = b.param("x", "f32", {5});
  auto k = b.i64({}, {3});
  auto t = b.op("TopK", "opset3", {{"axis", "0"}, {"mode", "max"}, {"sort", "index"}, {"index_element_type", "i32"}}, {x, k}, {{3}, {3}}, "f32", {"f32", "i32"});
  b.result(t);
  b.result({t.id, t.port + 1});
  auto tr = b.translate();
  Runner r(tr.onnx_model);
  auto out = r.run({{"x", Tensor::f32({5}, {5, 1, 4, 3, 9})}});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{5, 4, 9}));
  EXPECT_EQ(out[1].type, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32);
  EXPECT_EQ(out[1].as<int32_t>(), (std::vector<int32_t>{0, 2, 4}));
}

TEST(IrOps, InterpolateNearestSizes) {
  IrBuilder b;
  auto x = b.param("x", "f32", {1, 1, 2, 2});
  auto sizes = b.i64({2}, {4, 4});
  auto scales = b.f32({2}, {2, 2});
  auto axes = b.i64({2}, {2, 3});
  b.result(b.op("Interpolate", "opset4",
                {{"mode", "nearest"}, {"shape_calculation_mode", "sizes"}, {"coordinate_transformation_mode", "asymmetric"}, {"nearest_mode", "floor"},
                 {"pads_begin", "0,0,0,0"}, {"pads_end", "0,0,0,0"}, {"antialias", "false"}, {"cube_coeff", "-0.75"}},
                {x, sizes, scales, axes}, {{1, 1, 4, 4}}));
  auto v = run1(b, {{"x", Tensor::f32({1, 1, 2, 2}, {1, 2, 3, 4})}});
  EXPECT_EQ(v, (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(IrOps, ReduceKeepDimsAndNegativeAxes) {
  IrBuilder b;
  auto x = b.param("x", "f32", {2, 3});
  auto ax = b.i64({1}, {-1});
  b.result(b.op("ReduceMax", "opset1", {{"keep_dims", "false"}}, {x, ax}, {{2}}));
  b.result(b.op("ReduceSum", "opset1", {{"keep_dims", "true"}}, {x, ax}, {{2, 1}}));
  auto t = b.translate();
  Runner r(t.onnx_model);
  auto out = r.run({{"x", Tensor::f32({2, 3}, {1, 5, 2, -1, -7, -3})}});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{5, -1}));
  EXPECT_EQ(out[1].shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(out[1].as<float>(), (std::vector<float>{8, -11}));
}

TEST(IrOps, MatMulTransposes) {
  IrBuilder b;
  auto a = b.param("a", "f32", {2, 3});
  auto w = b.f32({2, 3}, {1, 0, 0, 0, 1, 1});
  b.result(b.op("MatMul", "opset1", {{"transpose_a", "false"}, {"transpose_b", "true"}}, {a, w}, {{2, 2}}));
  EXPECT_EQ(run1(b, {{"a", Tensor::f32({2, 3}, iota(6, 1))}}), (std::vector<float>{1, 5, 4, 11}));
}

TEST(IrOps, PReLUPerChannel) {
  IrBuilder b;
  auto x = b.param("x", "f32", {1, 2, 1, 2});
  auto s = b.f32({2}, {0.5f, 2});
  b.result(b.op("PReLU", "opset1", {}, {x, s}, {{1, 2, 1, 2}}));
  EXPECT_EQ(run1(b, {{"x", Tensor::f32({1, 2, 1, 2}, {-2, 3, -2, 3})}}), (std::vector<float>{-1, 3, -4, 3}));
}

TEST(IrOps, ClampEluSelectEqual) {
  IrBuilder b;
  auto x = b.param("x", "f32", {4});
  auto cl = b.op("Clamp", "opset1", {{"min", "-1"}, {"max", "2"}}, {x}, {{4}});
  auto el = b.op("Elu", "opset1", {{"alpha", "2"}}, {x}, {{4}});
  auto z = b.f32({}, {3});
  auto eq = b.op("Equal", "opset1", {}, {x, z}, {{4}}, "boolean");
  b.result(cl);
  b.result(el);
  b.result(b.op("Select", "opset1", {}, {eq, x, cl}, {{4}}));
  auto t = b.translate();
  Runner r(t.onnx_model);
  auto out = r.run({{"x", Tensor::f32({4}, {-5, 0.5f, 3, 9})}});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{-1, 0.5f, 2, 2}));
  auto e = out[1].as<float>();
  EXPECT_NEAR(e[0], 2 * (std::exp(-5.0f) - 1), 1e-6);
  EXPECT_EQ(e[2], 3.0f);
  EXPECT_EQ(out[2].as<float>(), (std::vector<float>{-1, 0.5f, 3, 2}));
}

TEST(IrOps, MaxPoolV8Indices) {
  IrBuilder b;
  auto x = b.param("x", "f32", {1, 1, 2, 4});
  auto mp = b.op("MaxPool", "opset8",
                 {{"kernel", "2,2"}, {"strides", "2,2"}, {"pads_begin", "0,0"}, {"pads_end", "0,0"}, {"dilations", "1,1"}, {"rounding_type", "floor"},
                  {"auto_pad", "explicit"}, {"index_element_type", "i64"}, {"axis", "0"}},
                 {x}, {{1, 1, 1, 2}, {1, 1, 1, 2}}, "f32", {"f32", "i64"});
  b.result(mp);
  b.result({mp.id, mp.port + 1});
  auto t = b.translate();
  Runner r(t.onnx_model);
  auto out = r.run({{"x", Tensor::f32({1, 1, 2, 4}, {1, 8, 3, 2, 5, 0, 4, 7})}});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{8, 7}));
  EXPECT_EQ(out[1].as<int64_t>(), (std::vector<int64_t>{1, 7}));
}

TEST(IrOps, ConvertFoldsF16Constants) {
  IrBuilder b;
  auto x = b.param("x", "f32", {2});
  std::vector<uint16_t> h{0x3c00 /*1.0*/, 0xc000 /*-2.0*/};
  auto c = b.constant<uint16_t>("f16", {2}, h);
  auto cv = b.op("Convert", "opset1", {{"destination_type", "f32"}}, {c}, {{2}});
  b.result(b.op("Multiply", "opset1", {}, {x, cv}, {{2}}));
  EXPECT_EQ(run1(b, {{"x", Tensor::f32({2}, {3, 4})}}), (std::vector<float>{3, -8}));
}

TEST(IrOps, ShapeOfRangeUnsqueezeSqueezeConcat) {
  IrBuilder b;
  auto x = b.param("x", "f32", {2, 3});
  auto sh = b.op("ShapeOf", "opset3", {{"output_type", "i64"}}, {x}, {{2}}, "i64");
  auto one = b.i64({1}, {7});
  b.result(b.op("Concat", "opset1", {{"axis", "0"}}, {sh, one}, {{3}}, "i64"));
  auto u = b.op("Unsqueeze", "opset1", {}, {x, b.i64({1}, {-1})}, {{2, 3, 1}});
  b.result(b.op("Squeeze", "opset1", {}, {u, b.i64({1}, {2})}, {{2, 3}}));
  auto t = b.translate();
  Runner r(t.onnx_model);
  auto out = r.run({{"x", Tensor::f32({2, 3}, iota(6))}});
  EXPECT_EQ(out[0].as<int64_t>(), (std::vector<int64_t>{2, 3, 7}));
  EXPECT_EQ(out[1].shape, (std::vector<int64_t>{2, 3}));
}

TEST(IrOps, NonMaxSuppressionV9) {
  IrBuilder b;
  auto boxes = b.param("boxes", "f32", {1, 4, 4});
  auto scores = b.param("scores", "f32", {1, 1, 4});
  auto mo = b.i64({}, {3});
  auto iou = b.f32({}, {0.5f});
  auto st = b.f32({}, {0.1f});
  auto n = b.op("NonMaxSuppression", "opset9", {{"box_encoding", "corner"}, {"sort_result_descending", "false"}, {"output_type", "i64"}},
                {boxes, scores, mo, iou, st}, {{-1, 3}, {-1, 3}, {1}}, "i64", {"i64", "f32", "i64"});
  b.result(n);
  b.result({n.id, n.port + 2});
  auto t = b.translate();
  Runner r(t.onnx_model);
  // box1 overlaps box0 heavily; box3 is below the score threshold
  auto out = r.run({{"boxes", Tensor::f32({1, 4, 4}, {0, 0, 1, 1, 0, 0.05f, 1, 1.05f, 2, 2, 3, 3, 5, 5, 6, 6})},
                    {"scores", Tensor::f32({1, 1, 4}, {0.9f, 0.8f, 0.7f, 0.05f})}});
  EXPECT_EQ(out[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(out[0].as<int64_t>(), (std::vector<int64_t>{0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(out[1].as<int64_t>(), (std::vector<int64_t>{2}));
}

TEST(IrOps, PriorBoxClusteredFolds) {
  IrBuilder b;
  auto x = b.param("x", "f32", {1, 1, 1, 2});
  auto img = b.param("img", "f32", {1, 3, 8, 16});
  auto s1 = b.op("ShapeOf", "opset3", {}, {x}, {{4}}, "i64");
  auto s2 = b.op("ShapeOf", "opset3", {}, {img}, {{4}}, "i64");
  auto sl1 = b.op("StridedSlice", "opset1", {{"begin_mask", "0"}, {"end_mask", "0"}}, {s1, b.i64({1}, {2}), b.i64({1}, {4})}, {{2}}, "i64");
  auto sl2 = b.op("StridedSlice", "opset1", {{"begin_mask", "0"}, {"end_mask", "0"}}, {s2, b.i64({1}, {2}), b.i64({1}, {4})}, {{2}}, "i64");
  b.result(b.op("PriorBoxClustered", "opset1", {{"width", "4"}, {"height", "2"}, {"clip", "false"}, {"step", "8"}, {"variance", "0.1,0.1,0.2,0.2"}, {"offset", "0.5"}},
                {sl1, sl2}, {{2, 8}}));
  auto t = b.translate();
  Runner r(t.onnx_model);
  auto out = r.run({{"x", Tensor::f32({1, 1, 1, 2}, {0, 0})}, {"img", Tensor::f32({1, 3, 8, 16}, std::vector<float>(384))}});
  EXPECT_EQ(out[0].shape, (std::vector<int64_t>{2, 8}));
  auto v = out[0].as<float>();
  // cell (0,0): center (4,4); box 4x2 -> (2,3)-(6,5) normalized by (16,8)
  std::vector<float> exp{2.f / 16, 3.f / 8, 6.f / 16, 5.f / 8, 10.f / 16, 3.f / 8, 14.f / 16, 5.f / 8, 0.1f, 0.1f, 0.2f, 0.2f, 0.1f, 0.1f, 0.2f, 0.2f};
  for (size_t k = 0; k < exp.size(); ++k) EXPECT_NEAR(v[k], exp[k], 1e-6) << k;
}

TEST(IrOps, InputShapeOverride) {
  IrBuilder b;
  auto x = b.param("x", "f32", {-1, 3});
  auto c = b.f32({}, {1});
  b.result(b.op("Add", "opset1", {}, {x, c}, {{-1, 3}}));
  ir::IrOptions opt;
  opt.input_shapes["x"] = {4, 3};
  auto t = ir::translateIrToOnnx(std::string_view(b.xml()), std::string_view(b.bin()), opt);
  Runner r(t.onnx_model);
  auto in = r.session().GetInputTypeInfo(0).GetTensorTypeAndShapeInfo().GetShape();
  EXPECT_EQ(in, (std::vector<int64_t>{4, 3}));
  opt.input_shapes.clear();
  opt.input_shapes["nope"] = {1};
  EXPECT_THROW(ir::translateIrToOnnx(std::string_view(b.xml()), std::string_view(b.bin()), opt), ir::IrError);
}

// ---------------------------------------------------------------------------------------------------------
TEST(IrErrors, UnsupportedOperation) {
  IrBuilder b;
  auto x = b.param("x", "f32", {2});
  b.result(b.op("Frobnicate", "opset42", {}, {x}, {{2}}));
  try {
    b.translate();
    FAIL();
  } catch (const ir::IrError& e) {
    EXPECT_STREQ(e.what(), "Unsupported operation Frobnicate (opset 42) in layer 'Frobnicate1' (id 1)");
  }
}

TEST(IrErrors, ShortBinAndBadOffset) {
  IrBuilder b;
  auto x = b.param("x", "f32", {4});
  auto c = b.f32({4}, {1, 2, 3, 4});
  b.result(b.op("Add", "opset1", {}, {x, c}, {{4}}));
  std::string xml = b.xml();
  std::string bin = b.bin();
  EXPECT_NO_THROW(ir::translateIrToOnnx(std::string_view(xml), std::string_view(bin)));
  try {
    ir::translateIrToOnnx(std::string_view(xml), std::string_view(bin).substr(0, 10));
    FAIL();
  } catch (const ir::IrError& e) {
    EXPECT_NE(std::string(e.what()).find("outside the weights file"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("c1"), std::string::npos) << e.what();
  }
  std::string bad = xml;
  bad.replace(bad.find("offset=\"0\""), 10, "offset=\"99999999999999999\"");
  EXPECT_THROW(ir::translateIrToOnnx(std::string_view(bad), std::string_view(bin)), ir::IrError);
  bad = xml;
  bad.replace(bad.find("size=\"16\""), 9, "size=\"4\"");
  EXPECT_THROW(ir::translateIrToOnnx(std::string_view(bad), std::string_view(bin)), ir::IrError);
}

TEST(IrErrors, GraphStructure) {
  auto expectError = [](const std::string& xml, const std::string& needle) {
    try {
      ir::translateIrToOnnx(std::string_view(xml), std::string_view());
      ADD_FAILURE() << "no error for " << needle;
    } catch (const ir::IrError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expectError("<net version=\"11\"><layers>", "malformed IR XML");
  expectError("<net version=\"7\"><layers/></net>", "unsupported IR version 7");
  std::string p = "<layer id=\"0\" name=\"x\" type=\"Parameter\" version=\"opset1\"><data shape=\"2\" element_type=\"f32\"/><output><port id=\"0\"/></output></layer>";
  std::string relu1 = "<layer id=\"1\" name=\"r1\" type=\"ReLU\" version=\"opset1\"><input><port id=\"0\"/><port id=\"1\"/></input><output><port id=\"2\"/></output></layer>";
  std::string relu2 = "<layer id=\"2\" name=\"r2\" type=\"ReLU\" version=\"opset1\"><input><port id=\"0\"/></input><output><port id=\"1\"/></output></layer>";
  std::string res = "<layer id=\"3\" name=\"out\" type=\"Result\" version=\"opset1\"><input><port id=\"0\"/></input></layer>";
  // missing edge into r2
  expectError("<net version=\"11\"><layers>" + p + relu2 + res + "</layers><edges><edge from-layer=\"2\" from-port=\"1\" to-layer=\"3\" to-port=\"0\"/></edges></net>",
              "has no incoming edge");
  // cycle r1 <-> r2
  expectError("<net version=\"11\"><layers>" + p + relu1 + relu2 + res +
                  "</layers><edges><edge from-layer=\"0\" from-port=\"0\" to-layer=\"1\" to-port=\"0\"/>"
                  "<edge from-layer=\"2\" from-port=\"1\" to-layer=\"1\" to-port=\"1\"/><edge from-layer=\"1\" from-port=\"2\" to-layer=\"2\" to-port=\"0\"/>"
                  "<edge from-layer=\"2\" from-port=\"1\" to-layer=\"3\" to-port=\"0\"/></edges></net>",
              "cycle");
  // edge to unknown layer
  expectError("<net version=\"11\"><layers>" + p + res + "</layers><edges><edge from-layer=\"9\" from-port=\"0\" to-layer=\"3\" to-port=\"0\"/></edges></net>",
              "missing layer");
}
