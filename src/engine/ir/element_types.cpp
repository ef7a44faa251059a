#include "engine/ir/element_types.h"

#include <functional>
#include <map>

#include <onnx/onnx_pb.h>

namespace ovms::engine::ir {

using TP = onnx::TensorProto;

std::optional<ElemType> parseElemType(std::string_view s) {
  static const std::map<std::string, ElemType, std::less<>> m = {
      {"f32", ElemType::f32},     {"FP32", ElemType::f32},   {"f16", ElemType::f16},   {"FP16", ElemType::f16},
      {"bf16", ElemType::bf16},   {"BF16", ElemType::bf16},  {"f64", ElemType::f64},   {"FP64", ElemType::f64},
      {"i4", ElemType::i4},       {"I4", ElemType::i4},      {"i8", ElemType::i8},     {"I8", ElemType::i8},
      {"i16", ElemType::i16},     {"I16", ElemType::i16},    {"i32", ElemType::i32},   {"I32", ElemType::i32},
      {"i64", ElemType::i64},     {"I64", ElemType::i64},    {"u1", ElemType::u1},     {"U1", ElemType::u1},
      {"BIN", ElemType::u1},      {"u4", ElemType::u4},      {"U4", ElemType::u4},     {"u8", ElemType::u8},
      {"U8", ElemType::u8},       {"u16", ElemType::u16},    {"U16", ElemType::u16},   {"u32", ElemType::u32},
      {"U32", ElemType::u32},     {"u64", ElemType::u64},    {"U64", ElemType::u64},   {"boolean", ElemType::boolean},
      {"BOOL", ElemType::boolean}, {"BOOLEAN", ElemType::boolean},
  };
  auto it = m.find(s);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

const char* elemTypeName(ElemType t) {
  switch (t) {
    case ElemType::f32: return "f32";
    case ElemType::f16: return "f16";
    case ElemType::bf16: return "bf16";
    case ElemType::f64: return "f64";
    case ElemType::i4: return "i4";
    case ElemType::i8: return "i8";
    case ElemType::i16: return "i16";
    case ElemType::i32: return "i32";
    case ElemType::i64: return "i64";
    case ElemType::u1: return "u1";
    case ElemType::u4: return "u4";
    case ElemType::u8: return "u8";
    case ElemType::u16: return "u16";
    case ElemType::u32: return "u32";
    case ElemType::u64: return "u64";
    case ElemType::boolean: return "boolean";
    default: return "undefined";
  }
}

size_t elemBits(ElemType t) {
  switch (t) {
    case ElemType::u1: return 1;
    case ElemType::i4: case ElemType::u4: return 4;
    case ElemType::i8: case ElemType::u8: case ElemType::boolean: return 8;
    case ElemType::f16: case ElemType::bf16: case ElemType::i16: case ElemType::u16: return 16;
    case ElemType::f32: case ElemType::i32: case ElemType::u32: return 32;
    case ElemType::f64: case ElemType::i64: case ElemType::u64: return 64;
    default: return 0;
  }
}

int32_t computeOnnxType(ElemType t) {
  switch (t) {
    case ElemType::f32: case ElemType::f16: case ElemType::bf16: return TP::FLOAT;
    case ElemType::f64: return TP::DOUBLE;
    case ElemType::i4: case ElemType::i8: return TP::INT8;
    case ElemType::i16: return TP::INT16;
    case ElemType::i32: return TP::INT32;
    case ElemType::i64: return TP::INT64;
    case ElemType::u1: case ElemType::u4: case ElemType::u8: return TP::UINT8;
    case ElemType::u16: return TP::UINT16;
    case ElemType::u32: return TP::UINT32;
    case ElemType::u64: return TP::UINT64;
    case ElemType::boolean: return TP::BOOL;
    default: return TP::UNDEFINED;
  }
}

int32_t declaredOnnxType(ElemType t) {
  if (t == ElemType::f16) return TP::FLOAT16;
  if (t == ElemType::bf16) return TP::BFLOAT16;
  return computeOnnxType(t);
}

std::optional<ElemType> elemTypeFromOnnx(int32_t t) {
  switch (t) {
    case TP::FLOAT: return ElemType::f32;
    case TP::FLOAT16: return ElemType::f16;
    case TP::BFLOAT16: return ElemType::bf16;
    case TP::DOUBLE: return ElemType::f64;
    case TP::INT8: return ElemType::i8;
    case TP::INT16: return ElemType::i16;
    case TP::INT32: return ElemType::i32;
    case TP::INT64: return ElemType::i64;
    case TP::UINT8: return ElemType::u8;
    case TP::UINT16: return ElemType::u16;
    case TP::UINT32: return ElemType::u32;
    case TP::UINT64: return ElemType::u64;
    case TP::BOOL: return ElemType::boolean;
    default: return std::nullopt;
  }
}

size_t onnxTypeSize(int32_t t) {
  switch (t) {
    case TP::FLOAT: case TP::INT32: case TP::UINT32: return 4;
    case TP::DOUBLE: case TP::INT64: case TP::UINT64: return 8;
    case TP::FLOAT16: case TP::BFLOAT16: case TP::INT16: case TP::UINT16: return 2;
    case TP::INT8: case TP::UINT8: case TP::BOOL: return 1;
    default: return 0;
  }
}

bool isFloatOnnx(int32_t t) { return t == TP::FLOAT || t == TP::DOUBLE || t == TP::FLOAT16 || t == TP::BFLOAT16; }
bool isIntegerOnnx(int32_t t) {
  return t == TP::INT8 || t == TP::INT16 || t == TP::INT32 || t == TP::INT64 || t == TP::UINT8 || t == TP::UINT16 ||
         t == TP::UINT32 || t == TP::UINT64;
}
const char* onnxTypeName(int32_t t) {
  auto e = elemTypeFromOnnx(t);
  return e ? elemTypeName(*e) : "unknown";
}

}  // namespace ovms::engine::ir
