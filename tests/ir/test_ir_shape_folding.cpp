// Shape subgraphs folded at load time (issue 12 points 1 and 4): SSD detectors whose PriorBox sizes come from
// ShapeOf -> StridedSlice, reduction axes computed by Range(ShapeOf(ShapeOf(x))), and data-dependent port dims
// (NonMaxSuppression) that are upper bounds, not shapes. Each structure is also checked with dynamic input shapes,
// where the same values are computed at run time.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include <onnx/onnx_pb.h>

#include "engine/half.h"

#include "ops_test_common.h"

using namespace irtest;
namespace ir = ovms::engine::ir;

namespace {

// Node types of the translated ONNX graph.
std::multiset<std::string> onnxOps(const ir::IrTranslation& t) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(t.onnx_model));
  std::multiset<std::string> ops;
  for (const auto& n : m.graph().node()) ops.insert(n.op_type());
  return ops;
}

std::vector<float> wave(size_t n, float phase) {
  std::vector<float> v(n);
  for (size_t k = 0; k < n; ++k) v[k] = 0.5f * std::sin(0.37f * static_cast<float>(k) + phase);
  return v;
}

// The structure of OMZ SSD detectors (face-detection-adas-0001): feature map -> ShapeOf -> StridedSlice ->
// PriorBox -> Unsqueeze -> DetectionOutput, with the image size from ShapeOf(input). `dynamic` declares the
// input as [1, 3, ?, ?] (and every dependent port as ?), so nothing folds and the sizes are taken at run time.
// How the OMZ variants store the network: FP32; FP16 (f16 weights converted to f32); FP16-INT8 (f16 weights and
// FakeQuantize on the activations).
enum class Variant { fp32, fp16, fp16_int8 };

