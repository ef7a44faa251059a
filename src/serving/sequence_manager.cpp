#include "serving/sequence_manager.h"

#include <condition_variable>
#include <cstdlib>
#include <string>
#include <thread>

#include "common/logging.h"

namespace ovms::serving {

SequenceStore::SequenceStore(uint32_t max_sequences, std::string model_name, int64_t version)
    : max_sequences_(max_sequences), model_name_(std::move(model_name)), version_(version) {}

SequenceStore::Lease::~Lease() { release(); }

SequenceStore::Lease& SequenceStore::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    store_ = other.store_;
    sequence_ = std::move(other.sequence_);
    lock_ = std::move(other.lock_);
    control_ = other.control_;
    other.store_ = nullptr;
  }
  return *this;
}

void SequenceStore::Lease::release() {
  if (!sequence_) return;
  // Removed before it is unlocked, so a request waiting for it finds it removed. (Taking the store's
  // mutex while holding a sequence's is safe: the store's mutex is never held while waiting for a
  // sequence; the cleaner only tries its lock.)
  if (control_ == kSequenceEnd && store_) store_->remove(sequence_);
  if (lock_.owns_lock()) lock_.unlock();
  sequence_.reset();
  store_ = nullptr;
}

uint64_t SequenceStore::uniqueId() {
  while (next_id_ == 0 || sequences_.count(next_id_)) ++next_id_;
  return next_id_;
}

Status SequenceStore::acquire(uint64_t sequence_id, uint32_t control, Lease* lease) {
  std::shared_ptr<Sequence> sequence;
  {
    std::lock_guard lock(mutex_);
    if (control == kSequenceStart) {
      if (sequences_.size() >= max_sequences_) {
        MODEL_LOG(debug, "Model {} version {} Max sequence number has been reached. Could not create new sequence.",
                  model_name_, version_);
        return StatusCode::MAX_SEQUENCE_NUMBER_REACHED;
      }
      if (sequence_id == 0) {
        sequence_id = uniqueId();
      } else if (auto it = sequences_.find(sequence_id); it != sequences_.end()) {
        return it->second->terminated ? StatusCode::SEQUENCE_TERMINATED : StatusCode::SEQUENCE_ALREADY_EXISTS;
      }
      sequence = std::make_shared<Sequence>(sequence_id);
      sequences_.emplace(sequence_id, sequence);
      MODEL_LOG(debug, "Model {} version {} Adding new sequence with ID: {}", model_name_, version_, sequence_id);
    } else {
      auto it = sequences_.find(sequence_id);
      if (it == sequences_.end() || it->second->terminated) return StatusCode::SEQUENCE_MISSING;
      sequence = it->second;
      if (control == kSequenceEnd) sequence->terminated = true;
    }
    sequence->idle = false;
  }
  Lease l;
  l.store_ = this;
  l.control_ = control;
  l.lock_ = std::unique_lock(sequence->mutex);
  l.sequence_ = sequence;
  // The sequence was removed (its END request or the cleaner) while this request waited for it.
  if (sequence->removed.load()) {
    l.control_ = kNoControlInput;  // nothing left to remove
    return StatusCode::SEQUENCE_MISSING;
  }
  if (lease) *lease = std::move(l);  // no lease: the request is done at once (tests)
  return StatusCode::OK;
}

void SequenceStore::remove(const std::shared_ptr<Sequence>& sequence) {
  std::lock_guard lock(mutex_);
  auto it = sequences_.find(sequence->id);
  if (it != sequences_.end() && it->second == sequence) {
    MODEL_LOG(debug, "Model {} version {} Removing sequence with ID: {}", model_name_, version_, sequence->id);
    sequence->removed = true;
    sequences_.erase(it);
  }
}

size_t SequenceStore::removeIdle() {
  std::lock_guard lock(mutex_);
  size_t removed = 0;
  for (auto it = sequences_.begin(); it != sequences_.end();) {
    Sequence& sequence = *it->second;
    // A sequence being processed is in use, not idle: skip it without waiting.
    std::unique_lock busy(sequence.mutex, std::try_to_lock);
    if (!sequence.terminated && busy.owns_lock()) {
      busy.unlock();
      if (sequence.idle) {
        MODEL_LOG(debug, "[Idle sequence cleanup] Removing sequence with id: {} on model {}, version: {}", sequence.id,
                  model_name_, version_);
        sequence.removed = true;
        it = sequences_.erase(it);
        ++removed;
        continue;
      }
      sequence.idle = true;
    }
    ++it;
  }
  return removed;
}

size_t SequenceStore::size() const {
  std::lock_guard lock(mutex_);
  return sequences_.size();
}

// ---- SequenceCleaner ----

struct SequenceCleaner::Worker {
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;
};

SequenceCleaner& SequenceCleaner::instance() {
  static SequenceCleaner cleaner;
  return cleaner;
}

SequenceCleaner::~SequenceCleaner() { stop(); }

void SequenceCleaner::add(std::weak_ptr<SequenceStore> store) {
  std::lock_guard lock(mutex_);
  stores_.push_back(std::move(store));
}

void SequenceCleaner::sweep() {
  std::vector<std::shared_ptr<SequenceStore>> live;
  {
    std::lock_guard lock(mutex_);
    for (auto it = stores_.begin(); it != stores_.end();) {
      if (auto s = it->lock()) {
        live.push_back(std::move(s));
        ++it;
      } else {
        it = stores_.erase(it);  // its version is gone
      }
    }
  }
  for (const auto& s : live) s->removeIdle();
}

void SequenceCleaner::start(std::chrono::milliseconds interval) {
  if (interval.count() <= 0) return;
  std::lock_guard lock(mutex_);
  if (worker_) return;
  worker_ = std::make_unique<Worker>();
  Worker* w = worker_.get();
  w->thread = std::thread([this, w, interval] {
    std::unique_lock lock(w->mutex);
    while (!w->wake.wait_for(lock, interval, [w] { return w->stopping; })) {
      lock.unlock();
      sweep();
      lock.lock();
    }
  });
}

void SequenceCleaner::stop() {
  std::unique_ptr<Worker> w;
  {
    std::lock_guard lock(mutex_);
    w = std::move(worker_);
  }
  if (!w) return;
  {
    std::lock_guard lock(w->mutex);
    w->stopping = true;
  }
  w->wake.notify_all();
  if (w->thread.joinable()) w->thread.join();
}

std::chrono::milliseconds sequenceCleanerInterval(uint32_t minutes) {
  if (const char* seconds = std::getenv("OVMS_SEQUENCE_CLEANER_POLL_SECONDS")) {
    try {
      return std::chrono::milliseconds(static_cast<int64_t>(std::stod(seconds) * 1000));
    } catch (const std::exception&) {
    }
  }
  return std::chrono::minutes(minutes);
}

}  // namespace ovms::serving
