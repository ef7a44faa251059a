// gRPC request validation and inference from serialized protos: TF-Serving Predict,
// GetModelMetadata, GetModelStatus and KServe ModelInfer, ModelMetadata, ModelReady, called on the
// service classes the server registers. Input: <selector byte><serialized request>.
#include <grpcpp/grpcpp.h>

#include <atomic>

#include "api/kserve/kserve_grpc_service.h"
#include "api/tfs/tfs_grpc_service.h"
#include "serving/inference_path.h"
#include "fuzz_common.h"
#include "serving/model_manager.h"

namespace {

template <typename Req, typename Resp, typename Svc, typename Method>
void call(Svc& svc, Method method, const uint8_t* data, size_t size) {
  Req req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return;
  Resp resp;
  grpc::ServerContext ctx;
  (void)(svc.*method)(&ctx, &req, &resp);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ts = tensorflow::serving;
  static ovms::serving::InferencePath path(*ovms::fuzz::demoManager());
  static ovms::api::tfs::PredictionServiceImpl prediction(path);
  static ovms::api::tfs::ModelServiceImpl model_service(*ovms::fuzz::demoManager());
  static std::atomic<bool> live{true};
  static ovms::api::kserve::GrpcInferenceServiceImpl kserve(path, live);
  if (size < 1) return 0;
  const uint8_t* d = data + 1;
  const size_t n = size - 1;
  switch (data[0] % 6) {
    case 0: call<ts::PredictRequest, ts::PredictResponse>(prediction, &ovms::api::tfs::PredictionServiceImpl::Predict, d, n); break;
    case 1:
      call<ts::GetModelMetadataRequest, ts::GetModelMetadataResponse>(
          prediction, &ovms::api::tfs::PredictionServiceImpl::GetModelMetadata, d, n);
      break;
    case 2:
      call<ts::GetModelStatusRequest, ts::GetModelStatusResponse>(
          model_service, &ovms::api::tfs::ModelServiceImpl::GetModelStatus, d, n);
      break;
    case 3:
      call<inference::ModelInferRequest, inference::ModelInferResponse>(
          kserve, &ovms::api::kserve::GrpcInferenceServiceImpl::ModelInfer, d, n);
      break;
    case 4:
      call<inference::ModelMetadataRequest, inference::ModelMetadataResponse>(
          kserve, &ovms::api::kserve::GrpcInferenceServiceImpl::ModelMetadata, d, n);
      break;
    default:
      call<inference::ModelReadyRequest, inference::ModelReadyResponse>(
          kserve, &ovms::api::kserve::GrpcInferenceServiceImpl::ModelReady, d, n);
      break;
  }
  return 0;
}
