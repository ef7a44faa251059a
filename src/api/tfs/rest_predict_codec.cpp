#include "api/tfs/rest_predict_codec.h"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "engine/half.h"

namespace ovms::api::tfs {

using engine::Precision;
using engine::Shape;
using rapidjson::Value;

namespace {

constexpr int kMaxJsonDepth = 100;
// A request body is at most 1 GB, so no tensor parsed from it can come near this.
constexpr uint64_t kMaxTensorBytes = 1ULL << 36;

// Result of converting one JSON leaf.
enum Res : int { kResOk = 0, kResBad = 1, kResBinary = 2 };

// True if any byte of the 8 at p is a quote or a bracket/brace (exact, no false negatives; a
// false positive only costs the bytewise scan of these 8 bytes).
inline bool mayHoldStructural(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  auto hasByte = [x](unsigned char c) {
    uint64_t v = x ^ (kOnes * c);
    return ((v - kOnes) & ~v & kHigh) != 0;
  };
  return hasByte('"') | hasByte('[') | hasByte('{') | hasByte(']') | hasByte('}');
}

// Containers nested deeper than kMaxJsonDepth. A cheap scan that also keeps rapidjson's
// recursive parser away from pathological nesting.
bool nestingTooDeep(std::string_view s) {
  int depth = 0;
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    // Numbers, commas and whitespace make up almost all of a tensor body: skip them 8 bytes at a time.
    while (end - p >= 8 && !mayHoldStructural(p)) p += 8;
    if (p == end) break;
    char c = *p++;
    switch (c) {
      case '"':
        while (p < end) {
          char d = *p++;
          if (d == '\\') {
            ++p;
          } else if (d == '"') {
            break;
          }
        }
        break;
      case '[':
      case '{':
        if (++depth > kMaxJsonDepth) return true;
        break;
      case ']':
      case '}':
        --depth;
        break;
      default:
        break;
    }
  }
  return false;
}

bool isB64Object(const Value& v) {
  if (!v.IsObject() || v.MemberCount() != 1) return false;
  const auto& m = *v.MemberBegin();
  return m.name.GetStringLength() == 3 && std::memcmp(m.name.GetString(), "b64", 3) == 0 && m.value.IsString();
}

// Leaf that carries string / binary data.
bool isStringLeaf(const Value& v) { return v.IsString() || isB64Object(v); }

Res notNumeric(const Value& v) { return isStringLeaf(v) ? kResBinary : kResBad; }

template <typename T>
Res convInt(const Value& v, T* out) {
  using L = std::numeric_limits<T>;
  if (v.IsInt64()) {
    int64_t x = v.GetInt64();
    if constexpr (std::is_signed_v<T>) {
      if (x < static_cast<int64_t>(L::min()) || x > static_cast<int64_t>(L::max())) return kResBad;
    } else {
      if (x < 0 || static_cast<uint64_t>(x) > static_cast<uint64_t>(L::max())) return kResBad;
    }
    *out = static_cast<T>(x);
    return kResOk;
  }
  if (v.IsUint64()) {  // > INT64_MAX
    uint64_t x = v.GetUint64();
    if (x > static_cast<uint64_t>(L::max())) return kResBad;
    *out = static_cast<T>(x);
    return kResOk;
  }
  if (v.IsDouble()) {
    double d = v.GetDouble();
    if (!(d == std::trunc(d))) return kResBad;  // fractional (NaN also fails here)
    if (d < static_cast<double>(L::min()) || d >= std::ldexp(1.0, L::digits)) return kResBad;
    *out = static_cast<T>(d);
    return kResOk;
  }
  return notNumeric(v);
}

Res convF32(const Value& v, float* out) {
  if (!v.IsNumber()) return notNumeric(v);
  double d = v.GetDouble();
  float f = static_cast<float>(d);
  if (std::isinf(f) && !std::isinf(d)) return kResBad;
  *out = f;
  return kResOk;
}

Res convF64(const Value& v, double* out) {
  if (!v.IsNumber()) return notNumeric(v);
  *out = v.GetDouble();
  return kResOk;
}

Res convF16(const Value& v, uint16_t* out) {
  float f;
  Res r = convF32(v, &f);
  if (r != kResOk) return r;
  uint16_t h = engine::floatToHalf(f);
  if ((h & 0x7fffu) == 0x7c00u) return kResBad;  // out of FP16 range (rounds to inf): rejected, not saturated
  *out = h;
  return kResOk;
}

Res convBF16(const Value& v, uint16_t* out) {
  float f;
  Res r = convF32(v, &f);
  if (r != kResOk) return r;
  uint16_t h = engine::floatToBf16(f);
  if ((h & 0x7fffu) == 0x7f80u) return kResBad;  // out of BF16 range (rounds to inf): rejected, not saturated
  *out = h;
  return kResOk;
}

Res convBool(const Value& v, uint8_t* out) {
  if (v.IsBool()) {
    *out = v.GetBool() ? 1 : 0;
    return kResOk;
  }
  if (v.IsInt64()) {
    int64_t x = v.GetInt64();
    if (x != 0 && x != 1) return kResBad;
    *out = static_cast<uint8_t>(x);
    return kResOk;
  }
  if (v.IsNumber()) return kResBad;
  return notNumeric(v);
}

// Walks one dense JSON ndarray of the given shape (starting at `level`), feeding every leaf to
// `sink`. Every list must have exactly the expected size and leaves must sit at the last level.
template <typename Sink>
Res walk(const Value& v, const Shape& shape, size_t level, Sink& sink) {
  if (level == shape.size()) {
    if (v.IsArray()) return kResBad;
    return sink(v);
  }
  if (!v.IsArray() || static_cast<int64_t>(v.Size()) != shape[level]) return kResBad;
  if (level + 1 == shape.size()) {
    for (auto it = v.Begin(), e = v.End(); it != e; ++it) {
      if (it->IsArray()) return kResBad;
      Res r = sink(*it);
      if (r != kResOk) return r;
    }
    return kResOk;
  }
  for (auto it = v.Begin(), e = v.End(); it != e; ++it) {
    Res r = walk(*it, shape, level + 1, sink);
    if (r != kResOk) return r;
  }
  return kResOk;
}

template <typename T, Res (*Conv)(const Value&, T*)>
Res fillTyped(const std::vector<const Value*>& pieces, const Shape& inner, std::vector<uint8_t>* bytes) {
  T* out = reinterpret_cast<T*>(bytes->data());
  auto sink = [&out](const Value& v) -> Res { return Conv(v, out++); };
  for (const Value* p : pieces) {
    Res r = walk(*p, inner, 0, sink);
    if (r != kResOk) return r;
  }
  return kResOk;
}

Res fillStrings(const std::vector<const Value*>& pieces, const Shape& inner, std::vector<std::string>* out) {
  auto sink = [out](const Value& v) -> Res {
    if (v.IsString()) {
      out->emplace_back(v.GetString(), v.GetStringLength());
      return kResOk;
    }
    if (isB64Object(v)) {
      const Value& s = v.MemberBegin()->value;
      std::string decoded;
      if (!decodeBase64(std::string_view(s.GetString(), s.GetStringLength()), &decoded)) return kResBad;
      out->push_back(std::move(decoded));
      return kResOk;
    }
    return kResBad;
  };
  for (const Value* p : pieces) {
    Res r = walk(*p, inner, 0, sink);
    if (r != kResOk) return r;
  }
  return kResOk;
}

struct PendingInput {
  std::string name;
  std::vector<const Value*> pieces;
};

// Builds one input from its JSON pieces. `batched`: each piece is one batch element (row format,
// named); otherwise there is exactly one piece holding the whole tensor.
Status buildInput(PendingInput& pending, bool batched, const engine::TensorInfo* info, StatusCode parse_error,
                  serving::InferenceInput* out) {
  Shape inner;
  const Value* leaf = pending.pieces.front();
  while (leaf->IsArray()) {
    if (leaf->Empty()) return parse_error;
    inner.push_back(static_cast<int64_t>(leaf->Size()));
    leaf = &(*leaf)[0];
  }
  Precision precision;
  if (info && !isStringLeaf(*leaf)) {
    precision = info->precision;
  } else if (info) {
    // Strings and {"b64": ...} stay strings: the API layer decodes them as images for image inputs;
    // for any other input, validation reports the precision mismatch.
    precision = Precision::STRING;
  } else if (leaf->IsInt()) {
    precision = Precision::I32;
  } else if (leaf->IsNumber()) {
    precision = Precision::FP32;
  } else if (isStringLeaf(*leaf)) {
    precision = Precision::STRING;
  } else {
    return parse_error;
  }
  Shape shape;
  shape.reserve(inner.size() + 1);
  if (batched) shape.push_back(static_cast<int64_t>(pending.pieces.size()));
  shape.insert(shape.end(), inner.begin(), inner.end());

  out->name = std::move(pending.name);
  out->storage.precision = precision;
  out->typed_values = false;
  auto& bytes = out->storage.bytes;
  Res r = kResOk;
  if (precision == Precision::STRING) {
    std::vector<std::string> values;
    r = fillStrings(pending.pieces, inner, &values);
    if (r == kResOk) packStrings(values, &bytes);
  } else {
    if (engine::elementSize(precision) == 0) return StatusCode::REST_UNSUPPORTED_PRECISION;
    uint64_t size = 0;
    if (!engine::denseByteSize(shape, precision, kMaxTensorBytes, &size)) return StatusCode::REST_ALLOCATION_ERROR;
    bytes.resize(size);
    const auto& pcs = pending.pieces;
    switch (precision) {
      case Precision::FP32: r = fillTyped<float, convF32>(pcs, inner, &bytes); break;
      case Precision::FP64: r = fillTyped<double, convF64>(pcs, inner, &bytes); break;
      case Precision::FP16: r = fillTyped<uint16_t, convF16>(pcs, inner, &bytes); break;
      case Precision::BF16: r = fillTyped<uint16_t, convBF16>(pcs, inner, &bytes); break;
      case Precision::I8: r = fillTyped<int8_t, convInt<int8_t>>(pcs, inner, &bytes); break;
      case Precision::U8: r = fillTyped<uint8_t, convInt<uint8_t>>(pcs, inner, &bytes); break;
      case Precision::I16: r = fillTyped<int16_t, convInt<int16_t>>(pcs, inner, &bytes); break;
      case Precision::U16: r = fillTyped<uint16_t, convInt<uint16_t>>(pcs, inner, &bytes); break;
      case Precision::I32: r = fillTyped<int32_t, convInt<int32_t>>(pcs, inner, &bytes); break;
      case Precision::I64: r = fillTyped<int64_t, convInt<int64_t>>(pcs, inner, &bytes); break;
      case Precision::U32: r = fillTyped<uint32_t, convInt<uint32_t>>(pcs, inner, &bytes); break;
      case Precision::U64: r = fillTyped<uint64_t, convInt<uint64_t>>(pcs, inner, &bytes); break;
      case Precision::BOOL: r = fillTyped<uint8_t, convBool>(pcs, inner, &bytes); break;
      default: return StatusCode::REST_UNSUPPORTED_PRECISION;
    }
  }
  if (r == kResBinary) {
    return Status(StatusCode::NOT_IMPLEMENTED,
                  "string/binary data for input " + out->name + " of precision " + engine::precisionName(precision));
  }
  if (r != kResOk) return parse_error;
  out->value_count = engine::elementCount(shape);
  out->storage.shape = std::move(shape);
  return StatusCode::OK;
}

const engine::TensorInfo* findInfo(const std::vector<engine::TensorInfo>& infos, const std::string& name) {
  for (const auto& i : infos)
    if (i.name == name) return &i;
  return nullptr;
}

Status buildAll(std::vector<PendingInput>& pending, bool batched, const std::vector<engine::TensorInfo>& model_inputs,
                StatusCode parse_error, std::vector<serving::InferenceInput>* built) {
  built->resize(pending.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    const engine::TensorInfo* info = findInfo(model_inputs, pending[i].name);
    Status s = buildInput(pending[i], batched, info, parse_error, &(*built)[i]);
    if (!s.ok()) return s;
  }
  return StatusCode::OK;
}

Status parseRow(const Value& node, const std::vector<engine::TensorInfo>& model_inputs,
                std::vector<serving::InferenceInput>* built) {
  if (!node.IsArray()) return StatusCode::REST_INSTANCES_NOT_AN_ARRAY;
  if (node.Empty()) return StatusCode::REST_NO_INSTANCES_FOUND;
  const Value& first = node[0];
  if (first.IsObject() && !isB64Object(first)) {
    // named: [{"in1": v, "in2": v}, ...]
    std::vector<PendingInput> pending;
    std::unordered_map<std::string, size_t> index;
    for (auto it = node.Begin(); it != node.End(); ++it) {
      if (!it->IsObject()) return StatusCode::REST_NAMED_INSTANCE_NOT_AN_OBJECT;
      if (it->MemberCount() == 0) return StatusCode::REST_COULD_NOT_PARSE_INSTANCE;
      for (auto m = it->MemberBegin(); m != it->MemberEnd(); ++m) {
        std::string name(m->name.GetString(), m->name.GetStringLength());
        auto [pos, inserted] = index.emplace(name, pending.size());
        if (inserted) pending.push_back(PendingInput{std::move(name), {}});
        pending[pos->second].pieces.push_back(&m->value);
      }
    }
    std::vector<size_t> batch;
    for (const auto& p : pending) batch.push_back(p.pieces.size());
    Status s = buildAll(pending, true, model_inputs, StatusCode::REST_COULD_NOT_PARSE_INSTANCE, built);
    if (!s.ok()) return s;
    for (size_t b : batch)
      if (b != batch.front()) return StatusCode::REST_INSTANCES_BATCH_SIZE_DIFFER;
    return StatusCode::OK;
  }
  if (first.IsArray() || first.IsNumber() || first.IsBool() || isStringLeaf(first)) {
    // nonamed: the whole list is the tensor of the only input
    if (model_inputs.size() != 1) return StatusCode::INVALID_INPUT_FORMAT;
    std::vector<PendingInput> pending{PendingInput{model_inputs[0].name, {&node}}};
    return buildAll(pending, false, model_inputs, StatusCode::REST_COULD_NOT_PARSE_INSTANCE, built);
  }
  return StatusCode::REST_INSTANCES_NOT_NAMED_OR_NONAMED;
}

Status parseColumn(const Value& node, const std::vector<engine::TensorInfo>& model_inputs,
                   std::vector<serving::InferenceInput>* built) {
  if (node.IsObject()) {
    if (node.MemberCount() == 0) return StatusCode::REST_NO_INPUTS_FOUND;
    std::vector<PendingInput> pending;
    for (auto m = node.MemberBegin(); m != node.MemberEnd(); ++m) {
      std::string name(m->name.GetString(), m->name.GetStringLength());
      for (const auto& p : pending)
        if (p.name == name) return StatusCode::REST_COULD_NOT_PARSE_INPUT;  // duplicate key
      pending.push_back(PendingInput{std::move(name), {&m->value}});
    }
    return buildAll(pending, false, model_inputs, StatusCode::REST_COULD_NOT_PARSE_INPUT, built);
  }
  if (node.IsArray() || node.IsNumber() || node.IsBool() || node.IsString()) {
    if (model_inputs.size() != 1) return StatusCode::INVALID_INPUT_FORMAT;
    std::vector<PendingInput> pending{PendingInput{model_inputs[0].name, {&node}}};
    return buildAll(pending, false, model_inputs, StatusCode::REST_COULD_NOT_PARSE_INPUT, built);
  }
  return StatusCode::REST_INPUTS_NOT_AN_OBJECT;
}

// ---------------------------------------------------------------------------------------------
// Response

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

// Appends ".0" to a number written without '.' or exponent ("5" -> "5.0").
size_t appendPointZero(char* buf, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (buf[i] == '.' || buf[i] == 'e') return n;
  buf[n++] = '.';
  buf[n++] = '0';
  return n;
}

// Fast path of formatDecimal<float> for finite normal floats (and zero). The shortest round-trip
// digits of a float (std::to_chars, Ryu) have at most 6 significant digits exactly when "%.6g"
// round-trips, and then they are "%.6g"'s digits: the float's rounding interval (half an ulp,
// < 6e-8 relative) is far narrower than half a step of 6 significant digits (> 5e-7 relative), so
// the 6-digit decimal nearest to the value is the shortest one. Only subnormals (wider relative
// interval) break that argument; they take the slow path. Returns 0 if the caller must fall back
// (more than 6 digits, or subnormal). The text is laid out exactly like printf's %g with precision 6.
size_t formatFloatShortG6(float v, char* buf) {
  if (v != 0.0f && std::fabs(v) < std::numeric_limits<float>::min()) return 0;
  char sci[32];
  auto res = std::to_chars(sci, sci + sizeof(sci), v, std::chars_format::scientific);
  if (res.ec != std::errc()) return 0;
  // sci = [-]d[.ddd]e(+|-)XX[X]
  const char* p = sci;
  const char* end = res.ptr;
  bool negative = false;
  if (*p == '-') {
    negative = true;
    ++p;
  }
  char digits[16];
  int k = 0;
  while (p < end && *p != 'e') {
    if (*p != '.') {
      if (k == 6) return 0;  // 7+ significant digits: "%.6g" does not round-trip
      digits[k++] = *p;
    }
    ++p;
  }
  if (p == end) return 0;
  ++p;  // 'e'
  bool exp_negative = *p == '-';
  ++p;
  int x = 0;
  for (; p < end; ++p) x = x * 10 + (*p - '0');
  if (exp_negative) x = -x;
  // Ryu's shortest digits carry no trailing zeros (except the single "0" of zero).
  char* o = buf;
  if (negative) *o++ = '-';
  if (x >= -4 && x < 6) {
    // Fixed notation, trailing zeros dropped (they already are).
    if (x >= 0) {
      int int_digits = x + 1;
      for (int i = 0; i < int_digits; ++i) *o++ = i < k ? digits[i] : '0';
      if (k > int_digits) {
        *o++ = '.';
        for (int i = int_digits; i < k; ++i) *o++ = digits[i];
      }
    } else {
      *o++ = '0';
      *o++ = '.';
      for (int i = 0; i < -x - 1; ++i) *o++ = '0';
      for (int i = 0; i < k; ++i) *o++ = digits[i];
    }
  } else {
    *o++ = digits[0];
    if (k > 1) {
      *o++ = '.';
      for (int i = 1; i < k; ++i) *o++ = digits[i];
    }
    *o++ = 'e';
    *o++ = x < 0 ? '-' : '+';
    int ax = x < 0 ? -x : x;
    if (ax >= 100) *o++ = static_cast<char>('0' + ax / 100);
    *o++ = static_cast<char>('0' + ax / 10 % 10);
    *o++ = static_cast<char>('0' + ax % 10);
  }
  return appendPointZero(buf, static_cast<size_t>(o - buf));
}

// "%.9g" of a float, exactly as printf prints it, computed with integers for normal floats in
// [1e-3, 2^24) (the usual range of tensor values): value = m * 2^-sh exactly, so
// value * 10^s = (m * 10^s) / 2^sh with a remainder, rounded half to even like glibc's printf.
// Returns 0 for values outside that range (the caller falls back to std::to_chars).
size_t formatFloatG9(float v, char* buf) {
  static constexpr uint64_t kPow10[] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
                                        10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
                                        100000000000ULL, 1000000000000ULL};
  float a = std::fabs(v);
  if (!(a >= 1e-3f && a < 16777216.0f)) return 0;
  int e2 = 0;
  float frac = std::frexp(a, &e2);                               // a = frac * 2^e2, frac in [0.5, 1)
  uint64_t m = static_cast<uint64_t>(std::ldexp(frac, 24));      // exact: 24-bit mantissa
  int sh = 24 - e2;                                              // a = m / 2^sh, sh in [1, 34]
  if (sh < 1 || sh > 63) return 0;
  int x = static_cast<int>(std::floor(std::log10(static_cast<double>(a))));  // decimal exponent guess
  uint64_t q = 0, r = 0;
  for (int tries = 0; tries < 3; ++tries) {
    int s10 = 8 - x;
    if (s10 < 0 || s10 > 11) return 0;
    uint64_t num = m * kPow10[s10];  // < 2^24 * 10^11 < 2^61
    q = num >> sh;
    r = num & ((uint64_t{1} << sh) - 1);
    if (q >= 1000000000ULL) {
      ++x;
    } else if (q < 100000000ULL) {
      --x;
    } else {
      break;
    }
  }
  if (q < 100000000ULL || q >= 1000000000ULL) return 0;
  uint64_t half = uint64_t{1} << (sh - 1);
  if (r > half || (r == half && (q & 1))) ++q;
  if (q == 1000000000ULL) {
    q = 100000000ULL;
    ++x;
  }
  char digits[9];
  for (int i = 8; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + q % 10);
    q /= 10;
  }
  int k = 9;
  while (k > 1 && digits[k - 1] == '0') --k;  // %g drops trailing zeros
  char* o = buf;
  if (v < 0) *o++ = '-';
  if (x >= -4 && x < 9) {
    if (x >= 0) {
      for (int i = 0; i <= x; ++i) *o++ = i < k ? digits[i] : '0';
      if (k > x + 1) {
        *o++ = '.';
        for (int i = x + 1; i < k; ++i) *o++ = digits[i];
      }
    } else {
      *o++ = '0';
      *o++ = '.';
      for (int i = 0; i < -x - 1; ++i) *o++ = '0';
      for (int i = 0; i < k; ++i) *o++ = digits[i];
    }
  } else {
    return 0;  // not reached for the range above; leave exponent forms to std::to_chars
  }
  return appendPointZero(buf, static_cast<size_t>(o - buf));
}

