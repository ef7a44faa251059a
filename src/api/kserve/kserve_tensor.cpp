#include "api/kserve/kserve_tensor.h"

#include <cstring>
#include <limits>

#include "serving/packed_strings.h"

namespace ovms::api::kserve {
using engine::Precision;

namespace {

// Views a repeated field whose element layout is the tensor's layout.
template <typename Field>
void viewTyped(const Field& values, size_t element_size, serving::InferenceInput* out) {
  out->tensor.data = values.data();
  out->tensor.bytes = static_cast<size_t>(values.size()) * element_size;
  out->typed_values = true;
  out->value_count = values.size();
}

// Converts a repeated field into owned storage of a narrower type. A value outside the type's
// range is rejected (never wrapped: 300 is not an INT8), like out-of-range JSON values on REST.
template <typename To, typename Field>
Status copyTyped(const Field& values, serving::InferenceInput* out) {
  auto& buf = out->storage.bytes;
  buf.resize(static_cast<size_t>(values.size()) * sizeof(To));
  for (int i = 0; i < values.size(); ++i) {
    const auto from = values.Get(i);
    if (from < static_cast<decltype(from)>(std::numeric_limits<To>::min()) ||
        from > static_cast<decltype(from)>(std::numeric_limits<To>::max()))
      return Status(StatusCode::INVALID_INPUT_FORMAT, "value " + std::to_string(from) + " is out of the range of " +
                                                          engine::kserveDatatype(out->tensor.precision) +
                                                          "; input name: " + out->name);
    To v = static_cast<To>(from);
    std::memcpy(buf.data() + static_cast<size_t>(i) * sizeof(To), &v, sizeof(To));
  }
  out->tensor.data = buf.data();
  out->tensor.bytes = buf.size();
  out->typed_values = true;
  out->value_count = values.size();
  return StatusCode::OK;
}

void packBytes(const google::protobuf::RepeatedPtrField<std::string>& values, serving::InferenceInput* out) {
  auto& buf = out->storage.bytes;
  serving::packStrings(values, &buf);
  out->tensor.data = buf.data();
  out->tensor.bytes = buf.size();
  out->typed_values = true;
  out->value_count = values.size();
}

Status decodeTyped(const inference::InferTensorContents& c, Precision p, serving::InferenceInput* out) {
  switch (p) {
    case Precision::FP32: viewTyped(c.fp32_contents(), sizeof(float), out); break;
    case Precision::FP64: viewTyped(c.fp64_contents(), sizeof(double), out); break;
    case Precision::I32: viewTyped(c.int_contents(), sizeof(int32_t), out); break;
    case Precision::I16: return copyTyped<int16_t>(c.int_contents(), out);
    case Precision::I8: return copyTyped<int8_t>(c.int_contents(), out);
    case Precision::I64: viewTyped(c.int64_contents(), sizeof(int64_t), out); break;
    case Precision::U32: viewTyped(c.uint_contents(), sizeof(uint32_t), out); break;
    case Precision::U16: return copyTyped<uint16_t>(c.uint_contents(), out);
    case Precision::U8: return copyTyped<uint8_t>(c.uint_contents(), out);
    case Precision::U64: viewTyped(c.uint64_contents(), sizeof(uint64_t), out); break;
    case Precision::BOOL:
      static_assert(sizeof(bool) == 1, "bool_contents are viewed as 1-byte BOOL elements");
      viewTyped(c.bool_contents(), sizeof(bool), out);
      break;
    case Precision::STRING: packBytes(c.bytes_contents(), out); break;
    default:
      // FP16 and BF16 can only be sent in raw_input_contents: there are no values to count.
      out->typed_values = true;
      out->value_count = 0;
      break;
  }
  return StatusCode::OK;
}

}  // namespace

Status countPackedElements(const void* data, size_t bytes, const std::string& input_name, int64_t* count) {
  serving::PackedStringsError error;
  if (serving::countPackedStrings(data, bytes, count, &error)) return StatusCode::OK;
  if (error.kind == serving::PackedStringsError::LENGTH_EXCEEDS_BUFFER)
    return Status(StatusCode::INVALID_CONTENT_SIZE, "Batch length metadata exceeded buffer size, buffer size: " +
                                                        std::to_string(bytes) + ", batch length: " +
                                                        std::to_string(error.length) + "; input name: " + input_name);
  return Status(StatusCode::INVALID_CONTENT_SIZE, "Processed bytes: " + std::to_string(error.processed) +
                                                      " do not equal to buffer size: " + std::to_string(bytes) +
                                                      "; input name: " + input_name);
}

Status decodeInferRequest(const inference::ModelInferRequest& request, size_t model_input_count,
                          serving::InferenceRequest* out) {
  const size_t n = static_cast<size_t>(request.inputs_size());
  if (n == 0 || n != model_input_count)
    return Status(StatusCode::INVALID_NO_OF_INPUTS,
                  "Expected: " + std::to_string(model_input_count) + "; Actual: " + std::to_string(n));
  const bool raw = request.raw_input_contents_size() > 0;
  if (raw) {
    for (const auto& in : request.inputs())
      if (in.has_contents())
        return Status(StatusCode::INVALID_MESSAGE_STRUCTURE,
                      "Passing buffers both in InferInputTensor contents and in raw_input_contents is not allowed. "
                      "Detected buffer in InferInputTensor contents for input: " + in.name());
    if (static_cast<size_t>(request.raw_input_contents_size()) != n)
      return Status(StatusCode::INVALID_MESSAGE_STRUCTURE,
                    "Size of raw_input_contents: " + std::to_string(request.raw_input_contents_size()) +
                        " is different than number of inputs: " + std::to_string(n));
  }
  out->id = request.id();
  out->requested_outputs.clear();
  for (const auto& o : request.outputs()) out->requested_outputs.push_back(o.name());
  out->inputs.clear();
  out->inputs.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& in = request.inputs(static_cast<int>(i));
    auto& dst = out->inputs[i];
    dst.name = in.name();
    dst.client_datatype = in.datatype();
    auto p = engine::fromKserveDatatype(in.datatype());
    dst.tensor.precision = p ? *p : Precision::UNDEFINED;
    dst.tensor.shape.assign(in.shape().begin(), in.shape().end());
    dst.storage.precision = dst.tensor.precision;
    dst.storage.shape = dst.tensor.shape;
    if (raw) {
      const std::string& buf = request.raw_input_contents(static_cast<int>(i));
      dst.tensor.data = buf.data();
      dst.tensor.bytes = buf.size();
      if (dst.tensor.precision == Precision::STRING) {
        int64_t count = 0;
        Status st = countPackedElements(buf.data(), buf.size(), dst.name, &count);
        if (!st.ok()) return st;
        dst.typed_values = true;
        dst.value_count = count;
      }
    } else {
      Status st = decodeTyped(in.contents(), dst.tensor.precision, &dst);
      if (!st.ok()) return st;
    }
  }
  return StatusCode::OK;
}

Status encodeInferResponse(const serving::InferenceResponse& result, inference::ModelInferResponse* response) {
  for (const auto& out : result.outputs) {
    const auto& t = out.tensor;
    if (t.precision == Precision::UNDEFINED)
      return Status(StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION, "output name: " + out.name);
    auto* o = response->add_outputs();
    o->set_name(out.name);
    o->set_datatype(engine::kserveDatatype(t.precision));
    for (int64_t d : t.shape) o->add_shape(d);
    response->add_raw_output_contents()->assign(static_cast<const char*>(t.data), t.data ? t.bytes : 0);
  }
  return StatusCode::OK;
}

}  // namespace ovms::api::kserve
