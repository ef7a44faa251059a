#include "api/tfs/tfs_grpc_service.h"

#include "api/tfs/tfs_api.h"
#include "common/logging.h"

namespace ovms::api::tfs {
namespace ts = tensorflow::serving;

grpc::Status toGrpc(const Status& st) {
  if (st.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(st.grpcCode()), st.grpcMessage());
}

grpc::Status PredictionServiceImpl::Predict(grpc::ServerContext*, const ts::PredictRequest* request,
                                            ts::PredictResponse* response) {
  Status st = predict(manager_, *request, response);
  if (!st.ok()) SERVING_LOG(debug, "Predict on model {} failed: {}", request->model_spec().name(), st.message());
  return toGrpc(st);
}

grpc::Status PredictionServiceImpl::GetModelMetadata(grpc::ServerContext*, const ts::GetModelMetadataRequest* request,
                                                     ts::GetModelMetadataResponse* response) {
  return toGrpc(getModelMetadata(manager_, *request, response));
}

grpc::Status ModelServiceImpl::GetModelStatus(grpc::ServerContext*, const ts::GetModelStatusRequest* request,
                                              ts::GetModelStatusResponse* response) {
  return toGrpc(getModelStatus(manager_, *request, response));
}

grpc::Status ModelServiceImpl::HandleReloadConfigRequest(grpc::ServerContext*, const ts::ReloadConfigRequest*,
                                                         ts::ReloadConfigResponse*) {
  SERVING_LOG(info, "Requested HandleReloadConfigRequest - the server reloads its config by itself; nothing to do");
  return grpc::Status::OK;
}

}  // namespace ovms::api::tfs