template <typename T>
size_t formatDecimal(T v, char* buf) {  // buf >= 40 chars
  if (std::isnan(v)) {
    std::memcpy(buf, "NaN", 3);
    return 3;
  }
  if (std::isinf(v)) {
    if (v < 0) {
      std::memcpy(buf, "-Infinity", 9);
      return 9;
    }
    std::memcpy(buf, "Infinity", 8);
    return 8;
  }
  char* end = buf + 40;
  if constexpr (std::is_same_v<T, float>) {
    if (size_t n = formatFloatShortG6(v, buf)) return n;
    if (std::fabs(v) >= std::numeric_limits<float>::min()) {
      // Normal float with more than 6 shortest digits: "%.6g" cannot round-trip, skip the attempt.
      if (size_t n = formatFloatG9(v, buf)) return n;
      auto res = std::to_chars(buf, end, v, std::chars_format::general, std::numeric_limits<T>::max_digits10);
      return appendPointZero(buf, static_cast<size_t>(res.ptr - buf));
    }
  }
  auto res = std::to_chars(buf, end, static_cast<double>(v), std::chars_format::general, 6);
  T back{};
  auto parsed = std::from_chars(buf, res.ptr, back);
  if (parsed.ec != std::errc() || back != v) {
    res = std::to_chars(buf, end, v, std::chars_format::general, std::numeric_limits<T>::max_digits10);
  }
  return appendPointZero(buf, static_cast<size_t>(res.ptr - buf));
}

