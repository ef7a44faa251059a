#pragma once
// KServe v2 semantics shared by the gRPC service and the REST front end (§5.7, §6.4): readiness,
// metadata, and ModelInfer (wire decode -> serving::InferencePath -> wire encode).
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "kserve/grpc_predict_v2.pb.h"
#include "serving/inference_path.h"
#include "serving/model_manager.h"
#include "serving/servable.h"

namespace ovms::api::kserve {

// "OpenVINO Model Server" and the build's version string.
const char* serverName();
const char* serverVersion();

// ModelReady: unknown name -> MODEL_NAME_MISSING; unknown version -> MODEL_VERSION_MISSING;
// otherwise *ready = (state == AVAILABLE). Never waits.
Status modelReady(const serving::ModelManager& manager, const std::string& name, int64_t version, bool* ready);

// ModelMetadata: versions = AVAILABLE ones; the version itself must be AVAILABLE (no waiting).
// `servable` (optional) receives the servable the metadata was taken from (REST needs modelInfo()).
Status modelMetadata(const serving::ModelManager& manager, const std::string& name, int64_t version,
                     inference::ModelMetadataResponse* response,
                     std::shared_ptr<const serving::Servable>* servable = nullptr);

// gRPC ModelInfer (also used per message by ModelStreamInfer): a version string that is not an
// int64 -> MODEL_VERSION_INVALID_FORMAT; everything else runs through `path`.
Status modelInfer(const serving::InferencePath& path, const inference::ModelInferRequest& request,
                  inference::ModelInferResponse* response);

}  // namespace ovms::api::kserve
