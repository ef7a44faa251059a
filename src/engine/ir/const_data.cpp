#include "engine/ir/const_data.h"

#include <cmath>
#include <cstring>
#include <limits>

#include <onnx/onnx_pb.h>

#include "engine/half.h"
#include "engine/ir/element_types.h"
#include "engine/ir/ir_model.h"

namespace ovms::engine::ir {

using TP = onnx::TensorProto;

int64_t ConstData::numel() const {
  int64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

template <typename T>
static T readAt(std::string_view b, size_t i) {
  T v;
  std::memcpy(&v, b.data() + i * sizeof(T), sizeof(T));
  return v;
}

template <typename Out>
static std::vector<Out> convertAll(const ConstData& c) {
  size_t n = static_cast<size_t>(c.numel());
  size_t es = onnxTypeSize(c.onnx_type);
  if (es == 0 || c.bytes.size() < n * es) throw IrError("constant data is too short or of an unsupported type");
  std::vector<Out> out(n);
  for (size_t i = 0; i < n; ++i) {
    switch (c.onnx_type) {
      case TP::FLOAT: out[i] = static_cast<Out>(readAt<float>(c.bytes, i)); break;
      case TP::DOUBLE: out[i] = static_cast<Out>(readAt<double>(c.bytes, i)); break;
      case TP::FLOAT16: out[i] = static_cast<Out>(halfToFloat(readAt<uint16_t>(c.bytes, i))); break;
      case TP::BFLOAT16: out[i] = static_cast<Out>(bf16ToFloat(readAt<uint16_t>(c.bytes, i))); break;
      case TP::INT8: out[i] = static_cast<Out>(readAt<int8_t>(c.bytes, i)); break;
      case TP::INT16: out[i] = static_cast<Out>(readAt<int16_t>(c.bytes, i)); break;
      case TP::INT32: out[i] = static_cast<Out>(readAt<int32_t>(c.bytes, i)); break;
      case TP::INT64: out[i] = static_cast<Out>(readAt<int64_t>(c.bytes, i)); break;
      case TP::UINT8: case TP::BOOL: out[i] = static_cast<Out>(readAt<uint8_t>(c.bytes, i)); break;
      case TP::UINT16: out[i] = static_cast<Out>(readAt<uint16_t>(c.bytes, i)); break;
      case TP::UINT32: out[i] = static_cast<Out>(readAt<uint32_t>(c.bytes, i)); break;
      case TP::UINT64: out[i] = static_cast<Out>(readAt<uint64_t>(c.bytes, i)); break;
      default: throw IrError("unsupported constant type");
    }
  }
  return out;
}

static int64_t saturatingToInt64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (d <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

std::vector<int64_t> ConstData::toInt64() const {
  if (isFloatOnnx(onnx_type)) {
    auto d = convertAll<double>(*this);
    std::vector<int64_t> r(d.size());
    for (size_t k = 0; k < d.size(); ++k) r[k] = saturatingToInt64(d[k]);
    return r;
  }
  return convertAll<int64_t>(*this);
}
std::vector<double> ConstData::toDouble() const { return convertAll<double>(*this); }

template <typename T>
static void appendAs(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

static void appendConverted(std::string& s, int32_t t, double v) {
  switch (t) {
    case TP::FLOAT: appendAs<float>(s, static_cast<float>(v)); break;
    case TP::DOUBLE: appendAs<double>(s, v); break;
    case TP::FLOAT16: appendAs<uint16_t>(s, floatToHalf(static_cast<float>(v))); break;
    case TP::BFLOAT16: appendAs<uint16_t>(s, floatToBf16(static_cast<float>(v))); break;
    case TP::INT8: appendAs<int8_t>(s, static_cast<int8_t>(saturatingToInt64(v))); break;
    case TP::INT16: appendAs<int16_t>(s, static_cast<int16_t>(saturatingToInt64(v))); break;
    case TP::INT32: appendAs<int32_t>(s, static_cast<int32_t>(saturatingToInt64(v))); break;
    case TP::INT64: appendAs<int64_t>(s, saturatingToInt64(v)); break;
    case TP::UINT8: appendAs<uint8_t>(s, static_cast<uint8_t>(saturatingToInt64(v))); break;
    case TP::BOOL: appendAs<uint8_t>(s, v != 0 ? 1 : 0); break;
    case TP::UINT16: appendAs<uint16_t>(s, static_cast<uint16_t>(saturatingToInt64(v))); break;
    case TP::UINT32: appendAs<uint32_t>(s, static_cast<uint32_t>(saturatingToInt64(v))); break;
    case TP::UINT64: appendAs<uint64_t>(s, static_cast<uint64_t>(saturatingToInt64(v))); break;
    default: throw IrError("unsupported constant type");
  }
}

std::shared_ptr<ConstData> ConstData::fromDoubles(int32_t t, std::vector<int64_t> dims, const std::vector<double>& v) {
  auto s = std::make_shared<std::string>();
  s->reserve(v.size() * onnxTypeSize(t));
  for (double d : v) appendConverted(*s, t, d);
  auto c = std::make_shared<ConstData>();
  c->onnx_type = t;
  c->dims = std::move(dims);
  c->owned = s;
  c->bytes = *s;
  return c;
}

std::shared_ptr<ConstData> ConstData::fromInt64(int32_t t, std::vector<int64_t> dims, const std::vector<int64_t>& v) {
  auto s = std::make_shared<std::string>();
  for (int64_t x : v) {
    if (t == TP::INT64) appendAs<int64_t>(*s, x);
    else if (t == TP::UINT64) appendAs<uint64_t>(*s, static_cast<uint64_t>(x));
    else appendConverted(*s, t, static_cast<double>(x));
  }
  auto c = std::make_shared<ConstData>();
  c->onnx_type = t;
  c->dims = std::move(dims);
  c->owned = s;
  c->bytes = *s;
  return c;
}

}  // namespace ovms::engine::ir
