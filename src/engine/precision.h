#pragma once
// Element types as OVMS names them, with their sizes and the spellings each API uses.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ovms::engine {

enum class Precision : uint8_t {
  UNDEFINED,
  FP32, FP64, FP16, BF16,
  I8, U8, I16, U16, I32, I64, U32, U64,
  BOOL,
  STRING,
};

// Bytes per element; 0 for STRING and UNDEFINED.
size_t elementSize(Precision p);
// OVMS spelling used in error texts: "FP32", "I32", "U8", "STRING", ...
const char* precisionName(Precision p);
// KServe datatype: "FP32", "INT32", "UINT8", "BYTES", ...
const char* kserveDatatype(Precision p);
std::optional<Precision> fromKserveDatatype(std::string_view s);
// ONNX TensorProto.DataType / ONNXTensorElementDataType number.
int onnxElementType(Precision p);
std::optional<Precision> fromOnnxElementType(int t);

}  // namespace ovms::engine
