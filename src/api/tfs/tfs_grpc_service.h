#pragma once
#include "serving/inference_path.h"
#include "serving/model_manager.h"
#include "tensorflow_serving/apis/model_service.grpc.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace ovms::api::tfs {

class PredictionServiceImpl final : public tensorflow::serving::PredictionService::Service {
 public:
  explicit PredictionServiceImpl(const serving::InferencePath& path) : path_(path), manager_(path.models()) {}
  grpc::Status Predict(grpc::ServerContext*, const tensorflow::serving::PredictRequest*,
                       tensorflow::serving::PredictResponse*) override;
  grpc::Status GetModelMetadata(grpc::ServerContext*, const tensorflow::serving::GetModelMetadataRequest*,
                                tensorflow::serving::GetModelMetadataResponse*) override;

 private:
  const serving::InferencePath& path_;
  const serving::ModelManager& manager_;
};

class ModelServiceImpl final : public tensorflow::serving::ModelService::Service {
 public:
  explicit ModelServiceImpl(const serving::ModelManager& manager) : manager_(manager) {}
  grpc::Status GetModelStatus(grpc::ServerContext*, const tensorflow::serving::GetModelStatusRequest*,
                              tensorflow::serving::GetModelStatusResponse*) override;
  grpc::Status HandleReloadConfigRequest(grpc::ServerContext*, const tensorflow::serving::ReloadConfigRequest*,
                                         tensorflow::serving::ReloadConfigResponse*) override;

 private:
  const serving::ModelManager& manager_;
};

}  // namespace ovms::api::tfs
