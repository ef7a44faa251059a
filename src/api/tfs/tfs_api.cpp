#include "api/tfs/tfs_api.h"

#include "api/binary_inputs.h"
#include "api/metrics/metrics.h"
#include "api/tfs/tfs_tensor.h"

namespace ovms::api::tfs {
namespace ts = tensorflow::serving;

namespace {

void fillVersionStatus(const serving::ModelVersion& mv, ts::ModelVersionStatus* s) {
  s->set_version(mv.version());
  s->set_state(static_cast<ts::ModelVersionStatus::State>(mv.state()));
  auto e = mv.error();
  s->mutable_status()->set_error_code(static_cast<tensorflow::error::Code>(e));
  // OVMS writes only the code's name; a failed load also says why (issue 9: "UNKNOWN: <reason>").
  std::string reason = e == serving::VersionError::OK ? std::string() : mv.errorMessage();
  s->mutable_status()->set_error_message(reason.empty() ? std::string(serving::versionErrorName(e))
                                                        : std::string(serving::versionErrorName(e)) + ": " + reason);
}

void fillTensorInfos(const std::vector<engine::TensorInfo>& infos,
                     google::protobuf::Map<std::string, tensorflow::TensorInfo>* out) {
  for (const auto& i : infos) {
    auto& ti = (*out)[i.name];
    ti.set_name(i.name);
    ti.set_dtype(toTfDataType(i.precision));
    auto* shape = ti.mutable_tensor_shape();
    for (int64_t d : i.shape) shape->add_dim()->set_size(d);
  }
}

}  // namespace

Status getModelStatus(const serving::ModelManager& manager, const ts::GetModelStatusRequest& request,
                      ts::GetModelStatusResponse* response) {
  std::shared_ptr<serving::Model> model;
  Status st = manager.findModel(request.model_spec().name(), &model);
  if (!st.ok()) return st;
  int64_t v = request.model_spec().has_version() ? request.model_spec().version().value() : 0;
  if (v != 0) {
    std::shared_ptr<serving::ModelVersion> mv;
    st = model->findVersion(v, &mv);
    if (!st.ok()) return st;
    fillVersionStatus(*mv, response->add_model_version_status());
    return StatusCode::OK;
  }
  for (auto& mv : model->versions()) fillVersionStatus(*mv, response->add_model_version_status());
  return StatusCode::OK;
}

Status getModelMetadata(const serving::ModelManager& manager, const ts::GetModelMetadataRequest& request,
                        ts::GetModelMetadataResponse* response) {
  if (!request.has_model_spec()) return StatusCode::MODEL_SPEC_MISSING;
  if (request.metadata_field_size() != 1 || request.metadata_field(0) != "signature_def")
    return StatusCode::INVALID_SIGNATURE_DEF;
  int64_t v = request.model_spec().has_version() ? request.model_spec().version().value() : 0;
  std::shared_ptr<const serving::Servable> servable;
  int64_t resolved = 0;
  Status st = manager.acquire(request.model_spec().name(), v, &servable, &resolved, false);
  if (!st.ok()) return st;
  auto* spec = response->mutable_model_spec();
  spec->set_name(request.model_spec().name());
  spec->mutable_version()->set_value(resolved);
  ts::SignatureDefMap sigs;
  auto& sig = (*sigs.mutable_signature_def())["serving_default"];
  fillTensorInfos(servable->inputs(), sig.mutable_inputs());
  fillTensorInfos(servable->outputs(), sig.mutable_outputs());
  (*response->mutable_metadata())["signature_def"].PackFrom(sigs);
  return StatusCode::OK;
}

Status infer(const serving::ModelManager& manager, const std::string& name, int64_t version,
             const std::function<Status(const serving::Servable&, serving::InferenceRequest*)>& decode,
             serving::InferenceResponse* response, int64_t* resolved_version) {
  std::shared_ptr<const serving::Servable> servable;
  int64_t resolved = 0;
  Status st = manager.acquire(name, version, &servable, &resolved, true);
  if (!st.ok()) return st;
  if (resolved_version) *resolved_version = resolved;
  serving::InferenceRequest request;
  st = decode(*servable, &request);
  if (!st.ok()) return st;
  uint64_t queue_wait_us = 0, inference_us = 0;
  st = servable->infer(request, response, &queue_wait_us, &inference_us);
  if (st.ok()) metrics::RequestMetrics::recordInference(queue_wait_us, inference_us);
  return st;
}

Status predict(const serving::ModelManager& manager, const ts::PredictRequest& request, ts::PredictResponse* response) {
  int64_t v = request.model_spec().has_version() ? request.model_spec().version().value() : 0;
  serving::InferenceResponse result;
  Status st = infer(
      manager, request.model_spec().name(), v,
      [&](const serving::Servable& servable, serving::InferenceRequest* decoded) {
        decoded->inputs.reserve(request.inputs_size());
        for (const auto& [name, proto] : request.inputs()) {
          decoded->inputs.emplace_back();
          int index = proto.dtype() == tensorflow::DT_STRING ? inputIndex(servable, name) : -1;
          if (acceptsImages(servable, index)) {
            // string_val holds encoded images for a 4-D input (§7.4).
            std::vector<std::string_view> images(proto.string_val().begin(), proto.string_val().end());
            Status s = decodeImages(servable, index, images, StatusCode::STRING_VAL_EMPTY, &decoded->inputs.back());
            if (!s.ok()) return s;
            continue;
          }
          Status s = decodeTensorProto(name, proto, &decoded->inputs.back());
          if (!s.ok()) return s;
        }
        return Status(StatusCode::OK);
      },
      &result);
  // OVMS looks the name up among pipelines after models, so an unknown name reports the pipeline miss.
  if (st == StatusCode::MODEL_NAME_MISSING) return StatusCode::PIPELINE_DEFINITION_NAME_MISSING;
  if (!st.ok()) return st;
  auto* outputs = response->mutable_outputs();
  for (const auto& out : result.outputs) {
    if (out.tensor.precision == engine::Precision::STRING || out.tensor.precision == engine::Precision::UNDEFINED)
      return StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION;
    encodeTensorProto(out.tensor, &(*outputs)[out.name]);
  }
  return StatusCode::OK;
}

}  // namespace ovms::api::tfs
