#include "api/tfs/tfs_grpc_service.h"

#include "api/common/grpc_status.h"
#include "api/metrics/metrics.h"
#include "api/security/grpc_auth.h"
#include "api/tfs/tfs_api.h"
#include "common/logging.h"

namespace ovms::api::tfs {
namespace ts = tensorflow::serving;

namespace {

int64_t specVersion(const ts::ModelSpec& spec) { return spec.has_version() ? spec.version().value() : 0; }

metrics::RequestMetrics requestMetrics(const serving::ModelManager& manager, metrics::Method method,
                                       const ts::ModelSpec& spec) {
  return metrics::RequestMetrics(manager, metrics::Api::TensorFlowServing, metrics::Interface::GRPC, method,
                                 spec.name(), specVersion(spec));
}

}  // namespace

grpc::Status PredictionServiceImpl::Predict(grpc::ServerContext* context, const ts::PredictRequest* request,
                                            ts::PredictResponse* response) {
  if (auto denied = security::checkGrpcApiKey(context); !denied.ok()) return denied;
  Status st = predict(path_, *request, response);  // the path keeps the metrics scope
  return toGrpc(st);
}

grpc::Status PredictionServiceImpl::GetModelMetadata(grpc::ServerContext* context, const ts::GetModelMetadataRequest* request,
                                                     ts::GetModelMetadataResponse* response) {
  if (auto denied = security::checkGrpcApiKey(context); !denied.ok()) return denied;
  auto request_metrics = requestMetrics(manager_, metrics::Method::GetModelMetadata, request->model_spec());
  Status st = getModelMetadata(manager_, *request, response);
  request_metrics.done(st);
  // OVMS validates the request before it looks the model up: such a request reaches no model.
  if (st == StatusCode::MODEL_SPEC_MISSING || st == StatusCode::INVALID_SIGNATURE_DEF) request_metrics.discard();
  return toGrpc(st);
}

grpc::Status ModelServiceImpl::GetModelStatus(grpc::ServerContext* context, const ts::GetModelStatusRequest* request,
                                              ts::GetModelStatusResponse* response) {
  if (auto denied = security::checkGrpcApiKey(context); !denied.ok()) return denied;
  auto request_metrics = requestMetrics(manager_, metrics::Method::GetModelStatus, request->model_spec());
  Status st = getModelStatus(manager_, *request, response);
  request_metrics.done(st);
  return toGrpc(st);
}

grpc::Status ModelServiceImpl::HandleReloadConfigRequest(grpc::ServerContext* context, const ts::ReloadConfigRequest*,
                                                         ts::ReloadConfigResponse*) {
  if (auto denied = security::checkGrpcApiKey(context); !denied.ok()) return denied;
  SERVING_LOG(info, "Requested HandleReloadConfigRequest - the server reloads its config by itself; nothing to do");
  return grpc::Status::OK;
}

}  // namespace ovms::api::tfs
