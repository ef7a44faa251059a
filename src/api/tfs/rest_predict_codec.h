#pragma once
// TensorFlow-Serving REST :predict codec: JSON request body -> InferenceRequest, and
// InferenceResponse -> JSON body exactly as TF Serving's MakeJsonFromTensors prints it.
//
// STRING tensors (model inputs declared STRING, {"b64": ...} / JSON string data, STRING outputs)
// are stored in the KServe binary BYTES layout: for every element, a 4-byte little-endian
// length followed by that many bytes, elements back to back in row-major order.
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/tensor.h"
#include "serving/servable.h"

namespace ovms::api::tfs {

enum class RestOrder { ROW, COLUMN };

// Parses a TF-Serving REST :predict body (see ovms-behaviour.md §5.5).
// `model_inputs` is the servable's signature (exposed names, precisions, shapes with -1 dynamic).
// Numbers are converted to the declared precision of the model input; inputs whose name is not a
// model input get I32 or FP32 inferred from their first value (STRING for string/b64 data).
// Every resulting InferenceInput owns its bytes in `storage`, `tensor` views them,
// typed_values=false and value_count = element count. Model inputs absent from the body are
// absent from `request`; unknown names are kept (in order of first appearance).
// `order` is set as soon as the format is detected (also when a later error is returned).
Status parsePredictRequest(std::string_view body, const std::vector<engine::TensorInfo>& model_inputs,
                           serving::InferenceRequest* request, RestOrder* order);

// Serializes all outputs (in response order) like TF Serving's MakeJsonFromTensors:
// ROW    -> {"predictions": [...]} split along dim 0 (several outputs: one object per batch element);
// COLUMN -> {"outputs": value} or {"outputs": {"name": value, ...}}.
// Pretty-printed with 4-space indentation; see rest_predict_codec.cpp for the number format.
Status makePredictResponse(const serving::InferenceResponse& response, RestOrder order, std::string* body);

// Standard base64 (RFC 4648, '=' padding required when the length is not a multiple of 4;
// whitespace is not allowed). Returns false on malformed input.
bool decodeBase64(std::string_view in, std::string* out);
std::string encodeBase64(std::string_view in);

// Formats a float/double like TF Serving's WriteDecimal: "%.6g" (absl SixDigits), falling back to
// max_digits10 significant digits when that does not round-trip, ".0" appended to plain integers
// ("5.0", "0.5", "1e-07", "9e+06"); NaN -> NaN, +-inf -> Infinity / -Infinity.
std::string formatFloat(float v);
std::string formatDouble(double v);

// Packs / unpacks STRING tensor bytes (layout described above). unpack returns false if malformed.
template <typename Strings>
void packStrings(const Strings& values, std::vector<uint8_t>* out) {
  size_t total = 0;
  for (const auto& s : values) total += 4 + s.size();
  out->resize(total);
  uint8_t* p = out->data();
  for (const auto& s : values) {
    const uint32_t n = static_cast<uint32_t>(s.size());
    p[0] = static_cast<uint8_t>(n);
    p[1] = static_cast<uint8_t>(n >> 8);
    p[2] = static_cast<uint8_t>(n >> 16);
    p[3] = static_cast<uint8_t>(n >> 24);
    p += 4;
    if (n) std::memcpy(p, s.data(), n);
    p += n;
  }
}
bool unpackStrings(const void* data, size_t bytes, std::vector<std::string_view>* out);

// Containers nested deeper than 100 (OVMS: JSON_INVALID). A quick scan that also keeps rapidjson's
// recursive parser away from pathological nesting; shared by the TF-Serving and KServe REST parsers.
bool jsonNestingTooDeep(std::string_view json);

}  // namespace ovms::api::tfs