IrBuilder ssdLike(int64_t H, int64_t W, bool dynamic, const std::string& prior_box_version = "opset1", Variant variant = Variant::fp32) {
  auto d = [&](int64_t v) { return dynamic ? int64_t{-1} : v; };
  const int64_t fh = H / 4, fw = W / 4, priors = 4;  // min, max, ar 2, ar 1/2
  IrBuilder b;
  auto weights = [&](const std::vector<int64_t>& dims, const std::vector<float>& v) {
    if (variant == Variant::fp32) return b.f32(dims, v);
    std::vector<uint16_t> h(v.size());
    for (size_t k = 0; k < v.size(); ++k) h[k] = ovms::engine::floatToHalf(v[k]);
    return b.op("Convert", "opset1", {{"destination_type", "f32"}}, {b.constant<uint16_t>("f16", dims, h)}, {dims});
  };
  auto data = b.param("data", "f32", {1, 3, d(H), d(W)});
  Attrs conv = {{"strides", "4,4"}, {"dilations", "1,1"}, {"pads_begin", "0,0"}, {"pads_end", "0,0"}, {"auto_pad", "explicit"}};
  auto fm = b.op("Convolution", "opset1", conv, {data, weights({4, 3, 4, 4}, wave(4 * 3 * 16, 0.1f))}, {{1, 4, d(fh), d(fw)}});
  fm = b.op("ReLU", "opset1", {}, {fm}, {{1, 4, d(fh), d(fw)}});
  if (variant == Variant::fp16_int8)
    fm = b.op("FakeQuantize", "opset1", {{"levels", "256"}, {"auto_broadcast", "numpy"}},
              {fm, b.f32({}, {0.0f}), b.f32({}, {4.0f}), b.f32({}, {0.0f}), b.f32({}, {4.0f})}, {{1, 4, d(fh), d(fw)}});
  Attrs conv1 = {{"strides", "1,1"}, {"dilations", "1,1"}, {"pads_begin", "0,0"}, {"pads_end", "0,0"}, {"auto_pad", "explicit"}};
  auto loc = b.op("Convolution", "opset1", conv1, {fm, weights({priors * 4, 4, 1, 1}, wave(priors * 16, 0.7f))}, {{1, priors * 4, d(fh), d(fw)}});
  loc = b.op("Transpose", "opset1", {}, {loc, b.i64({4}, {0, 2, 3, 1})}, {{1, d(fh), d(fw), priors * 4}});
  loc = b.op("Reshape", "opset1", {{"special_zero", "true"}}, {loc, b.i64({2}, {0, -1})}, {{1, d(fh * fw * priors * 4)}});
  auto conf = b.op("Convolution", "opset1", conv1, {fm, weights({priors * 2, 4, 1, 1}, wave(priors * 8, 1.3f))}, {{1, priors * 2, d(fh), d(fw)}});
  conf = b.op("Transpose", "opset1", {}, {conf, b.i64({4}, {0, 2, 3, 1})}, {{1, d(fh), d(fw), priors * 2}});
  conf = b.op("Reshape", "opset1", {{"special_zero", "true"}}, {conf, b.i64({3}, {0, -1, 2})}, {{1, d(fh * fw * priors), 2}});
  conf = b.op("SoftMax", "opset8", {{"axis", "2"}}, {conf}, {{1, d(fh * fw * priors), 2}});
  conf = b.op("Reshape", "opset1", {{"special_zero", "true"}}, {conf, b.i64({2}, {0, -1})}, {{1, d(fh * fw * priors * 2)}});
  Attrs slice = {{"begin_mask", "0"}, {"end_mask", "0"}, {"new_axis_mask", ""}, {"shrink_axis_mask", ""}, {"ellipsis_mask", ""}};
  auto fm_shape = b.op("ShapeOf", "opset3", {{"output_type", "i64"}}, {fm}, {{4}}, "i64");
  auto fm_hw = b.op("StridedSlice", "opset1", slice, {fm_shape, b.i64({1}, {2}), b.i64({1}, {4}), b.i64({1}, {1})}, {{2}}, "i64");
  auto img_shape = b.op("ShapeOf", "opset3", {{"output_type", "i64"}}, {data}, {{4}}, "i64");
  auto img_hw = b.op("StridedSlice", "opset1", slice, {img_shape, b.i64({1}, {2}), b.i64({1}, {4}), b.i64({1}, {1})}, {{2}}, "i64");
  Attrs pb = {{"min_size", "6"}, {"max_size", "12"}, {"aspect_ratio", "2"}, {"flip", "true"}, {"clip", "false"}, {"step", "4"},
              {"offset", "0.5"}, {"variance", "0.1,0.1,0.2,0.2"}, {"scale_all_sizes", "true"}};
  if (prior_box_version == "opset8") pb["min_max_aspect_ratios_order"] = "true";
  auto priors_out = b.op("PriorBox", prior_box_version, pb, {fm_hw, img_hw}, {{2, d(fh * fw * priors * 4)}});
  auto priors3 = b.op("Unsqueeze", "opset1", {}, {priors_out, b.i64({1}, {0})}, {{1, 2, d(fh * fw * priors * 4)}});
  Attrs det = {{"num_classes", "2"}, {"background_label_id", "0"}, {"top_k", "100"}, {"keep_top_k", "20"},
               {"code_type", "caffe.PriorBoxParameter.CENTER_SIZE"}, {"share_location", "true"}, {"nms_threshold", "0.45"},
               {"confidence_threshold", "0.01"}, {"variance_encoded_in_target", "false"}, {"normalized", "true"}};
  b.result(b.op("DetectionOutput", "opset1", det, {loc, conf, priors3}, {{1, 1, 20, 7}}));
  b.result(priors_out);
  return b;
}

Tensor image(int64_t H, int64_t W) {
  std::vector<float> v(static_cast<size_t>(3 * H * W));
  for (size_t k = 0; k < v.size(); ++k) v[k] = static_cast<float>((k * 37) % 255) / 64.0f;
  return Tensor::f32({1, 3, H, W}, v);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
TEST(IrShapeFolding, SsdPriorBoxFoldsWithStaticShapes) {
  for (const char* ver : {"opset1", "opset8"}) {
    auto t = ssdLike(32, 48, false, ver).translate();
    auto ops = onnxOps(t);
    EXPECT_EQ(ops.count("PriorBox"), 0u) << ver << ": the prior boxes should be a constant";
    EXPECT_EQ(ops.count("Shape"), 0u) << ver;
    Runner r(t.onnx_model);
    auto out = r.run({{"data", image(32, 48)}});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].shape, (std::vector<int64_t>{1, 1, 20, 7}));
    // 8 x 12 cells, 4 priors each; first prior of cell (0, 0): centre (2, 2), size 6 on a 48 x 32 image.
    ASSERT_EQ(out[1].shape, (std::vector<int64_t>{2, 8 * 12 * 4 * 4}));
    auto p = out[1].as<float>();
    EXPECT_NEAR(p[0], (2 - 3) / 48.0f, 1e-6);
    EXPECT_NEAR(p[1], (2 - 3) / 32.0f, 1e-6);
    EXPECT_NEAR(p[2], (2 + 3) / 48.0f, 1e-6);
    EXPECT_NEAR(p[3], (2 + 3) / 32.0f, 1e-6);
    EXPECT_FLOAT_EQ(p[8 * 12 * 16 + 2], 0.2f);  // variances row
    auto det = out[0].as<float>();
    EXPECT_EQ(det[0], 0.0f);  // image id of the first detection: the model answers
  }
}

