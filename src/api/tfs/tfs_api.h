#pragma once
// TF-Serving API semantics shared by the gRPC and REST front ends.
#include "common/status.h"
#include "serving/inference_path.h"
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
// gRPC Predict: wire decode -> serving::InferencePath -> wire encode.
Status predict(const serving::InferencePath& path, const tensorflow::serving::PredictRequest& request,
               tensorflow::serving::PredictResponse* response);

}  // namespace ovms::api::tfs
