#include "serving/inference_path.h"

#include <algorithm>
#include <chrono>

#include "common/logging.h"
#include "serving/image_inputs.h"
#include "serving/model_manager.h"
#include "serving/packed_strings.h"

namespace ovms::serving {

const char* apiName(Api a) { return a == Api::TensorFlowServing ? "TensorFlowServing" : "KServe"; }
const char* interfaceName(Interface i) { return i == Interface::GRPC ? "gRPC" : "REST"; }
const char* methodName(Method m) {
  switch (m) {
    case Method::Predict: return "Predict";
    case Method::GetModelMetadata: return "GetModelMetadata";
    case Method::GetModelStatus: return "GetModelStatus";
    case Method::ModelInfer: return "ModelInfer";
    case Method::ModelMetadata: return "ModelMetadata";
    case Method::ModelReady: return "ModelReady";
  }
  return "?";
}

InferenceOptions InferenceOptions::forOrigin(const RequestOrigin& origin) {
  InferenceOptions o;
  if (origin.api == Api::TensorFlowServing) {
    o.unknown_name_status =
        origin.interface == Interface::REST ? StatusCode::MODEL_NAME_MISSING : StatusCode::PIPELINE_DEFINITION_NAME_MISSING;
    o.empty_image_status = StatusCode::STRING_VAL_EMPTY;
    o.filter_and_sort_outputs = false;
  } else {
    o.unknown_name_status = StatusCode::PIPELINE_DEFINITION_NAME_MISSING;
    o.empty_image_status = StatusCode::BYTES_CONTENTS_EMPTY;
    o.filter_and_sort_outputs = true;
  }
  return o;
}

std::string escapeForLog(std::string_view s, size_t max_bytes) { return logSafe(s, max_bytes); }

void logRequest(const std::string& model, int64_t version, const RequestOrigin& origin, const Status& status,
                int64_t elapsed_us) {
  if (!servingLogger()->should_log(spdlog::level::debug)) return;
  SERVING_LOG(debug, "Request: model {}; version {}; {} {} {}; status: {}; time: {} us", escapeForLog(model), version,
              apiName(origin.api), interfaceName(origin.interface), methodName(origin.method),
              escapeForLog(status.ok() ? std::string("OK") : status.message()), elapsed_us);
}

PipelineResolver pipelineResolver(const ModelManager& models) {
  return [&models](const std::string& name, int64_t, std::shared_ptr<const InferenceTarget>* target) {
    std::shared_ptr<pipeline::PipelineDefinition> definition;
    Status st = models.findPipeline(name, &definition);
    if (!st.ok()) return st;
    std::shared_ptr<const pipeline::Pipeline> plan;
    st = definition->acquire(&plan);
    if (!st.ok()) return st;
    *target = std::move(plan);
    return Status(StatusCode::OK);
  };
}

InferencePath::InferencePath(const ModelManager& models) : models_(models), pipelines_(pipelineResolver(models)) {}

Status InferencePath::acquire(const InferenceRequest& request, const InferenceOptions& options,
                              std::shared_ptr<const InferenceTarget>* target, int64_t* resolved_version) const {
  std::shared_ptr<const Servable> servable;
  Status st = models_.acquire(request.model_name, request.model_version, &servable, resolved_version, true);
  if (st.ok()) {
    *target = std::move(servable);
    return st;
  }
  if (st != StatusCode::MODEL_NAME_MISSING) return st;
  // Not a model: a pipeline? (OVMS's lookup order; the version is ignored for pipelines.)
  if (pipelines_) {
    st = pipelines_(request.model_name, request.model_version, target);
    if (st.ok()) {
      *resolved_version = 1;  // OVMS reports pipelines as version 1
      return st;
    }
    if (st != StatusCode::PIPELINE_DEFINITION_NAME_MISSING) return st;
  }
  return options.unknown_name_status;
}

Status InferencePath::validate(const InferenceTarget& target, const InferenceOptions& options,
                               InferenceRequest* request) {
  auto& inputs = request->inputs;
  // Every round either ends or decodes one string input to the model precision, so this terminates.
  for (size_t round = 0; round <= inputs.size(); ++round) {
    Status st = target.validate(*request);
    if (st.code() != StatusCode::INVALID_PRECISION) return st;
    // validate() stops at the first input (in the target's order) that fails; the inputs before it
    // passed every check, so the first one whose precision differs is the one reported.
    for (size_t idx = 0; idx < target.inputs().size(); ++idx) {
      const auto& info = target.inputs()[idx];
      auto it = std::find_if(inputs.begin(), inputs.end(), [&](const auto& in) { return in.name == info.name; });
      if (it == inputs.end() || it->tensor.precision == info.precision) continue;
      if (it->tensor.precision != engine::Precision::STRING || info.precision == engine::Precision::STRING) return st;
      // String / BYTES data for a non-string input (§7.4): encoded images for a 4-D input.
      const std::string datatype = it->client_datatype.empty() ? std::string("string") : it->client_datatype;
      if (!acceptsImages(target, static_cast<int>(idx))) {
        SERVING_LOG(debug, "Request input: {} requires conversion but endpoint specifies no processing hint. "
                           "Number of dimensions: {}; precision: {}",
                    info.name, info.shape.size(), engine::precisionName(info.precision));
        return Status(StatusCode::NOT_IMPLEMENTED, datatype + " data for input " + info.name + " of precision " +
                                                       engine::precisionName(info.precision) + " and shape " +
                                                       engine::shapeToString(info.shape) + " is not supported");
      }
      std::vector<std::string_view> images;
      if (!unpackStrings(it->tensor.data, it->tensor.bytes, &images))
        return Status(StatusCode::INVALID_CONTENT_SIZE, "malformed BYTES elements; input name: " + info.name);
      InferenceInput decoded;
      Status d = decodeImages(target, static_cast<int>(idx), images, options.empty_image_status, &decoded);
      if (!d.ok()) return d;
      *it = std::move(decoded);
      break;
    }
  }
  return StatusCode::INTERNAL_ERROR;
}

Status InferencePath::selectOutputs(const InferenceOptions& options, const std::vector<std::string>& requested,
                                    InferenceResponse* response) {
  if (!options.filter_and_sort_outputs) return StatusCode::OK;
  auto& outs = response->outputs;
  if (requested.empty()) {
    std::stable_sort(outs.begin(), outs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return StatusCode::OK;
  }
  std::vector<InferenceOutput> selected;
  selected.reserve(requested.size());
  for (size_t r = 0; r < requested.size(); ++r) {
    const std::string& name = requested[r];
    if (std::find(requested.begin(), requested.begin() + static_cast<std::ptrdiff_t>(r), name) !=
        requested.begin() + static_cast<std::ptrdiff_t>(r))
      continue;  // duplicate
    auto it = std::find_if(outs.begin(), outs.end(), [&](const auto& o) { return o.name == name; });
    // OVMS never filters outputs; we do, and name the offending output with OVMS's own text.
    if (it == outs.end()) return Status(StatusCode::INVALID_MISSING_OUTPUT, "Required output: " + name);
    selected.push_back(*it);
  }
  outs = std::move(selected);
  return StatusCode::OK;
}

namespace {
using Clock = std::chrono::steady_clock;
uint64_t nsSince(Clock::time_point t) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count());
}
}  // namespace

