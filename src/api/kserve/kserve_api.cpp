#include "api/kserve/kserve_api.h"

#include <algorithm>

#include "api/common/version_string.h"
#include "api/kserve/kserve_tensor.h"
#include "serving/stateful.h"

#ifndef OVMS_VERSION_STRING
#define OVMS_VERSION_STRING "unknown"
#endif

namespace ovms::api::kserve {

const char* serverName() { return "OpenVINO Model Server"; }
const char* serverVersion() { return OVMS_VERSION_STRING; }

Status modelReady(const serving::ModelManager& manager, const std::string& name, int64_t version, bool* ready) {
  std::shared_ptr<serving::Model> model;
  Status st = manager.findModel(name, &model);
  if (st == StatusCode::MODEL_NAME_MISSING) {
    // Not a model: a pipeline (its only version, 1, whatever version is asked for).
    std::shared_ptr<serving::pipeline::PipelineDefinition> def;
    if (!manager.findPipeline(name, &def).ok()) return st;
    *ready = def->versionState() == serving::VersionState::AVAILABLE;
    return StatusCode::OK;
  }
  if (!st.ok()) return st;
  std::shared_ptr<serving::ModelVersion> mv;
  st = model->findVersion(version, &mv);
  if (!st.ok()) return st;
  *ready = mv->state() == serving::VersionState::AVAILABLE;
  return StatusCode::OK;
}

namespace {

// OVMS keeps inputs and outputs in a std::map: metadata and responses list them sorted by name.
std::vector<const engine::TensorInfo*> sortedByName(const std::vector<engine::TensorInfo>& infos) {
  std::vector<const engine::TensorInfo*> out;
  out.reserve(infos.size());
  for (const auto& i : infos) out.push_back(&i);
  std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return out;
}

void fillTensorMetadata(const engine::TensorInfo& info, inference::ModelMetadataResponse::TensorMetadata* m) {
  m->set_name(info.name);
  m->set_datatype(engine::kserveDatatype(info.precision));
  for (int64_t d : info.shape) m->add_shape(d < 0 ? -1 : d);
}

}  // namespace

Status modelMetadata(const serving::ModelManager& manager, const std::string& name, int64_t version,
                     inference::ModelMetadataResponse* response, std::shared_ptr<const serving::Servable>* servable_out) {
  std::shared_ptr<serving::Model> model;
  Status st = manager.findModel(name, &model);
  if (st == StatusCode::MODEL_NAME_MISSING) {
    // Not a model: a pipeline, versions ["1"], the signature of its current plan (§5.7).
    std::shared_ptr<serving::pipeline::PipelineDefinition> def;
    if (!manager.findPipeline(name, &def).ok()) return st;
    std::shared_ptr<const serving::pipeline::Pipeline> plan;
    st = def->acquire(&plan);
    if (!st.ok()) return st;
    response->Clear();
    response->set_name(name);
    response->add_versions(std::to_string(serving::pipeline::PipelineDefinition::kVersion));
    response->set_platform("OpenVINO");
    for (const auto* i : sortedByName(plan->inputs())) fillTensorMetadata(*i, response->add_inputs());
    for (const auto* o : sortedByName(plan->outputs())) fillTensorMetadata(*o, response->add_outputs());
    if (servable_out) servable_out->reset();
    return StatusCode::OK;
  }
  if (!st.ok()) return st;
  std::shared_ptr<const serving::Servable> servable;
  int64_t resolved = 0;
  st = manager.acquire(name, version, &servable, &resolved, false);
  if (!st.ok()) return st;
  response->Clear();
  response->set_name(model->name());
  for (const auto& mv : model->versions())
    if (mv->state() == serving::VersionState::AVAILABLE) response->add_versions(std::to_string(mv->version()));
  response->set_platform("OpenVINO");
  const auto reported_inputs = servable->reportedInputs();
  const auto reported_outputs = servable->reportedOutputs();
  for (const auto* i : sortedByName(reported_inputs)) fillTensorMetadata(*i, response->add_inputs());
  for (const auto* o : sortedByName(reported_outputs)) fillTensorMetadata(*o, response->add_outputs());
  if (servable_out) *servable_out = std::move(servable);
  return StatusCode::OK;
}

Status modelInfer(const serving::InferencePath& path, const inference::ModelInferRequest& request,
                  inference::ModelInferResponse* response) {
  serving::InferenceRequest decoded;
  decoded.model_name = request.model_name();
  if (!parseVersionString(request.model_version(), &decoded.model_version))
    return StatusCode::MODEL_VERSION_INVALID_FORMAT;
  decoded.origin = {serving::Api::KServe, serving::Interface::GRPC, serving::Method::ModelInfer};
  serving::InferenceResponse result;
  return path.run(
      decoded,
      [&request](const serving::InferenceTarget& target, serving::InferenceRequest* out) {
        // The input count is checked against the model before the message structure (OVMS order).
        size_t expected = target.inputs().size();
        if (target.stateful())  // sequence_id / sequence_control_input are not model inputs
          for (const auto& in : request.inputs())
            if (serving::isSpecialInput(in.name())) ++expected;
        return decodeInferRequest(request, expected, out);
      },
      &result,
      [&request, response](const serving::InferenceResponse& result) {
        response->set_model_name(request.model_name());
        response->set_model_version(std::to_string(result.model_version));
        response->set_id(request.id());
        return encodeInferResponse(result, response);
      });
}

}  // namespace ovms::api::kserve
