#pragma once
// What the inference path runs: anything with a signature that validates and infers a request.
// A model version's Servable is one; a DAG pipeline is another (see InferencePath::setPipelineResolver).
//
// Thread-safety: implementations must be safe for concurrent validate()/infer() calls from many
// request threads on one const object; the path holds a shared_ptr to the target for the whole
// request, so a target retired meanwhile stays alive until its last request is answered.
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/tensor.h"
#include "serving/inference_request.h"
#include "serving/shape_config.h"

namespace ovms::serving {

class InferenceTarget {
 public:
  virtual ~InferenceTarget() = default;

  // The signature clients see (exposed names), in the target's own order.
  virtual const std::vector<engine::TensorInfo>& inputs() const = 0;
  virtual const std::vector<engine::TensorInfo>& outputs() const = 0;

  // Checks a request against the signature in OVMS order (§6.2). INVALID_PRECISION details print
  // the input's client_datatype when set.
  virtual Status validate(const InferenceRequest& request) const = 0;

  // Runs a request that passed validate(). `queue_wait_us` / `inference_us`, when given, receive
  // the time spent waiting for an execution slot and the engine time (both in microseconds; 0 when
  // the target has no such notion).
  virtual Status infer(const InferenceRequest& request, InferenceResponse* response,
                       uint64_t* queue_wait_us = nullptr, uint64_t* inference_us = nullptr) const = 0;

  // Overload (max_queued_requests): true when infer() would refuse now because the target's
  // execution slots are all taken and its queue is full. A cheap check made before a request is
  // decoded, so a refused request costs no parsing; infer() makes the binding decision.
  virtual bool queueFull() const { return false; }
  virtual Status queueFullStatus() const { return StatusCode::INFER_QUEUE_FULL; }

  // Accepted dims and client-side layout of every input (same order as inputs()). Used to decode
  // encoded images for 4-D inputs (§7.4). Empty = dims from inputs(), default layout "N...".
  virtual const std::vector<Dims>& inputDims() const { return kNoDims; }
  virtual const std::vector<std::string>& inputLayouts() const { return kNoLayouts; }

  // A stateful model (serving/stateful.h): requests may carry the special inputs sequence_id and
  // sequence_control_input besides the model inputs.
  virtual bool stateful() const { return false; }

  // Data the inference path's observer keeps per target (metrics: the version's series), resolved
  // by the first request and kept for the target's life, so later requests skip the lookups.
  const void* observerData() const { return observer_data_.load(std::memory_order_acquire); }
  void setObserverData(const void* data) const { observer_data_.store(data, std::memory_order_release); }

 private:
  mutable std::atomic<const void*> observer_data_{nullptr};
  static inline const std::vector<Dims> kNoDims{};
  static inline const std::vector<std::string> kNoLayouts{};
};

}  // namespace ovms::serving
