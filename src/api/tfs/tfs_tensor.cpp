#include "api/tfs/tfs_tensor.h"

#include <cstring>
#include <limits>
#include <type_traits>

#include "serving/packed_strings.h"

namespace ovms::api::tfs {
using engine::Precision;

Precision fromTfDataType(int dtype) {
  switch (dtype) {
    case tensorflow::DT_FLOAT: return Precision::FP32;
    case tensorflow::DT_DOUBLE: return Precision::FP64;
    case tensorflow::DT_HALF: return Precision::FP16;
    case tensorflow::DT_BFLOAT16: return Precision::BF16;
    case tensorflow::DT_INT8: return Precision::I8;
    case tensorflow::DT_UINT8: return Precision::U8;
    case tensorflow::DT_INT16: return Precision::I16;
    case tensorflow::DT_UINT16: return Precision::U16;
    case tensorflow::DT_INT32: return Precision::I32;
    case tensorflow::DT_INT64: return Precision::I64;
    case tensorflow::DT_UINT32: return Precision::U32;
    case tensorflow::DT_UINT64: return Precision::U64;
    case tensorflow::DT_BOOL: return Precision::BOOL;
    case tensorflow::DT_STRING: return Precision::STRING;
    default: return Precision::UNDEFINED;
  }
}

tensorflow::DataType toTfDataType(Precision p) {
  switch (p) {
    case Precision::FP32: return tensorflow::DT_FLOAT;
    case Precision::FP64: return tensorflow::DT_DOUBLE;
    case Precision::FP16: return tensorflow::DT_HALF;
    case Precision::BF16: return tensorflow::DT_BFLOAT16;
    case Precision::I8: return tensorflow::DT_INT8;
    case Precision::U8: return tensorflow::DT_UINT8;
    case Precision::I16: return tensorflow::DT_INT16;
    case Precision::U16: return tensorflow::DT_UINT16;
    case Precision::I32: return tensorflow::DT_INT32;
    case Precision::I64: return tensorflow::DT_INT64;
    case Precision::U32: return tensorflow::DT_UINT32;
    case Precision::U64: return tensorflow::DT_UINT64;
    case Precision::BOOL: return tensorflow::DT_BOOL;
    case Precision::STRING: return tensorflow::DT_STRING;
    default: return tensorflow::DT_INVALID;
  }
}

const char* tfDataTypeName(Precision p) {
  return tensorflow::DataType_Name(toTfDataType(p)).c_str();
}

namespace {

template <typename To, typename Field>
Status unpack(const Field& values, serving::InferenceInput* out) {
  auto& buf = out->storage.bytes;
  buf.resize(values.size() * sizeof(To));
  To* dst = reinterpret_cast<To*>(buf.data());
  for (int i = 0; i < values.size(); ++i) {
    const auto v = values.Get(i);
    // int_val carries 8- and 16-bit values in 32 bits: one that does not fit is rejected, never
    // wrapped (300 is not an INT8), like out-of-range JSON values on REST.
    if constexpr (std::is_integral_v<To> && !std::is_same_v<To, bool> && sizeof(To) < sizeof(v)) {
      if (v < static_cast<decltype(v)>(std::numeric_limits<To>::min()) ||
          v > static_cast<decltype(v)>(std::numeric_limits<To>::max()))
        return Status(StatusCode::INVALID_INPUT_FORMAT, "value " + std::to_string(v) + " is out of the range of " +
                                                            engine::precisionName(out->tensor.precision) +
                                                            "; input name: " + out->name);
    }
    dst[i] = static_cast<To>(v);
  }
  out->typed_values = true;
  out->value_count = values.size();
  return StatusCode::OK;
}

}  // namespace

Status decodeTensorProto(const std::string& name, const tensorflow::TensorProto& proto, serving::InferenceInput* out) {
  out->name = name;
  auto& t = out->tensor;
  t.precision = fromTfDataType(proto.dtype());
  t.shape.clear();
  for (const auto& d : proto.tensor_shape().dim()) t.shape.push_back(d.size());
  out->storage.precision = t.precision;
  out->storage.shape = t.shape;
  if (!proto.tensor_content().empty()) {
    t.data = proto.tensor_content().data();
    t.bytes = proto.tensor_content().size();
    return StatusCode::OK;
  }
  // Typed containers: each holds the values of some dtypes (TensorProto field comments).
  Status st = StatusCode::OK;
  switch (t.precision) {
    case Precision::FP32: if (proto.float_val_size()) st = unpack<float>(proto.float_val(), out); break;
    case Precision::FP64: if (proto.double_val_size()) st = unpack<double>(proto.double_val(), out); break;
    case Precision::FP16: if (proto.half_val_size()) st = unpack<uint16_t>(proto.half_val(), out); break;
    case Precision::BF16: if (proto.half_val_size()) st = unpack<uint16_t>(proto.half_val(), out); break;
    case Precision::I8: if (proto.int_val_size()) st = unpack<int8_t>(proto.int_val(), out); break;
    case Precision::U8: if (proto.int_val_size()) st = unpack<uint8_t>(proto.int_val(), out); break;
    case Precision::I16: if (proto.int_val_size()) st = unpack<int16_t>(proto.int_val(), out); break;
    case Precision::U16: if (proto.int_val_size()) st = unpack<uint16_t>(proto.int_val(), out); break;
    case Precision::I32: if (proto.int_val_size()) st = unpack<int32_t>(proto.int_val(), out); break;
    case Precision::I64: if (proto.int64_val_size()) st = unpack<int64_t>(proto.int64_val(), out); break;
    case Precision::U32: if (proto.uint32_val_size()) st = unpack<uint32_t>(proto.uint32_val(), out); break;
    case Precision::U64: if (proto.uint64_val_size()) st = unpack<uint64_t>(proto.uint64_val(), out); break;
    case Precision::BOOL: if (proto.bool_val_size()) st = unpack<uint8_t>(proto.bool_val(), out); break;
    case Precision::STRING:
      // string_val elements, packed (serving/packed_strings.h): encoded images or strings.
      serving::packStrings(proto.string_val(), &out->storage.bytes);
      out->typed_values = true;
      out->value_count = proto.string_val_size();
      break;
    default: break;
  }
  if (!st.ok()) return st;
  t.data = out->storage.bytes.data();
  t.bytes = out->storage.bytes.size();
  return StatusCode::OK;
}

void encodeTensorProto(const engine::TensorView& tensor, tensorflow::TensorProto* proto) {
  proto->set_dtype(toTfDataType(tensor.precision));
  auto* shape = proto->mutable_tensor_shape();
  for (int64_t d : tensor.shape) shape->add_dim()->set_size(d);
  if (tensor.precision == Precision::STRING) {
    // OVMS answers native string outputs in string_val, one element each (never tensor_content).
    serving::forEachPackedString(tensor.data, tensor.bytes, nullptr,
                                 [proto](const char* s, uint32_t n) { proto->add_string_val(s, n); });
    return;
  }
  proto->mutable_tensor_content()->assign(static_cast<const char*>(tensor.data), tensor.bytes);
}

}  // namespace ovms::api::tfs
