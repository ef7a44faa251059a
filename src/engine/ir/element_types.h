#pragma once
// Element types of the IR translator: the IR's element types, their ONNX counterparts, and conversions between them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ovms::engine::ir {

enum class ElemType { undefined, f32, f16, bf16, f64, i4, i8, i16, i32, i64, u1, u4, u8, u16, u32, u64, boolean };

// Accepts IR element_type spellings ("f32", "i64", "boolean", ...) and port precisions ("FP32", "I64", "BOOL", ...).
std::optional<ElemType> parseElemType(std::string_view s);
const char* elemTypeName(ElemType t);
size_t elemBits(ElemType t);
// ONNX type used for computation in the translated graph (f16/bf16 compute as FLOAT; i4 -> INT8; u1/u4 -> UINT8).
int32_t computeOnnxType(ElemType t);
// ONNX type used on the public signature (f16 stays FLOAT16).
int32_t declaredOnnxType(ElemType t);
std::optional<ElemType> elemTypeFromOnnx(int32_t onnx_type);
size_t onnxTypeSize(int32_t onnx_type);
bool isFloatOnnx(int32_t t);
bool isIntegerOnnx(int32_t t);
const char* onnxTypeName(int32_t t);

}  // namespace ovms::engine::ir
