// Request validation order and messages (§6.2), on the real demo model.
#include <gtest/gtest.h>

#include "serving/servable.h"

using namespace ovms;
using engine::Precision;

class ServableTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    serving::ModelConfig c;
    c.name = "demo";
    c.base_path = DEMO_MODEL_PATH;
    std::unique_ptr<serving::Servable> s;
    ASSERT_TRUE(serving::Servable::load(std::string(DEMO_MODEL_PATH) + "/1", c, &s).ok());
    servable_ = s.release();
  }
  static void TearDownTestSuite() { delete servable_; }

  serving::InferenceRequest request(Precision p, engine::Shape shape, size_t bytes, std::string name = "features") {
    storage_.assign(bytes, 0);
    serving::InferenceRequest r;
    serving::InferenceInput in;
    in.name = std::move(name);
    in.tensor = engine::TensorView{p, std::move(shape), storage_.data(), bytes, nullptr};
    r.inputs.push_back(std::move(in));
    return r;
  }
  static serving::Servable* servable_;
  std::vector<uint8_t> storage_;
};
serving::Servable* ServableTest::servable_ = nullptr;

TEST_F(ServableTest, Signature) {
  ASSERT_EQ(servable_->inputs().size(), 1u);
  EXPECT_EQ(servable_->inputs()[0].name, "features");
  EXPECT_EQ(servable_->inputs()[0].shape, (engine::Shape{-1, 4}));
  EXPECT_EQ(servable_->outputs()[0].name, "probabilities");
}

TEST_F(ServableTest, ValidationOrderAndMessages) {
  EXPECT_EQ(servable_->validate(request(Precision::FP32, {2, 4}, 32)).code(), StatusCode::OK);
  EXPECT_EQ(servable_->validate(serving::InferenceRequest{}).message(),
            "Invalid number of inputs - Expected: 1; Actual: 0");
  EXPECT_EQ(servable_->validate(request(Precision::FP32, {2, 4}, 32, "x")).message(),
            "Missing input with specific name - Required input: features");
  // Negative dims are reported before precision.
  EXPECT_EQ(servable_->validate(request(Precision::I32, {-2, 4}, 32)).code(), StatusCode::INVALID_SHAPE);
  EXPECT_EQ(servable_->validate(request(Precision::I32, {2, 4}, 32)).message(),
            "Invalid input precision - Expected: FP32; Actual: I32; input name: features");
  EXPECT_EQ(servable_->validate(request(Precision::FP32, {2, 4, 1}, 32)).message(),
            "Invalid number of shape dimensions - Expected: (-1,4); Actual: (2,4,1); input name: features");
  EXPECT_EQ(servable_->validate(request(Precision::FP32, {2, 5}, 40)).message(),
            "Invalid input shape - Expected: (-1,4); Actual: (2,5); input name: features");
  EXPECT_EQ(servable_->validate(request(Precision::FP32, {2, 4}, 31)).message(),
            "Invalid content size of tensor proto - Expected: 32 bytes; Actual: 31 bytes; input name: features");
}

TEST_F(ServableTest, InferComputesProbabilities) {
  float x[4] = {5.1f, 3.5f, 1.4f, 0.2f};
  serving::InferenceRequest r;
  serving::InferenceInput in;
  in.name = "features";
  in.tensor = engine::TensorView{Precision::FP32, {1, 4}, x, sizeof(x), nullptr};
  r.inputs.push_back(std::move(in));
  serving::InferenceResponse resp;
  ASSERT_TRUE(servable_->infer(r, &resp).ok());
  ASSERT_EQ(resp.outputs.size(), 1u);
  EXPECT_EQ(resp.outputs[0].tensor.shape, (engine::Shape{1, 3}));
  const float* p = static_cast<const float*>(resp.outputs[0].tensor.data);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0f, 1e-5f);
  EXPECT_GT(p[0], 0.9f);
}
