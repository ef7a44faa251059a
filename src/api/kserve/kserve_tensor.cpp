#include "api/tfs/rest_predict_codec.h"
#include "api/kserve/kserve_tensor.h"

#include <cstring>

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

// Converts a repeated field into owned storage of a narrower type.
template <typename To, typename Field>
void copyTyped(const Field& values, serving::InferenceInput* out) {
  auto& buf = out->storage.bytes;
  buf.resize(static_cast<size_t>(values.size()) * sizeof(To));
  for (int i = 0; i < values.size(); ++i) {
    To v = static_cast<To>(values.Get(i));
    std::memcpy(buf.data() + static_cast<size_t>(i) * sizeof(To), &v, sizeof(To));
  }
  out->tensor.data = buf.data();
  out->tensor.bytes = buf.size();
  out->typed_values = true;
  out->value_count = values.size();
}

void packBytes(const google::protobuf::RepeatedPtrField<std::string>& values, serving::InferenceInput* out) {
  auto& buf = out->storage.bytes;
  tfs::packStrings(values, &buf);
  out->tensor.data = buf.data();
  out->tensor.bytes = buf.size();
  out->typed_values = true;
  out->value_count = values.size();
}

void decodeTyped(const inference::InferTensorContents& c, Precision p, serving::InferenceInput* out) {
  switch (p) {
    case Precision::FP32: viewTyped(c.fp32_contents(), sizeof(float), out); break;
    case Precision::FP64: viewTyped(c.fp64_contents(), sizeof(double), out); break;
    case Precision::I32: viewTyped(c.int_contents(), sizeof(int32_t), out); break;
    case Precision::I16: copyTyped<int16_t>(c.int_contents(), out); break;
    case Precision::I8: copyTyped<int8_t>(c.int_contents(), out); break;
    case Precision::I64: viewTyped(c.int64_contents(), sizeof(int64_t), out); break;
    case Precision::U32: viewTyped(c.uint_contents(), sizeof(uint32_t), out); break;
    case Precision::U16: copyTyped<uint16_t>(c.uint_contents(), out); break;
    case Precision::U8: copyTyped<uint8_t>(c.uint_contents(), out); break;
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
}

}  // namespace

Status countPackedElements(const void* data, size_t bytes, const std::string& input_name, int64_t* count) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  size_t processed = 0;
  int64_t n = 0;
  while (bytes >= processed + 4) {
    uint32_t len = static_cast<uint32_t>(p[processed]) | (static_cast<uint32_t>(p[processed + 1]) << 8) |
                   (static_cast<uint32_t>(p[processed + 2]) << 16) | (static_cast<uint32_t>(p[processed + 3]) << 24);
    if (processed + 4 + static_cast<uint64_t>(len) > bytes)
      return Status(StatusCode::INVALID_CONTENT_SIZE, "Batch length metadata exceeded buffer size, buffer size: " +
                                                          std::to_string(bytes) + ", batch length: " + std::to_string(len) +
                                                          "; input name: " + input_name);
    processed += 4 + static_cast<size_t>(len);
    ++n;
  }
  if (processed != bytes)
    return Status(StatusCode::INVALID_CONTENT_SIZE, "Processed bytes: " + std::to_string(processed) +
                                                        " do not equal to buffer size: " + std::to_string(bytes) +
                                                        "; input name: " + input_name);
  *count = n;
  return StatusCode::OK;
}

Status decodeInferRequest(const inference::ModelInferRequest& request, size_t model_input_count, DecodedRequest* out) {
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
  out->request.inputs.clear();
  out->request.inputs.resize(n);
  out->datatypes.clear();
  out->datatypes.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& in = request.inputs(static_cast<int>(i));
    auto& dst = out->request.inputs[i];
    dst.name = in.name();
    out->datatypes.push_back(in.datatype());
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
      decodeTyped(in.contents(), dst.tensor.precision, &dst);
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
