#pragma once
// The single inference path. Every front end (TF-Serving gRPC Predict and REST :predict, KServe
// gRPC ModelInfer and ModelStreamInfer, KServe REST /infer) runs inferences only through
// InferencePath::run, which does, inside one metrics scope:
//
//   1. acquire   the target: a model version (waits up to 10 s while it loads), else a pipeline
//   2. decode    the wire message into the request (the front end's WireDecoder; it sees the
//                target's signature: TF-Serving REST types JSON numbers by it)
//   3. validate  in OVMS order (§6.2); at the precision step, string/BYTES data sent to a non-string
//                input is decoded here (encoded images for a 4-D input, §7.4), then re-validated
//   4. infer     (waits for an execution slot, nireq)
//   5. select    the outputs (InferenceOptions::filter_and_sort_outputs)
//   6. encode    the response into the wire message (the front end's WireEncoder), while the
//                target is still held
//
// and then logs one DEBUG line per request: model, version, API/interface/method, status, time
// (client-supplied strings escaped and cut to 256 bytes).
//
// Front ends only translate: wire -> InferenceRequest (decoder), InferenceResponse -> wire (encoder).
//
// Plugging in a non-model servable (a DAG pipeline): implement serving::InferenceTarget
// (inference_target.h: signature, validate(), infer()) and register a PipelineResolver. The path
// looks a name up among models first, then pipelines, as OVMS does; everything after the lookup
// (decode, validate, infer, select, encode, metrics, logging) is the same for both.
//
// Thread-safety: run() is const and may be called concurrently from any number of request
// threads. setObserver()/setPipelineResolver()/setStepTimeRecorder() must be called before the first run().
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "serving/inference_request.h"
#include "serving/inference_target.h"
#include "serving/step_times.h"

namespace ovms::serving {

class ModelManager;

// The per-API differences OVMS really has, all in one place (InferenceOptions::forOrigin).
struct InferenceOptions {
  // Status for a name that is neither a model nor a pipeline. OVMS looks a name up among models,
  // then pipelines (then MediaPipe graphs): TF-Serving gRPC and both KServe APIs report the last
  // miss, PIPELINE_DEFINITION_NAME_MISSING "Pipeline with requested name is not found"; its
  // TF-Serving REST handler reports MODEL_NAME_MISSING "Model with requested name is not found" (§5.5, §6.4).
  StatusCode unknown_name_status = StatusCode::PIPELINE_DEFINITION_NAME_MISSING;
  // Status for an empty encoded image: OVMS checks TF-Serving string_val (STRING_VAL_EMPTY) and
  // KServe bytes_contents (BYTES_CONTENTS_EMPTY) in different places, with different codes.
  StatusCode empty_image_status = StatusCode::BYTES_CONTENTS_EMPTY;
  // KServe: requested_outputs filter the response (our extension; OVMS always returns all), in the
  // order requested; without any, all outputs sorted by name (OVMS keeps them in a std::map).
  // TF-Serving: all outputs in the target's order (OVMS ignores output_filter).
  bool filter_and_sort_outputs = true;

