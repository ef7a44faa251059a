#pragma once
// A loaded model version: the engine session plus the signature clients see (mapped names),
// and the pool of infer slots (nireq) that bounds concurrent inferences.
//
// Thread-safety: immutable after load() except the infer-slot pool (serving/infer_slots.h, a
// leaf lock: nothing else is taken while it is held). validate() and infer() may be
// called concurrently from any number of request threads; ONNX Runtime's Run() is thread-safe.
// Owned through shared_ptr<const Servable>: its ModelVersion and every in-flight request hold
// one, so a retired or replaced version is freed by the last request using it.
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/onnx_model.h"
#include "engine/tensor.h"
#include "serving/dynamic_batcher.h"
#include "serving/inference_request.h"
#include "serving/infer_slots.h"
#include "serving/inference_target.h"
#include "serving/model_config.h"
#include "serving/sequence_manager.h"
#include "serving/stateful.h"
#include "serving/shape_config.h"

namespace ovms::serving {

class Servable : public InferenceTarget {
 public:
  // Loads the model files of one version folder. Returns the OVMS status of the failure.
  static Status load(const std::string& version_dir, const ModelConfig& config, std::unique_ptr<Servable>* out);

  const std::vector<engine::TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<engine::TensorInfo>& outputs() const override { return outputs_; }
  const std::map<std::string, std::string>& modelInfo() const { return model_info_; }
  uint32_t nireq() const { return nireq_; }
  uint32_t streams() const { return streams_; }

  // Checks a request against the signature in OVMS order (§6.2).
  Status validate(const InferenceRequest& request) const override;
  // Validates, waits for an infer slot, runs. Output views own their buffers. `queue_wait_us`, when
  // given, receives how long this call waited for a free infer slot (nireq), in microseconds.
  // `inference_us`, when given, receives how long the engine ran, in microseconds.
  Status infer(const InferenceRequest& request, InferenceResponse* response, uint64_t* queue_wait_us = nullptr,
               uint64_t* inference_us = nullptr) const override;
  // As infer(), for a request admitted earlier (a pipeline's node): waits for a slot however many
  // requests wait already, so an accepted pipeline is never refused half-way by max_queued_requests.
  Status inferAdmitted(const InferenceRequest& request, InferenceResponse* response) const;
  // All infer slots are taken and max_queued_requests requests wait (INFER_QUEUE_FULL now).
  bool queueFull() const override { return batcher_ ? batcher_->full() : slots_.full(); }
  Status queueFullStatus() const override;
  // Infer slots currently taken (ovms_infer_req_active).
  uint32_t slotsInUse() const { return slots_.inUse(); }

  // Accepted dims of every input (same order as inputs()): static, -1, or a range from the config.
  const std::vector<Dims>& inputDims() const override { return input_dims_; }
  // Position of the batch dim of every input (from the layout; default N... = 0), if any.
  const std::vector<std::optional<size_t>>& batchIndices() const { return batch_index_; }
  // Layout of every input as clients see it: the configured one (upper case; the client side of
  // "NHWC:NCHW"), else the default "N..." ("..." for scalars). Binary image inputs use it (§7.4).
  const std::vector<std::string>& inputLayouts() const override { return input_layouts_; }
  // The signature metadata shows. Equal to inputs()/outputs(), except for a model served with
  // `auto` batch size or shape: OVMS reloads such a model at each new request shape and reports the
  // model's own shape until a request changes it, then the shapes of the last request served. We
  // accept any shape without a reload and report what OVMS would show. Thread-safe (own mutex).
  std::vector<engine::TensorInfo> reportedInputs() const;
  std::vector<engine::TensorInfo> reportedOutputs() const;
  // Where the engine's optimised graph was cached ("" when the cache is off).
  const std::string& cachePath() const { return cache_path_; }
  bool loadedFromCache() const { return loaded_from_cache_; }
  // Stateful model (config `stateful`): its sequences, and the state variables of its graph
  // (serving/stateful.h), hidden from inputs()/outputs().
  bool stateful() const override { return sequences_ != nullptr; }
  const SequenceStore* sequences() const { return sequences_.get(); }
  const std::vector<StateVariable>& stateVariables() const { return states_; }

  // Dynamic batching (config `dynamic_batching`): the batcher infer() goes through, or nullptr.
  // inferAdmitted() (pipeline nodes) never batches.
  const DynamicBatcher* dynamicBatcher() const { return batcher_.get(); }
  // Queued requests run at once from now on (the version retires or is replaced). No-op without batching.
  void drainBatching() const {
    if (batcher_) batcher_->drain();
  }
  // Told the rows of every engine run the batcher makes (metrics). No-op without batching.
  void setBatchObserver(DynamicBatcher::BatchObserver observer) const {
    if (batcher_) batcher_->setObserver(std::move(observer));
  }

 private:
  Status run(const InferenceRequest& request, InferenceResponse* response, bool bounded, uint64_t* queue_wait_us,
             uint64_t* inference_us) const;
  Status runStateful(const InferenceRequest& request, InferenceResponse* response, bool bounded,
                     uint64_t* queue_wait_us, uint64_t* inference_us) const;
  // Stateful: splits the engine's signature into the client's and the state variables.
  Status bindStateVariables();
  std::shared_ptr<SequenceStore> sequences_;
  std::vector<StateVariable> states_;
  // Per engine input / output: index into inputs_/outputs_ (>= 0), or -(k + 1) for state variable k.
  std::vector<int> engine_input_source_, engine_output_target_;
  std::unique_ptr<engine::OnnxModel> engine_;
  std::vector<engine::TensorInfo> inputs_;   // exposed names, engine order
  std::vector<engine::TensorInfo> outputs_;
  std::map<std::string, std::string> model_info_;
  std::vector<Dims> input_dims_;
  std::vector<std::optional<size_t>> batch_index_;
  std::vector<std::string> input_layouts_;
  std::string cache_path_;
  bool loaded_from_cache_ = false;
  uint32_t nireq_ = 1;
  uint32_t streams_ = 1;
  InferSlots slots_;
  std::unique_ptr<DynamicBatcher> batcher_;  // uses slots_ and engine_
  bool auto_shapes_ = false;  // batch_size or shape "auto": metadata follows the last request
  mutable std::mutex reported_mutex_;
  mutable std::vector<engine::TensorInfo> reported_inputs_, reported_outputs_;
};

}  // namespace ovms::serving
