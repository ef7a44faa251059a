#include "serving/dynamic_batcher.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <optional>

namespace ovms::serving {

using engine::Precision;
using engine::TensorView;

struct DynamicBatcher::Entry {
  const std::vector<TensorView>* inputs = nullptr;  // the waiting request's views (it outlives the entry's use)
  int64_t rows = 0;
  Clock::time_point arrived;
  // Written by the thread that runs the batch before `done` is set under mutex_.
  bool done = false;
  Status status = StatusCode::OK;
  std::vector<TensorView> outputs;
  uint64_t queue_wait_us = 0;
  uint64_t inference_us = 0;
};

namespace {

uint64_t microsSince(std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point end) {
  if (end <= start) return 0;
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(end - start).count());
}

// Keeps a merged run's buffers alive while any request's output slice is in use.
struct MergedRun {
  std::vector<std::vector<uint8_t>> inputs;  // an engine may hand back an input buffer as an output
  std::vector<TensorView> outputs;
};

}  // namespace

DynamicBatcher::DynamicBatcher(DynamicBatchingConfig config, const InferSlots& slots, RunFn run)
    : config_(std::move(config)), slots_(slots), run_(std::move(run)) {}

int64_t DynamicBatcher::mergeableRows(const std::vector<TensorView>& inputs) {
  if (inputs.empty()) return -1;
  int64_t rows = -1;
  for (const auto& in : inputs) {
    if (in.shape.empty() || in.precision == Precision::STRING) return -1;
    if (rows >= 0 && in.shape[0] != rows) return -1;
    rows = in.shape[0];
  }
  return rows > 0 ? rows : -1;
}

bool DynamicBatcher::compatible(const Entry& a, const Entry& b) {
  const auto& x = *a.inputs;
  const auto& y = *b.inputs;
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i].precision != y[i].precision || x[i].shape.size() != y[i].shape.size()) return false;
    if (!std::equal(x[i].shape.begin() + 1, x[i].shape.end(), y[i].shape.begin() + 1)) return false;
  }
  return true;
}

bool DynamicBatcher::readyLocked(Clock::time_point now, Clock::time_point* deadline) const {
  if (queue_.empty() || draining_) return true;
  const Entry& oldest = *queue_.front();
  int64_t rows = 0;
  bool no_room = false;  // a compatible request is left out: the batch is as full as it can get
  for (const auto& e : queue_) {
    if (!compatible(oldest, *e)) continue;
    if (rows + e->rows > static_cast<int64_t>(config_.max_batch_size)) {
      no_room = true;
      break;
    }
    rows += e->rows;
  }
  if (no_room || rows >= static_cast<int64_t>(config_.max_batch_size)) return true;
  for (uint32_t preferred : config_.preferred_batch_sizes)
    if (rows == static_cast<int64_t>(preferred)) return true;
  *deadline = oldest.arrived + std::chrono::microseconds(config_.max_queue_delay_microseconds);
  return now >= *deadline;
}

std::vector<std::shared_ptr<DynamicBatcher::Entry>> DynamicBatcher::takeBatchLocked() {
  std::vector<std::shared_ptr<Entry>> batch;
  if (queue_.empty()) return batch;
  const auto leader = queue_.front();
  int64_t rows = 0;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const auto& e = *it;
    if (compatible(*leader, *e) && rows + e->rows <= static_cast<int64_t>(config_.max_batch_size)) {
      rows += e->rows;
      batch.push_back(e);
      it = queue_.erase(it);
    } else if (rows >= static_cast<int64_t>(config_.max_batch_size)) {
      break;
    } else {
      ++it;
    }
  }
  waiting_ -= batch.size();
  return batch;
}

Status DynamicBatcher::infer(const std::vector<TensorView>& inputs, std::vector<TensorView>* outputs,
                             uint64_t* queue_wait_us, uint64_t* inference_us) {
  const int64_t rows = mergeableRows(inputs);
  if (rows < 1 || rows > static_cast<int64_t>(config_.max_batch_size))
    return runAlone(inputs, outputs, queue_wait_us, inference_us);
  auto entry = std::make_shared<Entry>();
  entry->inputs = &inputs;
  entry->rows = rows;
  entry->arrived = Clock::now();

  std::unique_lock lock(mutex_);
  // max_queued_requests bounds the requests waiting while every slot is busy, as without batching.
  const int64_t max_waiting = slots_.maxWaiting();
  if (max_waiting >= 0 && waiting_ >= static_cast<uint64_t>(max_waiting) && slots_.inUse() >= slots_.capacity())
    return StatusCode::INFER_QUEUE_FULL;
  ++waiting_;
  queue_.push_back(entry);
  changed_.notify_all();
  while (!entry->done) {
    if (leader_) {
      changed_.wait(lock);
      continue;
    }
    // Lead: wait until the oldest request's batch is due, then for a slot, then take the batch.
    leader_ = true;
    Clock::time_point deadline;
    while (!entry->done && !readyLocked(Clock::now(), &deadline)) changed_.wait_until(lock, deadline);
    if (entry->done) {  // answered by a batch that another thread ran: hand the leadership on
      leader_ = false;
      changed_.notify_all();
      break;
    }
    if (queue_.empty()) {  // this request is in a batch that runs already: wait for it
      leader_ = false;
      changed_.notify_all();
      changed_.wait(lock);
      continue;
    }
    lock.unlock();
    std::optional<InferSlots::Slot> slot(std::in_place, slots_.take());
    lock.lock();
    auto batch = takeBatchLocked();
    const auto started = Clock::now();  // after the take: requests that joined while it waited arrived before
    leader_ = false;
    auto observer = observer_;
    changed_.notify_all();  // the next leader may start collecting while this batch runs
    lock.unlock();
    if (!batch.empty()) {
      for (auto& e : batch) e->queue_wait_us = microsSince(e->arrived, started);
      int64_t batch_rows = 0;
      for (const auto& e : batch) batch_rows += e->rows;
      if (observer && *observer) (*observer)(static_cast<size_t>(batch_rows));
      try {
        runBatch(batch);
      } catch (const std::exception& e) {  // e.g. bad_alloc merging inputs: still answer every request
        for (auto& b : batch) b->status = Status(StatusCode::INTERNAL_ERROR, e.what());
      }
    }
    slot.reset();
    lock.lock();
    for (auto& e : batch) e->done = true;
    changed_.notify_all();
  }
  lock.unlock();
  if (queue_wait_us) *queue_wait_us = entry->queue_wait_us;
  if (inference_us) *inference_us = entry->inference_us;
  if (entry->status.ok()) *outputs = std::move(entry->outputs);
  return entry->status;
}

