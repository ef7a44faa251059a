#pragma once
// The one conversion of JSON values into tensor elements, shared by TF-Serving REST and KServe
// REST. Every conversion checks the range of the element type: a value that does not fit (300 for
// INT8, -1 for UINT8, 1e300 for FP32, 70000 for FP16) is rejected, never wrapped or saturated.
//
// Two typing rules, because the two APIs' JSON formats differ (§5.5, §5.7):
//   kLenient (TF-Serving): an integral number written as a float (2.0) is accepted for integer
//     types, and 0/1 for BOOL (TF Serving's JSON reader does the same).
//   kStrict  (KServe): integer types need JSON integers, BOOL needs true/false.
// Strings never convert to numbers (a string mixed into a numeric array is a parse error).
#include <rapidjson/document.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "engine/half.h"

namespace ovms::api::json {

enum class Typing { kLenient, kStrict };

// The range rules on plain values, shared by every JSON front end (rapidjson here, simdjson in
// api/common/json_fast.h), so both parsers accept and reject exactly the same numbers.
template <typename T>
bool integerFromInt64(int64_t x, T* out) {
  using L = std::numeric_limits<T>;
  if constexpr (std::is_signed_v<T>) {
    if (x < static_cast<int64_t>(L::min()) || x > static_cast<int64_t>(L::max())) return false;
  } else {
    if (x < 0 || static_cast<uint64_t>(x) > static_cast<uint64_t>(L::max())) return false;
  }
  *out = static_cast<T>(x);
  return true;
}

template <typename T>
bool integerFromUint64(uint64_t x, T* out) {
  if (x > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
  *out = static_cast<T>(x);
  return true;
}

// Lenient typing only: an integral double (2.0) in the type's range.
template <typename T>
bool integerFromDouble(double d, T* out) {
  using L = std::numeric_limits<T>;
  if (!(d == std::trunc(d))) return false;  // fractional (NaN also fails here)
  if (d < static_cast<double>(L::min()) || d >= std::ldexp(1.0, L::digits)) return false;
  *out = static_cast<T>(d);
  return true;
}

inline bool fp32FromDouble(double d, float* out) {
  float f = static_cast<float>(d);
  if (std::isinf(f) && !std::isinf(d)) return false;  // beyond FLT_MAX
  *out = f;
  return true;
}

inline bool fp16FromDouble(double d, uint16_t* out) {
  float f;
  if (!fp32FromDouble(d, &f)) return false;
  uint16_t h = engine::floatToHalf(f);
  if ((h & 0x7fffu) == 0x7c00u) return false;  // beyond the FP16 range (rounds to inf)
  *out = h;
  return true;
}

inline bool bf16FromDouble(double d, uint16_t* out) {
  float f;
  if (!fp32FromDouble(d, &f)) return false;
  uint16_t h = engine::floatToBf16(f);
  if ((h & 0x7fffu) == 0x7f80u) return false;  // beyond the BF16 range (rounds to inf)
  *out = h;
  return true;
}

template <typename T, Typing typing>
bool toInteger(const rapidjson::Value& v, T* out) {
  if (v.IsInt64()) return integerFromInt64(v.GetInt64(), out);
  if (v.IsUint64()) return integerFromUint64(v.GetUint64(), out);  // > INT64_MAX
  if (typing == Typing::kLenient && v.IsDouble()) return integerFromDouble(v.GetDouble(), out);
  return false;
}

inline bool toFp32(const rapidjson::Value& v, float* out) { return v.IsNumber() && fp32FromDouble(v.GetDouble(), out); }

inline bool toFp64(const rapidjson::Value& v, double* out) {
  if (!v.IsNumber()) return false;
  *out = v.GetDouble();
  return true;
}

inline bool toFp16(const rapidjson::Value& v, uint16_t* out) { return v.IsNumber() && fp16FromDouble(v.GetDouble(), out); }

inline bool toBf16(const rapidjson::Value& v, uint16_t* out) { return v.IsNumber() && bf16FromDouble(v.GetDouble(), out); }

template <Typing typing>
bool toBool(const rapidjson::Value& v, uint8_t* out) {
  if (v.IsBool()) {
    *out = v.GetBool() ? 1 : 0;
    return true;
  }
  if (typing == Typing::kLenient && v.IsInt64()) {
    int64_t x = v.GetInt64();
    if (x != 0 && x != 1) return false;
    *out = static_cast<uint8_t>(x);
    return true;
  }
  return false;
}

}  // namespace ovms::api::json
