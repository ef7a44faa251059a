#pragma once
// KServe v2 semantics shared by the gRPC service and the REST front end (§5.7, §6.4): lookup,
// readiness, metadata, the validation order of a decoded request, output filtering.
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "kserve/grpc_predict_v2.pb.h"
#include "serving/model_manager.h"
#include "serving/servable.h"

namespace ovms::api::kserve {

// "OpenVINO Model Server" and the build's version string.
const char* serverName();
const char* serverVersion();

// A request decoded from the wire: inputs in request order, plus the datatype strings exactly as
// the client sent them (OVMS prints them verbatim in INVALID_PRECISION details).
struct DecodedRequest {
  serving::InferenceRequest request;
  std::vector<std::string> datatypes;  // aligned with request.inputs
};

// Version string of ModelReady/ModelMetadata/ModelInfer: "" = default (0); anything that is not an
// int64 -> MODEL_VERSION_INVALID_FORMAT.
Status parseVersionString(const std::string& s, int64_t* version);

// ModelReady: unknown name -> MODEL_NAME_MISSING; unknown version -> MODEL_VERSION_MISSING;
// otherwise *ready = (state == AVAILABLE). Never waits.
Status modelReady(const serving::ModelManager& manager, const std::string& name, int64_t version, bool* ready);

// ModelMetadata: versions = AVAILABLE ones; the version itself must be AVAILABLE (no waiting).
// `servable` (optional) receives the servable the metadata was taken from (REST needs modelInfo()).
Status modelMetadata(const serving::ModelManager& manager, const std::string& name, int64_t version,
                     inference::ModelMetadataResponse* response,
                     std::shared_ptr<const serving::Servable>* servable = nullptr);

// Resolves a servable for inference (waits up to 10 s while the version loads). An unknown name
// reports the pipeline miss, as OVMS looks up models, then pipelines.
Status acquireForInfer(const serving::ModelManager& manager, const std::string& name, int64_t version,
                       std::shared_ptr<const serving::Servable>* servable, int64_t* resolved_version);

// Hook for BYTES data sent to an input that is not a native string input (encoded images for 4-D
// inputs, 2-D U8 string inputs). `in` holds the BYTES elements in the packed layout
// (<uint32 LE length><bytes> per element); on success it must hold a tensor of `info`'s precision.
// Not implemented yet: returns NOT_IMPLEMENTED with a clear message. (src/api/binary_inputs.h,
// acceptsImages/decodeImages, is meant to plug in here.)
Status convertBinaryInput(const serving::Servable& servable, const engine::TensorInfo& info,
                          serving::InferenceInput* in);

// Validates `decoded` against `servable` in OVMS's order (Servable::validate), converting BYTES
// inputs through convertBinaryInput when the model expects something else, and reporting
// precision mismatches as "Expected: <OVMS precision>; Actual: <datatype as sent>; input name: x".
Status validateDecoded(const serving::Servable& servable, DecodedRequest* decoded);

// Validates and runs.
Status inferDecoded(const serving::Servable& servable, DecodedRequest* decoded, serving::InferenceResponse* response);

// Output selection. OVMS ignores the requested outputs and always returns all of them; we filter:
// with a non-empty `requested`, only those outputs are returned, in the order requested (duplicates
// collapse to the first). An unknown name fails with INVALID_ARGUMENT / HTTP 400. With an empty
// `requested`, all outputs are returned in OVMS's order (sorted by name).
Status selectOutputs(const std::vector<std::string>& requested, serving::InferenceResponse* response);

// The status a client sees for a requested output the model does not have.
Status unknownOutput(const std::string& name);

// Full gRPC ModelInfer (also used per message by ModelStreamInfer).
Status modelInfer(const serving::ModelManager& manager, const inference::ModelInferRequest& request,
                  inference::ModelInferResponse* response);

}  // namespace ovms::api::kserve
