#pragma once
// Helpers shared by the per-family op tests (test_ops_*.cpp).
#include <cmath>
#include <numeric>

#include "ir_test_util.h"

namespace irtest {

using Attrs = std::map<std::string, std::string>;

inline std::vector<Tensor> runAll(const IrBuilder& b, const std::vector<std::pair<std::string, Tensor>>& in) {
  auto t = b.translate();
  Runner r(t.onnx_model);
  return r.run(in);
}

// Output `idx` converted to float (int32/int64/bool/float outputs).
inline std::vector<float> asFloat(const Tensor& t) {
  switch (t.type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: { auto v = t.as<int64_t>(); return {v.begin(), v.end()}; }
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: { auto v = t.as<int32_t>(); return {v.begin(), v.end()}; }
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: { auto v = t.as<uint8_t>(); return {v.begin(), v.end()}; }
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: { auto v = t.as<double>(); return {v.begin(), v.end()}; }
    default: return t.as<float>();
  }
}

inline std::vector<float> runF(const IrBuilder& b, const std::vector<std::pair<std::string, Tensor>>& in, std::vector<int64_t>* shape = nullptr,
                               size_t idx = 0) {
  auto out = runAll(b, in);
  if (shape) *shape = out.at(idx).shape;
  return asFloat(out.at(idx));
}

inline std::vector<float> seq(size_t n, float start = 0, float step = 1) {
  std::vector<float> v(n);
  for (size_t k = 0; k < n; ++k) v[k] = start + step * static_cast<float>(k);
  return v;
}

inline void expectNear(const std::vector<float>& got, const std::vector<float>& exp, float tol = 1e-5f) {
  ASSERT_EQ(got.size(), exp.size());
  for (size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], exp[k], tol * std::max(1.0f, std::fabs(exp[k]))) << "at " << k;
}

// Translation error message (empty if it translated).
inline std::string translateError(const IrBuilder& b) {
  try {
    b.translate();
  } catch (const ovms::engine::ir::IrError& e) {
    return e.what();
  }
  return "";
}

}  // namespace irtest