void DynamicBatcher::runBatch(const std::vector<std::shared_ptr<Entry>>& batch) {
  auto runOne = [&](Entry& e) {
    std::string error;
    const auto start = Clock::now();
    bool ok = run_(*e.inputs, &e.outputs, &error);
    e.inference_us = microsSince(start, Clock::now());
    e.status = ok ? Status(StatusCode::OK) : Status(StatusCode::OV_INTERNAL_INFERENCE_ERROR, error);
  };
  if (batch.size() == 1) {
    runOne(*batch.front());  // nothing to merge: the request's own views go to the engine
    return;
  }
  const auto& first = *batch.front()->inputs;
  int64_t total_rows = 0;
  for (const auto& e : batch) total_rows += e->rows;
  auto merged = std::make_shared<MergedRun>();
  std::vector<TensorView> ins;
  ins.reserve(first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    size_t bytes = 0;
    for (const auto& e : batch) bytes += (*e->inputs)[i].bytes;
    std::vector<uint8_t> buffer(std::max<size_t>(bytes, 1));
    size_t offset = 0;
    for (const auto& e : batch) {
      const auto& part = (*e->inputs)[i];
      if (part.bytes) std::memcpy(buffer.data() + offset, part.data, part.bytes);
      offset += part.bytes;
    }
    TensorView v;
    v.precision = first[i].precision;
    v.shape = first[i].shape;
    v.shape[0] = total_rows;
    v.data = buffer.data();
    v.bytes = bytes;
    ins.push_back(std::move(v));
    merged->inputs.push_back(std::move(buffer));
  }
  std::string error;
  const auto start = Clock::now();
  const bool ok = run_(ins, &merged->outputs, &error);
  const uint64_t engine_us = microsSince(start, Clock::now());
  for (auto& e : batch) e->inference_us = engine_us;
  if (!ok) {
    for (auto& e : batch) e->status = Status(StatusCode::OV_INTERNAL_INFERENCE_ERROR, error);
    return;
  }
  // Every output must have the merged batch as dim 0 and whole rows, or it cannot be split.
  std::vector<size_t> row_bytes;
  for (const auto& out : merged->outputs) {
    if (out.shape.empty() || out.shape[0] != total_rows || out.precision == Precision::STRING ||
        out.bytes % static_cast<size_t>(total_rows) != 0) {
      for (auto& e : batch) runOne(*e);  // the slot is still held: run request by request
      return;
    }
    row_bytes.push_back(out.bytes / static_cast<size_t>(total_rows));
  }
  int64_t row = 0;
  for (auto& e : batch) {
    e->outputs.clear();
    for (size_t o = 0; o < merged->outputs.size(); ++o) {
      const auto& out = merged->outputs[o];
      TensorView slice;
      slice.precision = out.precision;
      slice.shape = out.shape;
      slice.shape[0] = e->rows;
      slice.data = static_cast<const uint8_t*>(out.data) + static_cast<size_t>(row) * row_bytes[o];
      slice.bytes = static_cast<size_t>(e->rows) * row_bytes[o];
      slice.owner = merged;
      e->outputs.push_back(std::move(slice));
    }
    row += e->rows;
    e->status = StatusCode::OK;
  }
}

Status DynamicBatcher::runAlone(const std::vector<TensorView>& inputs, std::vector<TensorView>* outputs,
                                uint64_t* queue_wait_us, uint64_t* inference_us) {
  std::optional<InferSlots::Slot> slot = slots_.tryTake(queue_wait_us);
  if (!slot) return StatusCode::INFER_QUEUE_FULL;
  std::shared_ptr<const BatchObserver> observer;
  {
    std::lock_guard lock(mutex_);
    observer = observer_;
  }
  if (observer && *observer && !inputs.empty() && !inputs[0].shape.empty() && inputs[0].shape[0] > 0)
    (*observer)(static_cast<size_t>(inputs[0].shape[0]));
  std::string error;
  const auto start = Clock::now();
  bool ok = run_(inputs, outputs, &error);
  if (inference_us) *inference_us = microsSince(start, Clock::now());
  if (!ok) return Status(StatusCode::OV_INTERNAL_INFERENCE_ERROR, error);
  return StatusCode::OK;
}

void DynamicBatcher::drain() {
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
  }
  changed_.notify_all();
}

bool DynamicBatcher::full() const {
  const int64_t max_waiting = slots_.maxWaiting();
  if (max_waiting < 0) return false;
  std::lock_guard lock(mutex_);
  return waiting_ >= static_cast<uint64_t>(max_waiting) && slots_.inUse() >= slots_.capacity();
}

size_t DynamicBatcher::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void DynamicBatcher::setObserver(BatchObserver observer) {
  auto shared = std::make_shared<const BatchObserver>(std::move(observer));
  std::lock_guard lock(mutex_);
  observer_ = std::move(shared);
}

}  // namespace ovms::serving
