#pragma once
// KServe v2 REST (§5.7): JSON request parsing with the binary data extension, response
// serialisation, and the /v2 routes.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/http_server.h"
#include "api/kserve/kserve_api.h"
#include "kserve/grpc_predict_v2.pb.h"
#include "serving/inference_path.h"
#include "serving/model_manager.h"

namespace ovms::api::kserve {

struct RestRequestedOutput {
  std::string name;
  bool has_binary_data = false;  // parameters.binary_data was given (as a bool)
  bool binary_data = false;
};

struct RestInferRequest {
  std::string id;
  bool binary_data_output = false;  // parameters.binary_data_output: true
  std::vector<RestRequestedOutput> outputs;
  // Inputs (client datatypes verbatim), id and requested output names; model name, version and
  // origin are the caller's.
  serving::InferenceRequest request;
};

// Parses a POST .../infer body. `header_length` is the Inference-Header-Content-Length header
// value (nullptr if absent): the first N bytes are JSON, the rest binary input data.
// Binary inputs are viewed in place: `body` must outlive `out`. JSON data are written straight
// into each input's storage in the datatype's element type.
// `body_capacity`: bytes readable from body.data() (a std::string's capacity()); with
// SIMDJSON_PADDING (64) to spare, the fast JSON path (api/common/json_fast.h) parses in place.
Status parseInferRequest(std::string_view body, const std::string* header_length, RestInferRequest* out,
                         size_t body_capacity = 0);
// The same parse on rapidjson alone: what parseInferRequest falls back to for everything its fast
// path does not take (and the reference the tests compare the fast path with).
Status parseInferRequestReference(std::string_view body, const std::string* header_length, RestInferRequest* out);

// Serialises the response: pretty JSON (4-space indent, arrays on one line) followed by the bytes
// of binary outputs. *json_length is the length of the JSON part when there are binary outputs
// (the inference-header-content-length response header), otherwise 0 and *has_binary = false.
Status makeInferResponse(const std::string& model_name, int64_t version, const RestInferRequest& request,
                         const serving::InferenceResponse& response, std::string* body, size_t* json_length,
                         bool* has_binary);

// {"name":"OpenVINO Model Server","version":"..."}
std::string serverMetadataJson();
// Compact metadata JSON, with "rt_info":{"model_info":{...}} when `model_info` is not empty.
std::string modelMetadataJson(const inference::ModelMetadataResponse& metadata,
                              const std::map<std::string, std::string>& model_info);

// Handles the /v2 routes (§5.2). Returns false if `request.path` is not a /v2 route.
bool handleRest(const serving::InferencePath& path, const http::HttpRequest& request, http::HttpResponse& response);

}  // namespace ovms::api::kserve
