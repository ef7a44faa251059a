#pragma once
// Dynamic batching (not in OVMS; Triton's `dynamic_batching`): concurrent requests of one model
// version are merged along dim 0 into one engine run, and each request gets views of its own rows
// of the outputs.
//
// How a batch forms: a request enqueues its (validated) input views and waits. One waiting request
// at a time is the leader: it waits until the requests compatible with the oldest one (same
// precision and same dims after dim 0 on every input) add up to max_batch_size or to one of the
// preferred sizes, or until the oldest has waited max_queue_delay; then it waits for an infer slot
// (nireq), takes the compatible requests (oldest first, up to max_batch_size rows), hands the
// leadership on and runs the batch for all of them. Requests keep arriving while the leader waits
// for a slot, so under load batches grow even with a delay of 0. A request whose own batch is
// larger than max_batch_size (or that has no batch dim) runs alone, without queueing.
//
// Every request of a merged run gets the run's error. An output whose dim 0 is not the merged batch
// (so it cannot be split) makes the batch run again request by request: never a wrong split.
//
// Thread-safety: thread-safe. mutex_ guards the queue and the leader flag; it is taken before the
// infer-slot pool's leaf lock, never after. The engine runs with mutex_ released.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/tensor.h"
#include "serving/infer_slots.h"
#include "serving/model_config.h"

namespace ovms::serving {

class DynamicBatcher {
 public:
  // One engine run: `inputs[i]` feeds the model's input i; outputs own their buffers.
  using RunFn = std::function<bool(const std::vector<engine::TensorView>& inputs,
                                   std::vector<engine::TensorView>* outputs, std::string* error)>;
  // Told the number of rows (requests' dim 0 summed) of every engine run the batcher makes.
  using BatchObserver = std::function<void(size_t rows)>;

  DynamicBatcher(DynamicBatchingConfig config, const InferSlots& slots, RunFn run);

  const DynamicBatchingConfig& config() const { return config_; }

  // Runs one request (inputs in model order, already validated) as part of a batch. Returns OK,
  // INFER_QUEUE_FULL (max_queued_requests reached while every slot is busy) or
  // OV_INTERNAL_INFERENCE_ERROR with the engine's message. `queue_wait_us` receives the time from
  // arrival until the batch got its infer slot (the batching delay included); `inference_us` the
  // engine time of the run that served the request.
  Status infer(const std::vector<engine::TensorView>& inputs, std::vector<engine::TensorView>* outputs,
               uint64_t* queue_wait_us, uint64_t* inference_us);

  // From now on queued requests run without waiting for the delay or more requests (the version
  // is retiring or being replaced): nobody waits on a batch that will not grow.
  void drain();
  // max_queued_requests is reached and every infer slot is busy: a new request would be refused.
  bool full() const;
  // Requests queued and not yet running (tests, diagnostics).
  size_t queued() const;
  void setObserver(BatchObserver observer);

 private:
  struct Entry;
  using Clock = std::chrono::steady_clock;

  // Rows (dim 0) of a request, or -1 when it cannot be merged with others.
  static int64_t mergeableRows(const std::vector<engine::TensorView>& inputs);
  static bool compatible(const Entry& a, const Entry& b);
  // True when the requests compatible with the oldest queued one should run now.
  bool readyLocked(Clock::time_point now, Clock::time_point* deadline) const;
  // Removes and returns the batch led by the oldest queued request.
  std::vector<std::shared_ptr<Entry>> takeBatchLocked();
  // Runs `batch` (the caller holds an infer slot) and completes its entries.
  void runBatch(const std::vector<std::shared_ptr<Entry>>& batch);
  Status runAlone(const std::vector<engine::TensorView>& inputs, std::vector<engine::TensorView>* outputs,
                  uint64_t* queue_wait_us, uint64_t* inference_us);

  const DynamicBatchingConfig config_;
  const InferSlots& slots_;
  const RunFn run_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;  // queue, leader or completion changed
  std::deque<std::shared_ptr<Entry>> queue_;
  size_t waiting_ = 0;  // requests admitted and not yet running (queued or in a batch waiting for a slot)
  bool leader_ = false;
  bool draining_ = false;
  std::shared_ptr<const BatchObserver> observer_;
};

}  // namespace ovms::serving
