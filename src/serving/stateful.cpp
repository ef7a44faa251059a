#include "serving/stateful.h"

#include <cstring>
#include <set>

#include <onnx/onnx_pb.h>

#include "common/logging.h"

namespace ovms::serving {
namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The raw little-endian bytes of an initializer (raw_data or the typed field).
bool initializerBytes(const onnx::TensorProto& t, engine::Precision p, uint64_t expected, std::vector<uint8_t>* out) {
  out->assign(expected, 0);
  if (t.has_raw_data()) {
    if (t.raw_data().size() != expected) return false;
    std::memcpy(out->data(), t.raw_data().data(), expected);
    return true;
  }
  const size_t es = engine::elementSize(p);
  const uint64_t n = es ? expected / es : 0;
  auto copy = [&](const auto& field, auto cast) {
    if (static_cast<uint64_t>(field.size()) != n) return false;
    for (uint64_t i = 0; i < n; ++i) {
      auto v = cast(field.Get(static_cast<int>(i)));
      std::memcpy(out->data() + i * es, &v, es);
    }
    return true;
  };
  switch (p) {
    case engine::Precision::FP32: return copy(t.float_data(), [](float v) { return v; });
    case engine::Precision::FP64: return copy(t.double_data(), [](double v) { return v; });
    case engine::Precision::I64: return copy(t.int64_data(), [](int64_t v) { return v; });
    case engine::Precision::U64: return copy(t.uint64_data(), [](uint64_t v) { return v; });
    case engine::Precision::U32: return copy(t.uint64_data(), [](uint64_t v) { return static_cast<uint32_t>(v); });
    case engine::Precision::I32: return copy(t.int32_data(), [](int32_t v) { return v; });
    case engine::Precision::I16: return copy(t.int32_data(), [](int32_t v) { return static_cast<int16_t>(v); });
    case engine::Precision::U16: return copy(t.int32_data(), [](int32_t v) { return static_cast<uint16_t>(v); });
    case engine::Precision::FP16: return copy(t.int32_data(), [](int32_t v) { return static_cast<uint16_t>(v); });
    case engine::Precision::BF16: return copy(t.int32_data(), [](int32_t v) { return static_cast<uint16_t>(v); });
    case engine::Precision::I8: return copy(t.int32_data(), [](int32_t v) { return static_cast<int8_t>(v); });
    case engine::Precision::U8: return copy(t.int32_data(), [](int32_t v) { return static_cast<uint8_t>(v); });
    case engine::Precision::BOOL: return copy(t.int32_data(), [](int32_t v) { return static_cast<uint8_t>(v != 0); });
    default: return false;
  }
}

// Reads a special input's single value: shape (1), the expected precision, one value.
template <typename T>
Status readSpecial(const InferenceInput& in, engine::Precision precision, bool typed_only, StatusCode bad_type, T* value) {
  const auto& t = in.tensor;
  if (t.shape.empty()) return StatusCode::SPECIAL_INPUT_NO_TENSOR_SHAPE;
  if (t.shape.size() != 1)
    return Status(StatusCode::INVALID_NO_OF_SHAPE_DIMENSIONS, "Required shape for " + in.name + " is: (1)");
  if (t.shape[0] != 1) return Status(StatusCode::INVALID_SHAPE, "Required shape for " + in.name + " is: (1)");
  if (t.precision != precision || (typed_only && !in.typed_values)) return bad_type;
  const bool one = in.typed_values ? in.value_count == 1 && t.bytes == sizeof(T) : t.bytes == sizeof(T);
  if (!one || t.data == nullptr) return bad_type;
  std::memcpy(value, t.data, sizeof(T));
  return StatusCode::OK;
}

}  // namespace

Status extractStateVariables(std::string* onnx_bytes, std::vector<StateVariable>* out) {
  out->clear();
  onnx::ModelProto model;
  if (!model.ParseFromArray(onnx_bytes->data(), static_cast<int>(onnx_bytes->size())))
    return Status(StatusCode::MODEL_NOT_LOADED, "the model is not a valid ONNX model");
  auto* graph = model.mutable_graph();
  std::set<std::string> outputs;
  for (const auto& o : graph->output()) outputs.insert(o.name());
  bool rewritten = false;
  for (const auto& in : graph->input()) {
    if (!endsWith(in.name(), "_state") || !outputs.count(in.name() + "_out")) continue;
    StateVariable v;
    v.input = in.name();
    v.output = in.name() + "_out";
    const auto& tt = in.type().tensor_type();
    auto precision = engine::fromOnnxElementType(tt.elem_type());
    if (!precision || *precision == engine::Precision::STRING || engine::elementSize(*precision) == 0)
      return Status(StatusCode::MODEL_NOT_LOADED, "state input " + v.input + " has an unsupported element type");
    engine::Shape shape;
    if (!tt.has_shape()) return Status(StatusCode::MODEL_NOT_LOADED, "state input " + v.input + " has no shape");
    for (const auto& d : tt.shape().dim()) {
      if (!d.has_dim_value() || d.dim_value() <= 0)
        return Status(StatusCode::MODEL_NOT_LOADED,
                      "state input " + v.input + " needs a static shape (the state's size is fixed per sequence)");
      shape.push_back(d.dim_value());
    }
    uint64_t bytes = 0;
    if (!engine::denseByteSize(shape, *precision, uint64_t{1} << 32, &bytes))
      return Status(StatusCode::MODEL_NOT_LOADED, "state input " + v.input + " is too large");
    v.initial.precision = *precision;
    v.initial.shape = shape;
    v.initial.bytes.assign(bytes, 0);
    auto* inits = graph->mutable_initializer();
    for (int i = 0; i < inits->size(); ++i) {
      if (inits->Get(i).name() != v.input) continue;
      if (!initializerBytes(inits->Get(i), *precision, bytes, &v.initial.bytes))
        return Status(StatusCode::MODEL_NOT_LOADED, "the initial value of state input " + v.input +
                                                        " does not match its declared type and shape");
      inits->DeleteSubrange(i, 1);
      rewritten = true;
      break;
    }
    out->push_back(std::move(v));
  }
  if (rewritten) *onnx_bytes = model.SerializeAsString();
  return StatusCode::OK;
}

Status readSequenceSpec(const InferenceRequest& request, SequenceSpec* out) {
  // OVMS reads the special inputs from uint64_val / uint32_val of the TF-Serving TensorProto only.
  const bool typed_only = request.origin.api == Api::TensorFlowServing && request.origin.interface == Interface::GRPC;
  SequenceSpec spec;
  if (const InferenceInput* id = request.find(kSequenceIdInput)) {
    Status st = readSpecial(*id, engine::Precision::U64, typed_only, StatusCode::SEQUENCE_ID_BAD_TYPE, &spec.id);
    if (!st.ok()) return st;
  }
  if (const InferenceInput* control = request.find(kSequenceControlInput)) {
    Status st = readSpecial(*control, engine::Precision::U32, typed_only, StatusCode::SEQUENCE_CONTROL_INPUT_BAD_TYPE,
                            &spec.control);
    if (!st.ok()) return st;
  }
  if (spec.control > 2) return StatusCode::INVALID_SEQUENCE_CONTROL_INPUT;
  if (spec.control != 1 && spec.id == 0) return StatusCode::SEQUENCE_ID_NOT_PROVIDED;
  *out = spec;
  return StatusCode::OK;
}

}  // namespace ovms::serving
