#include <gtest/gtest.h>

#include "common/status.h"
#include "engine/precision.h"
#include "engine/tensor.h"
#include "serving/model_config.h"

using namespace ovms;
using engine::Precision;

TEST(Precision, SizesAndNames) {
  EXPECT_EQ(engine::elementSize(Precision::FP32), 4u);
  EXPECT_EQ(engine::elementSize(Precision::FP16), 2u);
  EXPECT_EQ(engine::elementSize(Precision::U64), 8u);
  EXPECT_EQ(engine::elementSize(Precision::BOOL), 1u);
  EXPECT_EQ(engine::elementSize(Precision::STRING), 0u);
  EXPECT_STREQ(engine::precisionName(Precision::I32), "I32");
  EXPECT_STREQ(engine::kserveDatatype(Precision::U16), "UINT16");
  EXPECT_STREQ(engine::kserveDatatype(Precision::STRING), "BYTES");
}

TEST(Precision, RoundTripsThroughOnnxAndKserve) {
  for (auto p : {Precision::FP32, Precision::FP64, Precision::FP16, Precision::BF16, Precision::I8, Precision::U8,
                 Precision::I16, Precision::U16, Precision::I32, Precision::I64, Precision::U32, Precision::U64,
                 Precision::BOOL, Precision::STRING}) {
    EXPECT_EQ(engine::fromOnnxElementType(engine::onnxElementType(p)), p);
    EXPECT_EQ(engine::fromKserveDatatype(engine::kserveDatatype(p)), p);
  }
  EXPECT_EQ(engine::onnxElementType(Precision::FP32), 1);
  EXPECT_EQ(engine::onnxElementType(Precision::FP16), 10);
  EXPECT_FALSE(engine::fromKserveDatatype("FLOAT"));
  EXPECT_FALSE(engine::fromOnnxElementType(99));
}

TEST(Tensor, ByteSizeIsOverflowSafe) {
  uint64_t bytes = 0;
  EXPECT_TRUE(engine::denseByteSize({2, 3}, Precision::FP32, 1 << 30, &bytes));
  EXPECT_EQ(bytes, 24u);
  EXPECT_FALSE(engine::denseByteSize({1LL << 40, 1LL << 40}, Precision::FP32, UINT64_MAX / 2, &bytes));
  EXPECT_FALSE(engine::denseByteSize({-1, 3}, Precision::FP32, 1 << 30, &bytes));
  EXPECT_FALSE(engine::denseByteSize({1 << 20, 1 << 20}, Precision::U8, 1 << 30, &bytes));
  EXPECT_TRUE(engine::denseByteSize({0, 1LL << 62}, Precision::FP64, 1 << 30, &bytes));
  EXPECT_EQ(bytes, 0u);
  EXPECT_EQ(engine::elementCount({}), 1);
  EXPECT_EQ(engine::elementCount({3, -1}), -1);
  EXPECT_EQ(engine::shapeToString({1, 3, -1}), "(1,3,-1)");
  EXPECT_EQ(engine::shapeToString({}), "()");
}

TEST(Status, OvmsTextsAndCodes) {
  Status st(StatusCode::INVALID_SHAPE, "Expected: (1,10); Actual: (1,11); input name: b");
  EXPECT_EQ(st.message(), "Invalid input shape - Expected: (1,10); Actual: (1,11); input name: b");
  EXPECT_EQ(st.grpcCode(), 3);
  EXPECT_EQ(st.httpCode(), 400);
  EXPECT_EQ(Status(StatusCode::MODEL_VERSION_NOT_LOADED_YET).grpcCode(), 14);
  EXPECT_EQ(Status(StatusCode::MODEL_VERSION_NOT_LOADED_YET).httpCode(), 404);
  EXPECT_EQ(Status(StatusCode::JSON_INVALID).httpCode(), 412);
  EXPECT_EQ(Status(StatusCode::PIPELINE_DEFINITION_NAME_MISSING).message(), "Pipeline with requested name is not found");
  // Codes OVMS does not map to gRPC lose their details.
  EXPECT_EQ(Status(StatusCode::IMAGE_PARSING_FAILED, "x").grpcMessage(), "Unknown error");
  EXPECT_TRUE(Status(StatusCode::OK_RELOADED).ok());
  EXPECT_FALSE(Status(StatusCode::INTERNAL_ERROR).ok());
}

TEST(VersionPolicy, SelectsAsOvms) {
  serving::VersionPolicy p;
  EXPECT_EQ(p.select({1, 3, 2}), (std::vector<int64_t>{3}));
  ASSERT_TRUE(serving::parseVersionPolicy(R"({"latest":{"num_versions":2}})", &p).ok());
  EXPECT_EQ(p.select({1, 3, 2}), (std::vector<int64_t>{2, 3}));
  ASSERT_TRUE(serving::parseVersionPolicy(R"({"specific":{"versions":[1,3,7]}})", &p).ok());
  EXPECT_EQ(p.select({1, 2, 3}), (std::vector<int64_t>{1, 3}));
  ASSERT_TRUE(serving::parseVersionPolicy(R"({"all":{}})", &p).ok());
  EXPECT_EQ(p.select({2, 1}), (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(serving::parseVersionPolicy(R"({"latest":{"num_versions":0}})", &p).ok());
  EXPECT_FALSE(serving::parseVersionPolicy(R"({"newest":{}})", &p).ok());
  EXPECT_FALSE(serving::parseVersionPolicy("not json", &p).ok());
}
