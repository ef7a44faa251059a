#pragma once
// Compile-time constants of the IR translator (Const layers, folded shape arithmetic).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ovms::engine::ir {

// Compile-time constant data, stored in its ONNX compute type.
struct ConstData {
  int32_t onnx_type = 0;
  std::vector<int64_t> dims;
  std::string_view bytes;                    // little-endian raw data (view into `owned` or the mapped .bin)
  std::shared_ptr<const std::string> owned;  // set when the data had to be converted

  int64_t numel() const;
  std::vector<int64_t> toInt64() const;
  std::vector<double> toDouble() const;
  static std::shared_ptr<ConstData> fromDoubles(int32_t onnx_type, std::vector<int64_t> dims, const std::vector<double>& v);
  static std::shared_ptr<ConstData> fromInt64(int32_t onnx_type, std::vector<int64_t> dims, const std::vector<int64_t>& v);
};

}  // namespace ovms::engine::ir
