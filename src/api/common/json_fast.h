#pragma once
// The fast path for JSON tensor bodies (TF-Serving and KServe REST): simdjson's DOM parser
// (runtime-dispatched SIMD kernels, exact number parsing, the whole text validated) feeding the
// tensor buffer directly, with the element rules of api/common/json_numbers.h.
//
// The fast path only ever answers "done" or "not mine": whenever simdjson rejects the text, or the
// body has a shape the fast path does not handle (strings, b64, unknown inputs, ragged arrays, any
// error at all), the caller runs its rapidjson path, which decides every error and every rare
// format exactly as before. So errors, texts and codes cannot drift; only well-formed numeric
// tensors take the fast road, and they must produce the same tensors (tests/tfs_rest and
// tests/kserve compare both paths).
//
// Why the DOM and not On-Demand: Debian's simdjson 3.0.1 builds On-Demand for the compile target
// only (the scalar "fallback" kernel for plain x86-64), whose float parser returns wrong values for
// numbers with more than 19 digits; the DOM parser dispatches to the CPU's kernel at run time.
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "api/common/json_numbers.h"

namespace ovms::api::json {

// Parses JSON text with simdjson's DOM. `capacity`: bytes readable from json.data() (a
// std::string's capacity); with at least SIMDJSON_PADDING spare bytes the text is not copied.
class FastDocument {
 public:
  // False when simdjson does not take the text (invalid JSON, or numbers it does not represent,
  // such as integers beyond 64 bits): the caller then uses rapidjson.
  bool parse(std::string_view json, size_t capacity, simdjson::dom::element* root);

 private:
  // Large bodies get a parser of their own, freed with this object, so a burst of large requests
  // does not leave each thread holding parser buffers the size of the largest body.
  std::unique_ptr<simdjson::dom::parser> own_;
};

// The array / object of an element whose type() was checked (by value: a range-for over
// get_array().value_unsafe() would iterate a destroyed temporary).
inline simdjson::dom::array asArray(simdjson::dom::element v) {
  simdjson::dom::array a;
  if (v.get_array().get(a) != simdjson::SUCCESS) return {};
  return a;
}
inline simdjson::dom::object asObject(simdjson::dom::element v) {
  simdjson::dom::object o;
  if (v.get_object().get(o) != simdjson::SUCCESS) return {};
  return o;
}

// Element conversions from simdjson values, with the same rules as the rapidjson ones.
template <typename T, Typing typing>
inline bool toInteger(simdjson::dom::element v, T* out) {
  using simdjson::dom::element_type;
  switch (v.type()) {
    case element_type::INT64: return integerFromInt64(v.get_int64().value_unsafe(), out);
    case element_type::UINT64: return integerFromUint64(v.get_uint64().value_unsafe(), out);  // > INT64_MAX
    case element_type::DOUBLE:
      return typing == Typing::kLenient && integerFromDouble(v.get_double().value_unsafe(), out);
    default: return false;
  }
}

// A JSON number as rapidjson's GetDouble() gives it (integers converted).
inline bool numberAsDouble(simdjson::dom::element v, double* out) {
  using simdjson::dom::element_type;
  switch (v.type()) {
    case element_type::DOUBLE: *out = v.get_double().value_unsafe(); return true;
    case element_type::INT64: *out = static_cast<double>(v.get_int64().value_unsafe()); return true;
    case element_type::UINT64: *out = static_cast<double>(v.get_uint64().value_unsafe()); return true;
    default: return false;
  }
}

inline bool toFp32(simdjson::dom::element v, float* out) {
  double d;
  return numberAsDouble(v, &d) && fp32FromDouble(d, out);
}
inline bool toFp64(simdjson::dom::element v, double* out) { return numberAsDouble(v, out); }
inline bool toFp16(simdjson::dom::element v, uint16_t* out) {
  double d;
  return numberAsDouble(v, &d) && fp16FromDouble(d, out);
}
inline bool toBf16(simdjson::dom::element v, uint16_t* out) {
  double d;
  return numberAsDouble(v, &d) && bf16FromDouble(d, out);
}

template <Typing typing>
inline bool toBool(simdjson::dom::element v, uint8_t* out) {
  using simdjson::dom::element_type;
  if (v.type() == element_type::BOOL) {
    *out = v.get_bool().value_unsafe() ? 1 : 0;
    return true;
  }
  if (typing == Typing::kLenient && v.type() == element_type::INT64) {
    int64_t x = v.get_int64().value_unsafe();
    if (x != 0 && x != 1) return false;
    *out = static_cast<uint8_t>(x);
    return true;
  }
  return false;
}

}  // namespace ovms::api::json