  // No option (one behaviour on every API): the model is looked up before the request body is
  // decoded, and string data for a non-string input is decoded at the precision step of validation.
  static InferenceOptions forOrigin(const RequestOrigin& origin);
};

// Observes every request that runs through the path (metrics implement it).
class InferenceObserver {
 public:
  // One request, from before the lookup until the response is encoded.
  class Scope {
   public:
    virtual ~Scope() = default;
    // The request's target was found (model version or pipeline; `version` as resolved).
    virtual void acquired(const InferenceTarget& target, int64_t version) = 0;
    // The target ran: time waited for an execution slot and engine time, in microseconds.
    virtual void engineTimes(uint64_t queue_wait_us, uint64_t inference_us) = 0;
    // The request's outcome (called once, last).
    virtual void done(const Status& status) = 0;
  };
  virtual ~InferenceObserver() = default;
  // May return nullptr (nothing to observe for this request). Called on the request's thread.
  virtual std::unique_ptr<Scope> begin(const InferenceRequest& request) = 0;
};

// Looks `name` up among pipelines. Returns OK and the target, or a status (an unknown name:
// PIPELINE_DEFINITION_NAME_MISSING, which the path maps to InferenceOptions::unknown_name_status).
using PipelineResolver =
    std::function<Status(const std::string& name, int64_t version, std::shared_ptr<const InferenceTarget>* target)>;

// Fills request->inputs (and id, requested_outputs) from the wire message. Runs after the lookup.
using WireDecoder = std::function<Status(const InferenceTarget& target, InferenceRequest* request)>;
// Writes the response into the wire message. Runs inside the metrics scope, target still held.
using WireEncoder = std::function<Status(const InferenceResponse& response)>;

// The pipelines of `models`: ModelManager::findPipeline -> PipelineDefinition::acquire (an invalid
// or not yet validated pipeline: PIPELINE_DEFINITION_NOT_LOADED_YET; a retired one: ..._ANYMORE).
PipelineResolver pipelineResolver(const ModelManager& models);

class InferencePath {
 public:
  // The pipeline resolver defaults to the manager's pipelines (pipelineResolver(models)).
  explicit InferencePath(const ModelManager& models);

  void setObserver(std::shared_ptr<InferenceObserver> observer) { observer_ = std::move(observer); }
  void setPipelineResolver(PipelineResolver resolver) { pipelines_ = std::move(resolver); }
  // Optional: each successful request's step times are added to `recorder` (step_times.h).
  void setStepTimeRecorder(std::shared_ptr<StepTimeRecorder> recorder) { step_times_ = std::move(recorder); }
  const ModelManager& models() const { return models_; }

  // Runs one inference (steps above). `request` needs model_name, model_version and origin; the
  // decoder (may be empty when the inputs are already in `request`) fills the rest. `response`
  // receives the selected outputs, model name, resolved version and id; `encode` (may be empty)
  // turns it into the wire message. Returns the first failing step's status.
  Status run(InferenceRequest& request, const WireDecoder& decode, InferenceResponse* response,
             const WireEncoder& encode = {}) const;

  // Step 3 alone, exposed for tests: validates `request` against `target`, decoding string data
  // sent to non-string inputs (images) at the precision step.
  static Status validate(const InferenceTarget& target, const InferenceOptions& options, InferenceRequest* request);
  // Step 5 alone, exposed for tests.
  static Status selectOutputs(const InferenceOptions& options, const std::vector<std::string>& requested,
                              InferenceResponse* response);

 private:
  Status runSteps(InferenceRequest& request, const InferenceOptions& options, const WireDecoder& decode,
                  InferenceResponse* response, const WireEncoder& encode, InferenceObserver::Scope* scope,
                  StepTimes* times) const;
  Status acquire(const InferenceRequest& request, const InferenceOptions& options,
                 std::shared_ptr<const InferenceTarget>* target, int64_t* resolved_version) const;

  const ModelManager& models_;
  std::shared_ptr<InferenceObserver> observer_;
  PipelineResolver pipelines_;
  std::shared_ptr<StepTimeRecorder> step_times_;
};

// `s` made safe for a log line (ovms::logSafe): control bytes as \n, \r, \t or \xNN, invalid UTF-8 as
// \xNN, cut to `max_bytes` with "...(N bytes)" appended.
std::string escapeForLog(std::string_view s, size_t max_bytes = 256);

// The one per-request DEBUG line (every API and method): "Request: model <name>; version <v>;
// <API> <interface> <method>; status: <OK or the status text>; time: <us> us", with the model
// name and status text escaped and cut (escapeForLog). The path logs inferences; RequestMetrics
// logs the other methods.
void logRequest(const std::string& model, int64_t version, const RequestOrigin& origin, const Status& status,
                int64_t elapsed_us);

}  // namespace ovms::serving