TEST(IrShapeFolding, SsdPriorBoxFoldsInFp16AndInt8Variants) {
  for (Variant v : {Variant::fp16, Variant::fp16_int8}) {
    auto t = ssdLike(32, 48, false, "opset1", v).translate();
    EXPECT_EQ(onnxOps(t).count("PriorBox"), 0u);
    Runner r(t.onnx_model);
    auto out = r.run({{"data", image(32, 48)}});
    ASSERT_EQ(out[1].shape, (std::vector<int64_t>{2, 8 * 12 * 4 * 4}));
    EXPECT_EQ(out[0].as<float>().at(0), 0.0f);
  }
}

TEST(IrShapeFolding, SsdPriorBoxAtRunTimeWithDynamicShapes) {
  for (Variant v : {Variant::fp32, Variant::fp16, Variant::fp16_int8}) {
    auto dyn = ssdLike(32, 48, true, "opset1", v).translate();
    EXPECT_EQ(onnxOps(dyn).count("PriorBox"), 1u);
    Runner rd(dyn.onnx_model);
    for (auto [H, W] : {std::pair<int64_t, int64_t>{32, 48}, {64, 64}, {40, 24}}) {
      Runner rs(ssdLike(H, W, false, "opset1", v).translate().onnx_model);
      auto in = image(H, W);
      auto a = rd.run({{"data", in}});
      auto s = rs.run({{"data", in}});
      ASSERT_EQ(a[1].shape, s[1].shape) << H << "x" << W;
      auto pa = a[1].as<float>(), ps = s[1].as<float>();
      for (size_t k = 0; k < pa.size(); ++k) ASSERT_NEAR(pa[k], ps[k], 1e-6) << "prior value " << k << " at " << H << "x" << W;
      ASSERT_EQ(a[0].shape, s[0].shape);
      auto da = a[0].as<float>(), ds = s[0].as<float>();
      for (size_t k = 0; k < da.size(); ++k) EXPECT_NEAR(da[k], ds[k], 1e-5) << "detection value " << k << " at " << H << "x" << W;
    }
  }
}

