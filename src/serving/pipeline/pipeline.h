#pragma once
// A DAG pipeline (spec §9): a validated, immutable execution plan built from a PipelineConfig
// against the models and custom node libraries loaded right now, and its executor.
//
// A Pipeline is servable-like: it has a signature (inputs()/outputs()) and infer() taking the same
// request/response types as Servable, so the single inference path can serve it under its name.
// Model nodes run through ModelManager::acquire + Servable::infer; custom nodes through the C ABI.
// Node outputs reach later nodes as views (demultiplexed shards are views into their parent
// tensor); only gathering copies, because it joins separate buffers.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/tensor.h"
#include "serving/pipeline/node_library.h"
#include "serving/pipeline/pipeline_config.h"
#include "serving/model.h"
#include "serving/servable.h"

namespace ovms::serving {
class ModelManager;
}

namespace ovms::serving::pipeline {

// What validation looked at: a different fingerprint (a model version reloaded, a library
// reopened) means the pipeline must be validated again.
using Fingerprint = std::vector<const void*>;

// The state of one custom node of one pipeline: its library and the handle initialize() gave it.
// deinitialize() runs when the last user (plan or in-flight output tensor) lets go.
class CustomNodeResources;

// A Pipeline is one more InferenceTarget: InferencePath serves it by name when no model has that
// name (resolver(): ModelManager::findPipeline -> PipelineDefinition::acquire).
class Pipeline final : public InferenceTarget {
 public:
  // Validates `config` in OVMS's order (§9) and builds the plan. `models` resolves model nodes;
  // `libraries` custom nodes. Errors carry OVMS's pipeline status codes.
  static Status build(const PipelineConfig& config, const ModelManager& models, const NodeLibraryRegistry& libraries,
                      std::shared_ptr<const Pipeline>* out);
  // The fingerprint build() would produce now, without building (cheap; for revalidation).
  static Fingerprint fingerprintOf(const PipelineConfig& config, const ModelManager& models,
                                   const NodeLibraryRegistry& libraries);
  ~Pipeline() override;

  const std::string& name() const { return name_; }
  const std::vector<engine::TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<engine::TensorInfo>& outputs() const override { return outputs_; }
  // Layout of every input (same order as inputs()), as binary image inputs need it: the layout of
  // the first model input it feeds (Servable::inputLayouts()), or "..." (unspecified) when it feeds
  // only custom nodes or the response.
  const std::vector<std::string>& inputLayouts() const override { return input_layouts_; }

  // Checks the request against inputs(), runs every node (independent branches concurrently,
  // demultiplexed branches per shard) and fills the response with the pipeline outputs in config
  // order. Output views keep their buffers alive.
  // The engine times are not measured for a whole pipeline (each model node reports its own).
  Status infer(const InferenceRequest& request, InferenceResponse* response, uint64_t* queue_wait_us = nullptr,
               uint64_t* inference_us = nullptr) const override;
  // The request checks infer() starts with, in OVMS order (InferenceTarget::validate).
  Status validate(const InferenceRequest& request) const override { return validateRequest(request); }

  struct Node;  // a resolved node of the plan (pipeline.cpp)
  struct Run;   // the state of one infer() call

 private:
  Pipeline() = default;
  Status validateRequest(const InferenceRequest& request) const;

  std::string name_;
  const ModelManager* models_ = nullptr;
  std::vector<std::unique_ptr<Node>> nodes_;  // [0] = request, back() = response; topological order
  std::vector<engine::TensorInfo> inputs_;
  std::vector<engine::TensorInfo> outputs_;
  std::vector<std::string> input_layouts_;
};

enum class PipelineState { AVAILABLE, LOADING, RETIRED };

// One pipeline_config_list entry over time: its config, its current plan (if valid) and its state
// as status reports it (always version 1): AVAILABLE / OK, LOADING / FAILED_PRECONDITION (invalid;
// revalidated on every reload), END / OK (removed from config).
class PipelineDefinition {
 public:
  explicit PipelineDefinition(PipelineConfig config);
  const std::string& name() const { return name_; }
  PipelineConfig config() const;

  // (Re)validates with `config` when it, or the model versions and libraries it was validated
  // against, changed; with `retry_invalid` (config reloads) also when it is invalid. A valid new
  // plan replaces the old one atomically; in-flight requests finish on the old one. Returns the
  // validation status.
  Status reload(const PipelineConfig& config, const ModelManager& models, const NodeLibraryRegistry& libraries,
                bool name_taken_by_model, bool retry_invalid = true);
  // Removed from config: END; requests get PIPELINE_DEFINITION_NOT_LOADED_ANYMORE.
  void retire();

  PipelineState state() const;
  // The state as status APIs report it for the pipeline's only version, 1 (§4.1): AVAILABLE / OK,
  // LOADING / FAILED_PRECONDITION (validation failed), LOADING / OK (not validated yet), END / OK.
  static constexpr int64_t kVersion = 1;
  VersionState versionState() const;
  VersionError versionError() const;
  // The last validation status (OK when available).
  Status validationStatus() const;
  // The plan for a request: PIPELINE_DEFINITION_NOT_LOADED_YET (invalid / not validated) or
  // PIPELINE_DEFINITION_NOT_LOADED_ANYMORE (retired).
  Status acquire(std::shared_ptr<const Pipeline>* out) const;
  // The last valid plan even when retired or invalid (metadata of a known pipeline); may be null.
  std::shared_ptr<const Pipeline> lastPlan() const;

 private:
  const std::string name_;
  mutable std::mutex mutex_;
  PipelineConfig config_;
  PipelineState state_ = PipelineState::LOADING;
  Status status_ = StatusCode::PIPELINE_DEFINITION_NOT_LOADED_YET;
  std::shared_ptr<const Pipeline> plan_;       // current valid plan (null when invalid)
  std::shared_ptr<const Pipeline> last_plan_;
  Fingerprint fingerprint_;
};

}  // namespace ovms::serving::pipeline
