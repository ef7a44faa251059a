#pragma once
// inference.GRPCInferenceService (KServe v2 gRPC, §6.4).
#include <atomic>

#include "kserve/grpc_predict_v2.grpc.pb.h"
#include "serving/inference_path.h"
#include "serving/model_manager.h"

namespace ovms::api::kserve {

class GrpcInferenceServiceImpl final : public inference::GRPCInferenceService::Service {
 public:
  // `live` is set by the server once the gRPC server is up (ServerLive).
  GrpcInferenceServiceImpl(const serving::InferencePath& path, const std::atomic<bool>& live)
      : path_(path), manager_(path.models()), live_(live) {}

  grpc::Status ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse*) override;
  grpc::Status ServerReady(grpc::ServerContext*, const inference::ServerReadyRequest*,
                           inference::ServerReadyResponse*) override;
  grpc::Status ModelReady(grpc::ServerContext*, const inference::ModelReadyRequest*,
                          inference::ModelReadyResponse*) override;
  grpc::Status ServerMetadata(grpc::ServerContext*, const inference::ServerMetadataRequest*,
                              inference::ServerMetadataResponse*) override;
  grpc::Status ModelMetadata(grpc::ServerContext*, const inference::ModelMetadataRequest*,
                             inference::ModelMetadataResponse*) override;
  grpc::Status ModelInfer(grpc::ServerContext*, const inference::ModelInferRequest*,
                          inference::ModelInferResponse*) override;
  // Answers every request of the stream, in order, with {infer_response} or {error_message}; each
  // message is one inference through the path (metrics and the request log line included).
  // (OVMS only streams to MediaPipe graphs; here any model can be used.)
  grpc::Status ModelStreamInfer(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<inference::ModelStreamInferResponse, inference::ModelInferRequest>*) override;

 private:
  const serving::InferencePath& path_;
  const serving::ModelManager& manager_;
  const std::atomic<bool>& live_;
};

}  // namespace ovms::api::kserve
