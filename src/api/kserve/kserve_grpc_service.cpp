#include "api/kserve/kserve_grpc_service.h"

#include "api/common/grpc_status.h"
#include "api/common/version_string.h"
#include "api/kserve/kserve_api.h"
#include "api/metrics/metrics.h"
#include "api/security/grpc_auth.h"
#include "common/logging.h"

namespace ovms::api::kserve {

namespace {

// A version string that is not an int64 reaches no model version: -1 matches none (not counted).
metrics::RequestMetrics requestMetrics(const serving::ModelManager& manager, metrics::Method method,
                                       const std::string& name, const std::string& version) {
  int64_t v = 0;
  if (!parseVersionString(version, &v)) v = -1;
  return metrics::RequestMetrics(manager, metrics::Api::KServe, metrics::Interface::GRPC, method, name, v);
}

}  // namespace

grpc::Status GrpcInferenceServiceImpl::ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                                                  inference::ServerLiveResponse* response) {
  response->set_live(live_.load());
  return grpc::Status::OK;
}

grpc::Status GrpcInferenceServiceImpl::ServerReady(grpc::ServerContext*, const inference::ServerReadyRequest*,
                                                   inference::ServerReadyResponse* response) {
  response->set_ready(manager_.ready());
  return grpc::Status::OK;
}

grpc::Status GrpcInferenceServiceImpl::ModelReady(grpc::ServerContext* context, const inference::ModelReadyRequest* request,
                                                  inference::ModelReadyResponse* response) {
  if (auto denied = security::checkGrpcApiKey(context); !denied.ok()) return denied;
  auto request_metrics = requestMetrics(manager_, metrics::Method::ModelReady, request->name(), request->version());
  int64_t version = 0;
  Status st = parseVersionString(request->version(), &version) ? StatusCode::OK : StatusCode::MODEL_VERSION_INVALID_FORMAT;
  bool ready = false;
  if (st.ok()) st = modelReady(manager_, request->name(), version, &ready);
  if (st.ok()) response->set_ready(ready);
  request_metrics.done(st);
  return toGrpc(st);
}

grpc::Status GrpcInferenceServiceImpl::ServerMetadata(grpc::ServerContext* context, const inference::ServerMetadataRequest*,
                                                      inference::ServerMetadataResponse* response) {
  if (auto denied = security::checkGrpcApiKey(context); !denied.ok()) return denied;
  response->set_name(serverName());
  response->set_version(serverVersion());
  return grpc::Status::OK;
}

grpc::Status GrpcInferenceServiceImpl::ModelMetadata(grpc::ServerContext* context, const inference::ModelMetadataRequest* request,
                                                     inference::ModelMetadataResponse* response) {
  if (auto denied = security::checkGrpcApiKey(context); !denied.ok()) return denied;
  auto request_metrics = requestMetrics(manager_, metrics::Method::ModelMetadata, request->name(), request->version());
  int64_t version = 0;
  Status st = parseVersionString(request->version(), &version) ? StatusCode::OK : StatusCode::MODEL_VERSION_INVALID_FORMAT;
  if (st.ok()) st = modelMetadata(manager_, request->name(), version, response);
  request_metrics.done(st);
  return toGrpc(st);
}

grpc::Status GrpcInferenceServiceImpl::ModelInfer(grpc::ServerContext* context, const inference::ModelInferRequest* request,
                                                  inference::ModelInferResponse* response) {
  if (auto denied = security::checkGrpcApiKey(context); !denied.ok()) return denied;
  Status st = modelInfer(path_, *request, response);  // the path keeps the metrics scope
  if (!st.ok()) response->Clear();
  return toGrpc(st);
}

grpc::Status GrpcInferenceServiceImpl::ModelStreamInfer(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<inference::ModelStreamInferResponse, inference::ModelInferRequest>* stream) {
  if (auto denied = security::checkGrpcApiKey(context); !denied.ok()) return denied;
  inference::ModelInferRequest request;
  while (!context->IsCancelled() && stream->Read(&request)) {
    inference::ModelStreamInferResponse answer;
    Status st = modelInfer(path_, request, answer.mutable_infer_response());
    if (!st.ok()) {
      answer.clear_infer_response();
      answer.set_error_message(st.message());
    }
    if (!stream->Write(answer)) break;
    request.Clear();
  }
  return grpc::Status::OK;
}

}  // namespace ovms::api::kserve