TEST(IrShapeFolding, ShapeArithmeticFoldsLikeItRuns) {
  // The same subgraph on a constant (folded at load time) and on an input (ONNX nodes at run time).
  std::vector<int64_t> x = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8};
  Attrs ss = {{"begin_mask", "0,1,0"}, {"end_mask", "1,0,0"}, {"new_axis_mask", "0,0,1"}, {"shrink_axis_mask", "0,0,0"}, {"ellipsis_mask", ""}};
  auto build = [&](bool constant) {
    IrBuilder b;
    auto in = constant ? b.i64({3, 4}, x) : b.param("x", "i64", {3, 4});
    b.result(b.op("StridedSlice", "opset1", ss, {in, b.i64({3}, {1, 0, 0}), b.i64({3}, {3, -1, 0}), b.i64({3}, {1, 2, 1})}, {{2, 2, 1}}, "i64"));
    b.result(b.op("StridedSlice", "opset1", {{"begin_mask", "0"}, {"end_mask", "0"}, {"shrink_axis_mask", "1"}},
                  {in, b.i64({2}, {-1, 3}), b.i64({2}, {0, -5}), b.i64({2}, {1, -1})}, {{4}}, "i64"));
    b.result(b.op("Slice", "opset8", {}, {in, b.i64({1}, {-1}), b.i64({1}, {-100}), b.i64({1}, {-2}), b.i64({1}, {1})}, {{3, 2}}, "i64"));
    b.result(b.op("Gather", "opset8", {{"batch_dims", "0"}}, {in, b.i64({2}, {-1, 0}), b.i64({}, {1})}, {{3, 2}}, "i64"));
    auto sq = b.op("Squeeze", "opset1", {}, {b.op("Unsqueeze", "opset1", {}, {in, b.i64({2}, {0, -1})}, {{1, 3, 4, 1}}, "i64"), b.i64({1}, {3})}, {{1, 3, 4}}, "i64");
    b.result(b.op("Concat", "opset1", {{"axis", "-1"}}, {sq, sq}, {{1, 3, 8}}, "i64"));
    b.result(b.op("Reshape", "opset1", {{"special_zero", "true"}}, {in, b.i64({3}, {0, 2, -1})}, {{3, 2, 2}}, "i64"));
    b.result(b.op("Divide", "opset1", {{"m_pythondiv", "true"}}, {in, b.i64({1}, {-3})}, {{3, 4}}, "i64"));
    b.result(b.op("Subtract", "opset1", {}, {b.op("Multiply", "opset1", {}, {in, b.i64({4}, {1, 2, 3, 4})}, {{3, 4}}, "i64"), b.i64({3, 1}, {1, 2, 3})}, {{3, 4}}, "i64"));
    b.result(b.op("Minimum", "opset1", {}, {in, b.i64({}, {4})}, {{3, 4}}, "i64"));
    b.result(b.op("ReduceProd", "opset1", {{"keep_dims", "false"}}, {in, b.i64({1}, {-1})}, {{3}}, "i64"));
    b.result(b.op("ReduceMax", "opset1", {{"keep_dims", "true"}}, {in, b.i64({1}, {0})}, {{1, 4}}, "i64"));
    b.result(b.op("ReduceSum", "opset1", {{"keep_dims", "false"}}, {in, b.i64({2}, {0, 1})}, {{}}, "i64"));
    b.result(b.op("ReduceMin", "opset1", {{"keep_dims", "false"}}, {in, b.i64({0}, {})}, {{3, 4}}, "i64"));
    return b;
  };
  auto folded = build(true).translate();
  auto ops = onnxOps(folded);
  for (const char* op : {"Slice", "Gather", "Concat", "Reshape", "Div", "Mul", "Sub", "Min", "Squeeze", "Unsqueeze", "ReduceProd", "ReduceMax", "ReduceSum", "ReduceMin"})
    EXPECT_EQ(ops.count(op), 0u) << op << " should have been folded";
  auto f = Runner(folded.onnx_model).run({});
  auto r = Runner(build(false).translate().onnx_model).run({{"x", Tensor::i64({3, 4}, x)}});
  ASSERT_EQ(f.size(), r.size());
  for (size_t k = 0; k < f.size(); ++k) {
    EXPECT_EQ(f[k].shape, r[k].shape) << "output " << k;
    EXPECT_EQ(f[k].as<int64_t>(), r[k].as<int64_t>()) << "output " << k;
  }
  // Spot checks against OpenVINO semantics.
  EXPECT_EQ(r[6].as<int64_t>(), (std::vector<int64_t>{-1, -1, -2, -1, -2, -3, -1, -2, -2, -1, -2, -3}));  // floor division
  EXPECT_EQ(f[9].as<int64_t>(), (std::vector<int64_t>{12, 540, 600}));
  EXPECT_EQ(f[10].as<int64_t>(), (std::vector<int64_t>{5, 9, 5, 8}));
  EXPECT_EQ(f[11].as<int64_t>(), (std::vector<int64_t>{52}));
  EXPECT_EQ(f[12].as<int64_t>(), x);  // no axes: no reduction
}

// horizontal-text-detection-0001: ReduceMin axes = Range(0, Squeeze(ShapeOf(ShapeOf(x))), 1).
TEST(IrShapeFolding, ReductionAxesFromRangeOfShapeOfShapeOf) {
  for (bool dynamic : {false, true}) {
    IrBuilder b;
    int64_t q = dynamic ? -1 : 5;
    auto x = b.param("x", "f32", {2, 3, q, 4});
    auto s1 = b.op("ShapeOf", "opset3", {{"output_type", "i64"}}, {x}, {{4}}, "i64");
    auto s2 = b.op("ShapeOf", "opset3", {{"output_type", "i64"}}, {s1}, {{1}}, "i64");
    auto rank = b.op("Squeeze", "opset1", {}, {s2}, {{}}, "i64");
    auto axes = b.op("Range", "opset4", {{"output_type", "i64"}}, {b.i64({}, {0}), rank, b.i64({}, {1})}, {{4}}, "i64");
    b.result(b.op("ReduceMin", "opset1", {{"keep_dims", "false"}}, {x, axes}, {{}}));
    // person-attributes-recognition-crossroad-0230: a global max pool over the spatial axes [2, rank).
    auto spatial = b.op("Range", "opset4", {{"output_type", "i64"}}, {b.i64({}, {2}), rank, b.i64({}, {1})}, {{2}}, "i64");
    b.result(b.op("ReduceMax", "opset1", {{"keep_dims", "true"}}, {x, spatial}, {{2, 3, 1, 1}}));
    auto t = b.translate();
    Runner r(t.onnx_model);
    auto in = wave(2 * 3 * 5 * 4, 0.3f);
    auto out = r.run({{"x", Tensor::f32({2, 3, 5, 4}, in)}});
    EXPECT_FLOAT_EQ(out[0].as<float>().at(0), *std::min_element(in.begin(), in.end())) << "dynamic " << dynamic;
    ASSERT_EQ(out[1].shape, (std::vector<int64_t>{2, 3, 1, 1}));
    auto mx = out[1].as<float>();
    for (int64_t c = 0; c < 6; ++c)
      EXPECT_FLOAT_EQ(mx[static_cast<size_t>(c)], *std::max_element(in.begin() + c * 20, in.begin() + (c + 1) * 20)) << "dynamic " << dynamic;
  }
}

