#pragma once
// TF-Serving API semantics shared by the gRPC and REST front ends.
#include "common/status.h"
#include "serving/model_manager.h"
#include "tensorflow_serving/apis/get_model_metadata.pb.h"
#include "tensorflow_serving/apis/get_model_status.pb.h"
#include "tensorflow_serving/apis/predict.pb.h"

namespace ovms::api::tfs {

Status getModelStatus(const serving::ModelManager& manager, const tensorflow::serving::GetModelStatusRequest& request,
                      tensorflow::serving::GetModelStatusResponse* response);
Status getModelMetadata(const serving::ModelManager& manager,
                        const tensorflow::serving::GetModelMetadataRequest& request,
                        tensorflow::serving::GetModelMetadataResponse* response);
Status predict(const serving::ModelManager& manager, const tensorflow::serving::PredictRequest& request,
               tensorflow::serving::PredictResponse* response);

// Runs an already decoded request on name/version; used by the REST front end.
Status infer(const serving::ModelManager& manager, const std::string& name, int64_t version,
             const std::function<Status(const serving::Servable&, serving::InferenceRequest*)>& decode,
             serving::InferenceResponse* response, int64_t* resolved_version = nullptr);

}  // namespace ovms::api::tfs
