#include "api/binary_inputs.h"
#include "api/tfs/rest_predict_codec.h"
#include "api/kserve/kserve_api.h"

#include <algorithm>
#include <charconv>

#include "api/kserve/kserve_tensor.h"
#include "api/metrics/metrics.h"
#include "common/logging.h"

#ifndef OVMS_VERSION_STRING
#define OVMS_VERSION_STRING "unknown"
#endif

namespace ovms::api::kserve {

const char* serverName() { return "OpenVINO Model Server"; }
const char* serverVersion() { return OVMS_VERSION_STRING; }

Status parseVersionString(const std::string& s, int64_t* version) {
  if (s.empty()) {
    *version = 0;
    return StatusCode::OK;
  }
  int64_t v = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (*begin == '+') ++begin;  // std::stoll (what OVMS uses) accepts a leading '+'
  auto res = std::from_chars(begin, end, v);
  if (res.ec != std::errc() || res.ptr != end || begin == end) return StatusCode::MODEL_VERSION_INVALID_FORMAT;
  *version = v;
  return StatusCode::OK;
}

Status modelReady(const serving::ModelManager& manager, const std::string& name, int64_t version, bool* ready) {
  std::shared_ptr<serving::Model> model;
  Status st = manager.findModel(name, &model);
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
  for (const auto* i : sortedByName(servable->inputs())) fillTensorMetadata(*i, response->add_inputs());
  for (const auto* o : sortedByName(servable->outputs())) fillTensorMetadata(*o, response->add_outputs());
  if (servable_out) *servable_out = std::move(servable);
  return StatusCode::OK;
}

Status acquireForInfer(const serving::ModelManager& manager, const std::string& name, int64_t version,
                       std::shared_ptr<const serving::Servable>* servable, int64_t* resolved_version) {
  Status st = manager.acquire(name, version, servable, resolved_version, true);
  // OVMS looks the name up among models, then pipelines: an unknown name reports the pipeline miss.
  if (st == StatusCode::MODEL_NAME_MISSING) return StatusCode::PIPELINE_DEFINITION_NAME_MISSING;
  return st;
}

Status convertBinaryInput(const serving::Servable& servable, const engine::TensorInfo& info,
                          serving::InferenceInput* in) {
  int index = inputIndex(servable, info.name);
  if (acceptsImages(servable, index)) {
    // Encoded images for a 4-D input (§7.4): one BYTES element per image.
    std::vector<std::string_view> images;
    if (!tfs::unpackStrings(in->tensor.data, in->tensor.bytes, &images))
      return Status(StatusCode::INVALID_CONTENT_SIZE, "malformed BYTES elements; input name: " + info.name);
    serving::InferenceInput decoded;
    Status st = decodeImages(servable, index, images, StatusCode::BYTES_CONTENTS_EMPTY, &decoded);
    if (!st.ok()) return st;
    *in = std::move(decoded);
    return StatusCode::OK;
  }
  SERVING_LOG(debug, "Request input: {} requires conversion but endpoint specifies no processing hint. "
                     "Number of dimensions: {}; precision: {}",
              info.name, info.shape.size(), engine::precisionName(info.precision));
  return Status(StatusCode::NOT_IMPLEMENTED, "BYTES data for input " + info.name + " of precision " +
                                                 engine::precisionName(info.precision) + " and shape " +
                                                 engine::shapeToString(info.shape) + " is not supported");
}

Status validateDecoded(const serving::Servable& servable, DecodedRequest* decoded) {
  auto& inputs = decoded->request.inputs;
  // Every round either ends or converts one BYTES input to the model precision, so this terminates.
  for (size_t round = 0; round <= inputs.size(); ++round) {
    Status st = servable.validate(decoded->request);
    if (st.code() != StatusCode::INVALID_PRECISION) return st;
    // Servable::validate stops at the first input (in model order) that fails; the inputs before
    // it passed every check, so the first one whose precision differs is the one reported.
    bool converted = false;
    for (const auto& info : servable.inputs()) {
      size_t i = 0;
      while (i < inputs.size() && inputs[i].name != info.name) ++i;
      if (i == inputs.size() || inputs[i].tensor.precision == info.precision) continue;
      const std::string& datatype = i < decoded->datatypes.size() ? decoded->datatypes[i] : std::string();
      if (datatype == "BYTES" && info.precision != engine::Precision::STRING) {
        Status c = convertBinaryInput(servable, info, &inputs[i]);
        if (!c.ok()) return c;
        converted = true;
        break;
      }
      // OVMS prints the expected precision in its own spelling and the datatype as the client sent it.
      return Status(StatusCode::INVALID_PRECISION, "Expected: " + std::string(engine::precisionName(info.precision)) +
                                                       "; Actual: " + datatype + "; input name: " + info.name);
    }
    if (!converted) return st;
  }
  return StatusCode::INTERNAL_ERROR;
}

Status inferDecoded(const serving::Servable& servable, DecodedRequest* decoded, serving::InferenceResponse* response) {
  Status st = validateDecoded(servable, decoded);
  if (!st.ok()) return st;
  uint64_t queue_wait_us = 0, inference_us = 0;
  st = servable.infer(decoded->request, response, &queue_wait_us, &inference_us);
  if (st.ok()) metrics::RequestMetrics::recordInference(queue_wait_us, inference_us);
  return st;
}

Status unknownOutput(const std::string& name) {
  // OVMS never filters outputs; we do, and name the offending output with OVMS's own text.
  return Status(StatusCode::INVALID_MISSING_OUTPUT, "Required output: " + name);
}

Status selectOutputs(const std::vector<std::string>& requested, serving::InferenceResponse* response) {
  auto& outs = response->outputs;
  if (requested.empty()) {
    std::stable_sort(outs.begin(), outs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return StatusCode::OK;
  }
  std::vector<serving::InferenceOutput> selected;
  selected.reserve(requested.size());
  for (size_t r = 0; r < requested.size(); ++r) {
    const std::string& name = requested[r];
    if (std::find(requested.begin(), requested.begin() + static_cast<std::ptrdiff_t>(r), name) !=
        requested.begin() + static_cast<std::ptrdiff_t>(r))
      continue;  // duplicate
    auto it = std::find_if(outs.begin(), outs.end(), [&](const auto& o) { return o.name == name; });
    if (it == outs.end()) return unknownOutput(name);
    selected.push_back(*it);
  }
  outs = std::move(selected);
  return StatusCode::OK;
}

Status modelInfer(const serving::ModelManager& manager, const inference::ModelInferRequest& request,
                  inference::ModelInferResponse* response) {
  int64_t version = 0;
  Status st = parseVersionString(request.model_version(), &version);
  if (!st.ok()) return st;
  std::shared_ptr<const serving::Servable> servable;
  int64_t resolved = 0;
  st = acquireForInfer(manager, request.model_name(), version, &servable, &resolved);
  if (!st.ok()) return st;
  DecodedRequest decoded;
  st = decodeInferRequest(request, servable->inputs().size(), &decoded);
  if (!st.ok()) return st;
  serving::InferenceResponse result;
  st = inferDecoded(*servable, &decoded, &result);
  if (!st.ok()) return st;
  // Requested outputs filter the response (OVMS ignores them; see docs/api.md "KServe outputs filtering").
  std::vector<std::string> requested;
  requested.reserve(request.outputs_size());
  for (const auto& o : request.outputs()) requested.push_back(o.name());
  st = selectOutputs(requested, &result);
  if (!st.ok()) return st;
  response->set_model_name(request.model_name());
  response->set_model_version(std::to_string(resolved));
  response->set_id(request.id());
  return encodeInferResponse(result, response);
}

}  // namespace ovms::api::kserve