// horizontal-text-detection-0001 (IR v10): k = min(100, boxes kept by NonMaxSuppression). The XML's port dims of
// the NMS outputs (100) are upper bounds; taking them as the shape made k a constant 100 and every request failed.
TEST(IrShapeFolding, TopKWithKFromNmsOutputCount) {
  IrBuilder b(10);
  auto boxes = b.param("boxes", "f32", {1, 7, 4});
  auto scores = b.param("scores", "f32", {1, 1, 7});
  auto nms = b.op("NonMaxSuppression", "opset9", {{"box_encoding", "corner"}, {"sort_result_descending", "false"}, {"output_type", "i64"}},
                  {boxes, scores, b.i64({}, {100}), b.f32({}, {0.5f}), b.f32({}, {0.0f})}, {{100, 3}, {100, 3}, {1}}, "i64", {"i64", "f32", "i64"});
  auto kept_scores = b.op("Gather", "opset8", {{"batch_dims", "0"}}, {{nms.id, nms.port + 1}, b.i64({}, {2}), b.i64({}, {1})}, {{100}});
  auto count = b.op("Gather", "opset8", {{"batch_dims", "0"}}, {b.op("ShapeOf", "opset3", {{"output_type", "i64"}}, {kept_scores}, {{1}}, "i64"), b.i64({1}, {0}), b.i64({}, {0})},
                    {{1}}, "i64");
  auto k = b.op("Minimum", "opset1", {}, {b.i64({1}, {100}), count}, {{1}}, "i64");
  k = b.op("Squeeze", "opset1", {}, {k}, {{}}, "i64");
  auto top = b.op("TopK", "opset3", {{"axis", "0"}, {"mode", "max"}, {"sort", "value"}, {"index_element_type", "i64"}}, {kept_scores, k}, {{100}, {100}}, "f32",
                  {"f32", "i64"});
  b.result(top);
  auto t = b.translate();
  Runner r(t.onnx_model);
  // Three boxes overlap box 0 heavily and are suppressed; four survive.
  std::vector<float> bx = {0, 0, 1, 1, 0, 0.01f, 1, 1.01f, 2, 2, 3, 3, 0.01f, 0, 1.01f, 1, 5, 5, 6, 6, 8, 8, 9, 9, 0, 0.02f, 1, 1.02f};
  auto out = r.run({{"boxes", Tensor::f32({1, 7, 4}, bx)}, {"scores", Tensor::f32({1, 1, 7}, {0.9f, 0.8f, 0.3f, 0.7f, 0.6f, 0.95f, 0.5f})}});
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{0.95f, 0.9f, 0.6f, 0.3f}));
  // The served signature does not promise the upper bound either.
  EXPECT_EQ(r.session().GetOutputTypeInfo(0).GetTensorTypeAndShapeInfo().GetShape(), (std::vector<int64_t>{-1}));
}

// IR v11 writes OpenVINO's partial shapes: -1 where NonMaxSuppression makes a size data-dependent, exact dims
// elsewhere, which the served signature keeps ([?, 3] here, as OpenVINO reports it).
TEST(IrShapeFolding, V11NmsOutputsKeepTheirStaticDims) {
  IrBuilder b;
  auto nms = b.op("NonMaxSuppression", "opset9", {{"box_encoding", "corner"}, {"sort_result_descending", "false"}, {"output_type", "i64"}},
                  {b.param("boxes", "f32", {1, 7, 4}), b.param("scores", "f32", {1, 1, 7}), b.i64({}, {100}), b.f32({}, {0.5f}), b.f32({}, {0.0f})},
                  {{-1, 3}, {-1, 3}, {1}}, "i64", {"i64", "f32", "i64"});
  b.result({nms.id, nms.port + 1});
  auto t = b.translate();
  Runner r(t.onnx_model);
  EXPECT_EQ(r.session().GetOutputTypeInfo(0).GetTensorTypeAndShapeInfo().GetShape(), (std::vector<int64_t>{-1, 3}));
}
