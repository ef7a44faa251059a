#include <gtest/gtest.h>

#include <cstring>

#include "api/tfs/tfs_tensor.h"

using namespace ovms;
using engine::Precision;

namespace {
tensorflow::TensorProto proto(tensorflow::DataType dt, std::vector<int64_t> dims) {
  tensorflow::TensorProto t;
  t.set_dtype(dt);
  for (auto d : dims) t.mutable_tensor_shape()->add_dim()->set_size(d);
  return t;
}
}  // namespace

TEST(TfsTensor, TensorContentIsViewedNotCopied) {
  auto t = proto(tensorflow::DT_FLOAT, {1, 2});
  float v[2] = {1.5f, -2.f};
  t.set_tensor_content(std::string(reinterpret_cast<char*>(v), sizeof(v)));
  serving::InferenceInput in;
  ASSERT_TRUE(api::tfs::decodeTensorProto("x", t, &in).ok());
  EXPECT_EQ(in.tensor.data, t.tensor_content().data());
  EXPECT_EQ(in.tensor.bytes, 8u);
  EXPECT_EQ(in.tensor.precision, Precision::FP32);
  EXPECT_EQ(in.tensor.shape, (engine::Shape{1, 2}));
  EXPECT_FALSE(in.typed_values);
}

TEST(TfsTensor, TypedFieldsAreUnpackedPerDtype) {
  {
    auto t = proto(tensorflow::DT_INT8, {3});
    for (int v : {-128, 0, 127}) t.add_int_val(v);
    serving::InferenceInput in;
    ASSERT_TRUE(api::tfs::decodeTensorProto("x", t, &in).ok());
    ASSERT_EQ(in.tensor.bytes, 3u);
    const int8_t* d = static_cast<const int8_t*>(in.tensor.data);
    EXPECT_EQ(d[0], -128);
    EXPECT_EQ(d[2], 127);
    EXPECT_TRUE(in.typed_values);
    EXPECT_EQ(in.value_count, 3);
  }
  {
    auto t = proto(tensorflow::DT_HALF, {2});
    t.add_half_val(0x3c00);  // 1.0
    t.add_half_val(0xc000);  // -2.0
    serving::InferenceInput in;
    ASSERT_TRUE(api::tfs::decodeTensorProto("x", t, &in).ok());
    const uint16_t* d = static_cast<const uint16_t*>(in.tensor.data);
    EXPECT_EQ(d[0], 0x3c00);
    EXPECT_EQ(d[1], 0xc000);
  }
  {
    auto t = proto(tensorflow::DT_UINT64, {1});
    t.add_uint64_val(UINT64_MAX);
    serving::InferenceInput in;
    ASSERT_TRUE(api::tfs::decodeTensorProto("x", t, &in).ok());
    uint64_t v;
    std::memcpy(&v, in.tensor.data, 8);
    EXPECT_EQ(v, UINT64_MAX);
  }
  {
    auto t = proto(tensorflow::DT_BOOL, {2});
    t.add_bool_val(true);
    t.add_bool_val(false);
    serving::InferenceInput in;
    ASSERT_TRUE(api::tfs::decodeTensorProto("x", t, &in).ok());
    const uint8_t* d = static_cast<const uint8_t*>(in.tensor.data);
    EXPECT_EQ(d[0], 1);
    EXPECT_EQ(d[1], 0);
  }
}

TEST(TfsTensor, EncodesOutputs) {
  int64_t v[3] = {1, -2, 3};
  engine::TensorView view{Precision::I64, {3}, v, sizeof(v), nullptr};
  tensorflow::TensorProto t;
  api::tfs::encodeTensorProto(view, &t);
  EXPECT_EQ(t.dtype(), tensorflow::DT_INT64);
  ASSERT_EQ(t.tensor_shape().dim_size(), 1);
  EXPECT_EQ(t.tensor_shape().dim(0).size(), 3);
  EXPECT_EQ(t.tensor_content(), std::string(reinterpret_cast<char*>(v), sizeof(v)));
  EXPECT_EQ(api::tfs::fromTfDataType(tensorflow::DT_UINT16), Precision::U16);
  EXPECT_EQ(api::tfs::fromTfDataType(tensorflow::DT_COMPLEX64), Precision::UNDEFINED);
}