struct OutputCursor {
  const serving::InferenceOutput* out = nullptr;
  Precision precision = Precision::UNDEFINED;
  const uint8_t* data = nullptr;
  std::vector<std::string_view> strings;
  bool strings_as_b64 = false;
  size_t offset = 0;  // element index
};

template <typename T>
T load(const uint8_t* data, size_t i) {
  T v;
  std::memcpy(&v, data + i * sizeof(T), sizeof(T));
  return v;
}

void writeSingle(Writer* w, OutputCursor* c) {
  size_t i = c->offset++;
  char buf[48];
  switch (c->precision) {
    case Precision::FP32: {
      size_t n = formatDecimal(load<float>(c->data, i), buf);
      w->RawValue(buf, n, rapidjson::kNumberType);
      break;
    }
    case Precision::FP64: {
      size_t n = formatDecimal(load<double>(c->data, i), buf);
      w->RawValue(buf, n, rapidjson::kNumberType);
      break;
    }
    case Precision::I8: w->Int(load<int8_t>(c->data, i)); break;
    case Precision::U8: w->Int(load<uint8_t>(c->data, i)); break;
    case Precision::I16: w->Int(load<int16_t>(c->data, i)); break;
    case Precision::I32: w->Int(load<int32_t>(c->data, i)); break;
    case Precision::I64: w->Int64(load<int64_t>(c->data, i)); break;
    case Precision::U32: w->Uint(load<uint32_t>(c->data, i)); break;
    case Precision::U64: w->Uint64(load<uint64_t>(c->data, i)); break;
    case Precision::STRING: {
      std::string_view s = c->strings[i];
      if (c->strings_as_b64) {
        std::string b64 = encodeBase64(s);
        w->StartObject();
        w->Key("b64", 3);
        w->String(b64.data(), static_cast<rapidjson::SizeType>(b64.size()));
        w->EndObject();
      } else {
        w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
      }
      break;
    }
    default: break;  // rejected before writing
  }
}

