// Graph edits: the edited model is run in ONNX Runtime and its shapes and outputs checked.
#include "engine/graph_edit.h"

#include <gtest/gtest.h>

#include <numeric>

#include "test_models.h"

using namespace ovms::engine;
using namespace shapes_test;

namespace {

std::unique_ptr<OnnxModel> session(const std::string& bytes, std::string* error) {
  EngineOptions eo;
  eo.intra_op_threads = 1;
  return OnnxModel::load(bytes, eo, error);
}

std::vector<float> iota(size_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

}  // namespace

TEST(GraphEdit, RejectsGarbage) {
  std::string error;
  EXPECT_EQ(GraphEditor::parse("not a model", &error), nullptr);
  EXPECT_FALSE(error.empty());
}

TEST(GraphEdit, NamesAndShapes) {
  std::string error;
  auto g = GraphEditor::parse(mulModel({std::string("n"), int64_t{3}}), &error);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->inputNames(), std::vector<std::string>{"x"});  // the initializer is not an input
  EXPECT_EQ(g->outputNames(), std::vector<std::string>{"y"});
  EXPECT_EQ(*g->inputShape("x"), (std::vector<int64_t>{-1, 3}));
  EXPECT_FALSE(g->inputShape("nope").has_value());
  EXPECT_FALSE(g->changed());
}

TEST(GraphEdit, StaticBatchOnDynamicModel) {
  std::string error;
  auto g = GraphEditor::parse(mulModel({std::string("n"), int64_t{3}}), &error);
  ASSERT_TRUE(g->setInputShape("x", {4, 3}, &error)) << error;
  EXPECT_TRUE(g->changed());
  auto m = session(g->serialize(), &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->inputs()[0].shape, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(m->outputs()[0].shape, (std::vector<int64_t>{4, 3}));  // re-inferred
  auto data = iota(12);
  std::vector<TensorView> outs;
  ASSERT_TRUE(m->infer({floatView(data, {4, 3})}, &outs, &error)) << error;
  auto y = floats(outs[0]);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_FLOAT_EQ(y[i], 2.0f * i);
}

TEST(GraphEdit, DynamicDimsOnStaticModel) {
  std::string error;
  auto g = GraphEditor::parse(mulModel({int64_t{1}, int64_t{10}}), &error);
  ASSERT_TRUE(g->setInputShape("x", {-1, 10}, &error)) << error;
  auto m = session(g->serialize(), &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->inputs()[0].shape, (std::vector<int64_t>{-1, 10}));
  EXPECT_EQ(m->outputs()[0].shape, (std::vector<int64_t>{-1, 10}));
  auto data = iota(30);
  std::vector<TensorView> outs;
  ASSERT_TRUE(m->infer({floatView(data, {3, 10})}, &outs, &error)) << error;
  EXPECT_EQ(outs[0].shape, (std::vector<int64_t>{3, 10}));
}

TEST(GraphEdit, RankMismatch) {
  std::string error;
  auto g = GraphEditor::parse(mulModel({int64_t{1}, int64_t{10}}), &error);
  EXPECT_FALSE(g->setInputShape("x", {1, 3, 10}, &error));
  EXPECT_NE(error.find("rank"), std::string::npos);
  EXPECT_FALSE(g->setInputShape("nope", {1}, &error));
}

TEST(GraphEdit, IncompatibleStaticShapeFailsInSession) {
  std::string error;
  auto g = GraphEditor::parse(addFixedModel({1, 10}), &error);
  ASSERT_TRUE(g->setInputShape("x", {2, 5}, &error)) << error;
  auto m = session(g->serialize(), &error);
  EXPECT_EQ(m, nullptr);
  EXPECT_FALSE(error.empty());
}

TEST(GraphEdit, TransposeInputNhwcToNchw) {
  std::string error;
  // Model in NCHW (1,2,3,4).
  auto g = GraphEditor::parse(mulModel({int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4}}, 1.0f), &error);
  ASSERT_TRUE(g->transposeInput("x", {0, 3, 1, 2}, &error)) << error;
  EXPECT_EQ(*g->inputShape("x"), (std::vector<int64_t>{1, 3, 4, 2}));
  auto m = session(g->serialize(), &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->inputs()[0].shape, (std::vector<int64_t>{1, 3, 4, 2}));
  EXPECT_EQ(m->outputs()[0].shape, (std::vector<int64_t>{1, 2, 3, 4}));
  auto nhwc = iota(24);
  std::vector<TensorView> outs;
  ASSERT_TRUE(m->infer({floatView(nhwc, {1, 3, 4, 2})}, &outs, &error)) << error;
  auto y = floats(outs[0]);
  for (int c = 0; c < 2; ++c)
    for (int h = 0; h < 3; ++h)
      for (int w = 0; w < 4; ++w) EXPECT_FLOAT_EQ(y[(c * 3 + h) * 4 + w], nhwc[(h * 4 + w) * 2 + c]);
}

TEST(GraphEdit, TransposeOutput) {
  std::string error;
  auto g = GraphEditor::parse(mulModel({int64_t{2}, int64_t{3}}, 1.0f), &error);
  ASSERT_TRUE(g->transposeOutput("y", {1, 0}, &error)) << error;
  auto m = session(g->serialize(), &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->outputs()[0].name, "y");
  EXPECT_EQ(m->outputs()[0].shape, (std::vector<int64_t>{3, 2}));
  auto x = iota(6);
  std::vector<TensorView> outs;
  ASSERT_TRUE(m->infer({floatView(x, {2, 3})}, &outs, &error)) << error;
  EXPECT_EQ(floats(outs[0]), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(GraphEdit, TransposeThenDynamicBatch) {
  std::string error;
  auto g = GraphEditor::parse(mulModel({int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4}}, 1.0f), &error);
  ASSERT_TRUE(g->transposeInput("x", {0, 3, 1, 2}, &error));
  ASSERT_TRUE(g->setInputShape("x", {-1, 3, 4, 2}, &error)) << error;
  auto m = session(g->serialize(), &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->inputs()[0].shape, (std::vector<int64_t>{-1, 3, 4, 2}));
  EXPECT_EQ(m->outputs()[0].shape, (std::vector<int64_t>{-1, 2, 3, 4}));
  auto x = iota(48);
  std::vector<TensorView> outs;
  ASSERT_TRUE(m->infer({floatView(x, {2, 3, 4, 2})}, &outs, &error)) << error;
  EXPECT_EQ(outs[0].shape, (std::vector<int64_t>{2, 2, 3, 4}));
}

TEST(GraphEdit, BadPermutation) {
  std::string error;
  auto g = GraphEditor::parse(mulModel({int64_t{1}, int64_t{2}}), &error);
  EXPECT_FALSE(g->transposeInput("x", {0, 0}, &error));
  EXPECT_FALSE(g->transposeInput("x", {0, 1, 2}, &error));
  EXPECT_FALSE(g->transposeOutput("y", {2, 0}, &error));
}
