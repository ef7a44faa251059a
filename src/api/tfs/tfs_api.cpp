#include "api/tfs/tfs_api.h"

#include "api/tfs/tfs_serializable.h"
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

// A pipeline's only version, 1 (§4.1), with its state. A failed validation also says why, as a
// model's failed load does.
void fillPipelineStatus(const serving::pipeline::PipelineDefinition& def, ts::ModelVersionStatus* s) {
  s->set_version(serving::pipeline::PipelineDefinition::kVersion);
  s->set_state(static_cast<ts::ModelVersionStatus::State>(def.versionState()));
  auto e = def.versionError();
  s->mutable_status()->set_error_code(static_cast<tensorflow::error::Code>(e));
  std::string reason = e == serving::VersionError::OK ? std::string() : def.validationStatus().message();
  s->mutable_status()->set_error_message(reason.empty() ? std::string(serving::versionErrorName(e))
                                                        : std::string(serving::versionErrorName(e)) + ": " + reason);
}

}  // namespace

Status getModelStatus(const serving::ModelManager& manager, const ts::GetModelStatusRequest& request,
                      ts::GetModelStatusResponse* response) {
  std::shared_ptr<serving::Model> model;
  Status st = manager.findModel(request.model_spec().name(), &model);
  if (st == StatusCode::MODEL_NAME_MISSING) {
    // Not a model: a pipeline reports its one version whatever version is asked for.
    std::shared_ptr<serving::pipeline::PipelineDefinition> def;
    if (!manager.findPipeline(request.model_spec().name(), &def).ok()) return st;
    fillPipelineStatus(*def, response->add_model_version_status());
    return StatusCode::OK;
  }
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
  std::shared_ptr<const serving::InferenceTarget> target = servable;
  if (st == StatusCode::MODEL_NAME_MISSING) {
    // Not a model: a pipeline, version 1, with the signature of its current plan.
    std::shared_ptr<serving::pipeline::PipelineDefinition> def;
    if (!manager.findPipeline(request.model_spec().name(), &def).ok()) return st;
    std::shared_ptr<const serving::pipeline::Pipeline> plan;
    st = def->acquire(&plan);
    target = plan;
    resolved = serving::pipeline::PipelineDefinition::kVersion;
  }
  if (!st.ok()) return st;
  auto* spec = response->mutable_model_spec();
  spec->set_name(request.model_spec().name());
  spec->mutable_version()->set_value(resolved);
  ts::SignatureDefMap sigs;
  auto& sig = (*sigs.mutable_signature_def())["serving_default"];
  // Models served with `auto` shapes report what OVMS would show (Servable::reportedInputs).
  fillTensorInfos(servable ? servable->reportedInputs() : target->inputs(), sig.mutable_inputs());
  fillTensorInfos(servable ? servable->reportedOutputs() : target->outputs(), sig.mutable_outputs());
  (*response->mutable_metadata())["signature_def"].PackFrom(sigs);
  return StatusCode::OK;
}

Status predict(const serving::InferencePath& path, const ts::PredictRequest& request, ts::PredictResponse* response) {
  serving::InferenceRequest decoded;
  decoded.model_name = request.model_spec().name();
  decoded.model_version = request.model_spec().has_version() ? request.model_spec().version().value() : 0;
  decoded.version_label = request.model_spec().version_label();
  decoded.origin = {serving::Api::TensorFlowServing, serving::Interface::GRPC, serving::Method::Predict};
  serving::InferenceResponse result;
  return path.run(
      decoded,
      [&request](const serving::InferenceTarget&, serving::InferenceRequest* out) {
        out->inputs.reserve(request.inputs_size());
        for (const auto& [name, proto] : request.inputs()) {
          out->inputs.emplace_back();
          Status s = decodeTensorProto(name, proto, &out->inputs.back());
          if (!s.ok()) return s;
        }
        return Status(StatusCode::OK);
      },
      &result,
      [response](const serving::InferenceResponse& result) {
        auto* outputs = response->mutable_outputs();
        for (const auto& out : result.outputs) {
          if (!out.sequence_id && !tfsSerializable(out.tensor.precision))
            return Status(StatusCode::OV_UNSUPPORTED_SERIALIZATION_PRECISION);
          if (out.sequence_id) {  // OVMS: a stateful model's sequence_id comes back in uint64_val
            auto& proto = (*outputs)[out.name];
            proto.set_dtype(tensorflow::DT_UINT64);
            proto.mutable_tensor_shape()->add_dim()->set_size(1);
            proto.add_uint64_val(*static_cast<const uint64_t*>(out.tensor.data));
            continue;
          }
          encodeTensorProto(out.tensor, &(*outputs)[out.name]);
        }
        return Status(StatusCode::OK);
      });
}

}  // namespace ovms::api::tfs