// Like TF Serving's AddTensorValues: dims from `dim` on, scalars written bare.
void writeValues(Writer* w, OutputCursor* c, size_t dim) {
  const Shape& shape = c->out->tensor.shape;
  if (dim >= shape.size()) {
    writeSingle(w, c);
    return;
  }
  w->StartArray();
  if (dim + 1 == shape.size()) {
    for (int64_t i = 0; i < shape[dim]; ++i) writeSingle(w, c);
  } else {
    for (int64_t i = 0; i < shape[dim]; ++i) writeValues(w, c, dim + 1);
  }
  w->EndArray();
}

bool endsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status prepareOutput(const serving::InferenceOutput& out, OutputCursor* c) {
  const auto& t = out.tensor;
  c->out = &out;
  c->precision = t.precision;
  c->data = static_cast<const uint8_t*>(t.data);
  switch (t.precision) {
    case Precision::FP32:
    case Precision::FP64:
    case Precision::I8:
    case Precision::U8:
    case Precision::I16:
    case Precision::I32:
    case Precision::I64:
    case Precision::U32:
    case Precision::U64:
    case Precision::STRING:
      break;
    case Precision::U16:  // accepted by OVMS's TFS serializer, but its JSON writer has no uint16 case
      return StatusCode::REST_UNSUPPORTED_PRECISION;
    default:
      return Status(StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION,
                    std::string("Actual: ") + engine::precisionName(t.precision));
  }
  int64_t count = engine::elementCount(t.shape);
  if (count < 0) return StatusCode::INTERNAL_ERROR;
  if (count == 0) return StatusCode::REST_SERIALIZE_NO_DATA;  // OVMS: no tensor_content and no *_val
  if (t.precision == Precision::STRING) {
    if (!unpackStrings(t.data, t.bytes, &c->strings) || c->strings.size() != static_cast<uint64_t>(count))
      return StatusCode::INTERNAL_ERROR;
    c->strings_as_b64 = endsWith(out.name, "_bytes");
  } else {
    uint64_t expected = 0;
    if (!engine::denseByteSize(t.shape, t.precision, UINT64_MAX, &expected) || expected != t.bytes || !t.data)
      return StatusCode::INTERNAL_ERROR;
  }
  return StatusCode::OK;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Status parsePredictRequest(std::string_view body, const std::vector<engine::TensorInfo>& model_inputs,
                           serving::InferenceRequest* request, RestOrder* order) {
  if (jsonNestingTooDeep(body)) return StatusCode::JSON_INVALID;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(body.data(), body.size());
  if (doc.HasParseError()) return StatusCode::JSON_INVALID;
  if (!doc.IsObject()) return StatusCode::REST_BODY_NOT_AN_OBJECT;
  auto instances = doc.FindMember("instances");
  auto inputs = doc.FindMember("inputs");
  bool has_instances = instances != doc.MemberEnd();
  bool has_inputs = inputs != doc.MemberEnd();
  if (has_instances == has_inputs) return StatusCode::REST_PREDICT_UNKNOWN_ORDER;

  std::vector<serving::InferenceInput> built;
  Status status;
  if (has_instances) {
    if (order) *order = RestOrder::ROW;
    status = parseRow(instances->value, model_inputs, &built);
  } else {
    if (order) *order = RestOrder::COLUMN;
    status = parseColumn(inputs->value, model_inputs, &built);
  }
  if (!status.ok()) return status;
  size_t first_new = request->inputs.size();
  for (auto& in : built) request->inputs.push_back(std::move(in));
  for (size_t i = first_new; i < request->inputs.size(); ++i) {
    auto& in = request->inputs[i];
    in.tensor = in.storage.view();
  }
  return StatusCode::OK;
}

Status makePredictResponse(const serving::InferenceResponse& response, RestOrder order, std::string* body) {
  if (response.outputs.empty()) return StatusCode::REST_PROTO_TO_STRING_ERROR;
  std::vector<OutputCursor> cursors(response.outputs.size());
  for (size_t i = 0; i < response.outputs.size(); ++i) {
    Status s = prepareOutput(response.outputs[i], &cursors[i]);
    if (!s.ok()) return s;
  }
  // Reserve about what the text will take (pretty-printed numbers, ~10-14 bytes each) so the
  // buffer does not regrow and copy itself a dozen times for a large tensor.
  size_t estimate = 256;
  for (const auto& c : cursors) estimate += 16 * static_cast<size_t>(engine::elementCount(c.out->tensor.shape));
  rapidjson::StringBuffer buffer(nullptr, std::min<size_t>(estimate, size_t{1} << 30));
  Writer writer(buffer);
  const bool elements_are_objects = cursors.size() > 1;
  writer.StartObject();
  if (order == RestOrder::ROW) {
    int64_t batch = -1;
    for (const auto& c : cursors) {
      const Shape& shape = c.out->tensor.shape;
      if (shape.empty()) return StatusCode::REST_PROTO_TO_STRING_ERROR;  // "has no shape information"
      if (batch >= 0 && shape[0] != batch) return StatusCode::REST_PROTO_TO_STRING_ERROR;  // inconsistent batch
      batch = shape[0];
    }
    writer.Key("predictions", 11);
    writer.StartArray();
    for (int64_t item = 0; item < batch; ++item) {
      if (elements_are_objects) writer.StartObject();
      writer.SetFormatOptions(rapidjson::kFormatSingleLineArray);
      for (auto& c : cursors) {
        if (elements_are_objects)
          writer.Key(c.out->name.data(), static_cast<rapidjson::SizeType>(c.out->name.size()));
        writeValues(&writer, &c, 1);
      }
      writer.SetFormatOptions(rapidjson::kFormatDefault);
      if (elements_are_objects) writer.EndObject();
    }
    writer.EndArray();
  } else {
    writer.Key("outputs", 7);
    if (elements_are_objects) writer.StartObject();
    for (auto& c : cursors) {
      if (elements_are_objects) writer.Key(c.out->name.data(), static_cast<rapidjson::SizeType>(c.out->name.size()));
      writeValues(&writer, &c, 0);
    }
    if (elements_are_objects) writer.EndObject();
  }
  writer.EndObject();
  body->assign(buffer.GetString(), buffer.GetSize());
  return StatusCode::OK;
}

// ---------------------------------------------------------------------------------------------

namespace {
constexpr char kB64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct B64Table {
  int8_t v[256];
  constexpr B64Table() : v() {
    for (int i = 0; i < 256; ++i) v[i] = -1;
    for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(kB64Alphabet[i])] = static_cast<int8_t>(i);
  }
};
constexpr B64Table kB64Table;
}  // namespace

