#pragma once
// TensorFlow-Serving REST :predict codec: JSON request body -> InferenceRequest, and
// InferenceResponse -> JSON body exactly as TF Serving's MakeJsonFromTensors prints it.
//
// STRING tensors (model inputs declared STRING, {"b64": ...} / JSON string data, STRING outputs)
// are stored in the packed layout of serving/packed_strings.h.
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/tensor.h"
#include "api/common/base64.h"
#include "api/common/json_nesting.h"
#include "serving/inference_request.h"
#include "serving/packed_strings.h"

namespace ovms::api::tfs {

enum class RestOrder { ROW, COLUMN };

// Parses a TF-Serving REST :predict body (see ovms-behaviour.md §5.5).
// `model_inputs` is the servable's signature (exposed names, precisions, shapes with -1 dynamic).
// Numbers are converted to the declared precision of the model input; inputs whose name is not a
// model input get I32 or FP32 inferred from their first value (STRING for string/b64 data).
// Every resulting InferenceInput owns its bytes in `storage`, `tensor` views them,
// value_count = element count, typed_values only for STRING inputs (counted in elements). Model inputs absent from the body are
// absent from `request`; unknown names are kept (in order of first appearance).
// `order` is set as soon as the format is detected (also when a later error is returned).
// `unnamed_allowed` false (a DAG pipeline, §9): the unnamed format is INVALID_INPUT_FORMAT.
// `body_capacity`: bytes readable from body.data() (a std::string's capacity()); with
// SIMDJSON_PADDING (64) to spare, the fast JSON path (api/common/json_fast.h) parses in place.
Status parsePredictRequest(std::string_view body, const std::vector<engine::TensorInfo>& model_inputs,
                           serving::InferenceRequest* request, RestOrder* order, bool unnamed_allowed = true,
                           size_t body_capacity = 0);

// The same parse on rapidjson alone: what parsePredictRequest falls back to for everything its
// fast path does not take (and the reference the tests compare the fast path with).
Status parsePredictRequestReference(std::string_view body, const std::vector<engine::TensorInfo>& model_inputs,
                                    serving::InferenceRequest* request, RestOrder* order,
                                    bool unnamed_allowed = true);

// Serializes all outputs (in response order) like TF Serving's MakeJsonFromTensors:
// ROW    -> {"predictions": [...]} split along dim 0 (several outputs: one object per batch element);
// COLUMN -> {"outputs": value} or {"outputs": {"name": value, ...}}.
// Pretty-printed with 4-space indentation; see rest_predict_codec.cpp for the number format.
Status makePredictResponse(const serving::InferenceResponse& response, RestOrder order, std::string* body);

// Shared codecs, re-exported under the names this codec's users know.
using api::decodeBase64;  // api/common/base64.h (padding optional, must complete the quantum)
using api::encodeBase64;
using serving::packStrings;  // serving/packed_strings.h
using serving::unpackStrings;

// TF Serving's WriteDecimal (api/common/float_format.h), as strings.
std::string formatFloat(float v);
std::string formatDouble(double v);

using api::jsonNestingTooDeep;  // api/common/json_nesting.h

}  // namespace ovms::api::tfs