Status InferencePath::runSteps(InferenceRequest& request, const InferenceOptions& options, const WireDecoder& decode,
                               InferenceResponse* response, const WireEncoder& encode,
                               InferenceObserver::Scope* scope, StepTimes* times) const {
  // `times` only when a StepTimeRecorder is set: no clock reads otherwise.
  Clock::time_point t;
  auto lap = [&](Step step) {
    if (!times) return;
    (*times)[step] = nsSince(t);
    t = Clock::now();
  };
  if (times) t = Clock::now();
  std::shared_ptr<const InferenceTarget> target;
  int64_t resolved = 0;
  Status st = acquire(request, options, &target, &resolved);
  if (!st.ok()) return st;
  if (scope) scope->acquired(*target, resolved);
  if (target->queueFull()) return target->queueFullStatus();  // refused before any decoding (overload)
  lap(Step::kAcquire);
  if (decode) {
    st = decode(*target, &request);
    if (!st.ok()) return st;
  }
  lap(Step::kDecode);
  st = validate(*target, options, &request);
  if (!st.ok()) return st;
  lap(Step::kValidate);
  uint64_t queue_wait_us = 0, inference_us = 0;
  st = target->infer(request, response, &queue_wait_us, &inference_us);
  if (!st.ok()) return st;
  if (times) {
    const uint64_t infer_ns = nsSince(t);
    (*times)[Step::kQueueWait] = queue_wait_us * 1000;
    (*times)[Step::kEngine] = inference_us * 1000;
    const uint64_t known = (queue_wait_us + inference_us) * 1000;
    (*times)[Step::kInferOther] = infer_ns > known ? infer_ns - known : 0;
    t = Clock::now();
  }
  if (scope) scope->engineTimes(queue_wait_us, inference_us);
  st = selectOutputs(options, request.requested_outputs, response);
  if (!st.ok()) return st;
  response->model_name = request.model_name;
  response->model_version = resolved;
  response->id = request.id;
  response->producer = target;
  lap(Step::kSelect);
  if (encode) {
    st = encode(*response);
    lap(Step::kEncode);
    return st;
  }
  return StatusCode::OK;
}

Status InferencePath::run(InferenceRequest& request, const WireDecoder& decode, InferenceResponse* response,
                          const WireEncoder& encode) const {
  const auto start = Clock::now();
  const InferenceOptions options = InferenceOptions::forOrigin(request.origin);
  std::unique_ptr<InferenceObserver::Scope> scope = observer_ ? observer_->begin(request) : nullptr;
  StepTimes times;
  Status st = runSteps(request, options, decode, response, encode, scope.get(), step_times_ ? &times : nullptr);
  if (scope) scope->done(st);
  const uint64_t elapsed_ns = nsSince(start);
  if (step_times_ && st.ok()) {
    times[Step::kTotal] = elapsed_ns;
    step_times_->record(request.origin, request.model_name, times);
  }
  logRequest(request.model_name, st.ok() ? response->model_version : request.model_version, request.origin, st,
             static_cast<int64_t>(elapsed_ns / 1000));
  return st;
}

}  // namespace ovms::serving