bool decodeBase64(std::string_view in, std::string* out) {
  out->clear();
  size_t len = in.size();
  // Padding is optional; when present it must complete the last quantum.
  size_t pad = 0;
  while (len > 0 && in[len - 1] == '=' && pad < 2) {
    --len;
    ++pad;
  }
  if (pad > 0 && (len + pad) % 4 != 0) return false;
  if (len % 4 == 1) return false;
  out->reserve(len / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; ++i) {
    int8_t d = kB64Table.v[static_cast<unsigned char>(in[i])];
    if (d < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xffu));
    }
  }
  return true;
}

std::string encodeBase64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    out.push_back(kB64Alphabet[(n >> 18) & 63]);
    out.push_back(kB64Alphabet[(n >> 12) & 63]);
    out.push_back(kB64Alphabet[(n >> 6) & 63]);
    out.push_back(kB64Alphabet[n & 63]);
  }
  size_t rest = in.size() - i;
  if (rest) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    out.push_back(kB64Alphabet[(n >> 18) & 63]);
    out.push_back(kB64Alphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kB64Alphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string formatFloat(float v) {
  char buf[48];
  return std::string(buf, formatDecimal(v, buf));
}

std::string formatDouble(double v) {
  char buf[48];
  return std::string(buf, formatDecimal(v, buf));
}


bool unpackStrings(const void* data, size_t bytes, std::vector<std::string_view>* out) {
  out->clear();
  const uint8_t* p = static_cast<const uint8_t*>(data);
  size_t pos = 0;
  while (pos < bytes) {
    if (bytes - pos < 4) return false;
    uint32_t n = static_cast<uint32_t>(p[pos]) | (static_cast<uint32_t>(p[pos + 1]) << 8) |
                 (static_cast<uint32_t>(p[pos + 2]) << 16) | (static_cast<uint32_t>(p[pos + 3]) << 24);
    pos += 4;
    if (bytes - pos < n) return false;
    out->emplace_back(reinterpret_cast<const char*>(p + pos), n);
    pos += n;
  }
  return true;
}

bool jsonNestingTooDeep(std::string_view json) { return nestingTooDeep(json); }

}  // namespace ovms::api::tfs
