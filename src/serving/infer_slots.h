#pragma once
// The pool of infer slots (nireq) that bounds how many inferences of one servable run at once, and
// the bound on requests waiting for a slot (max_queued_requests): past it a request is refused at
// once instead of adding to the wait of every request behind it (issue 9, overload).
//
// Slots are handed out in arrival order: a released slot goes straight to the longest-waiting request,
// and a new request never overtakes one that waits (without this, a request finishing and coming back
// at once could take the slot again ahead of every waiter, and the tail latency under load grows with
// the number of clients; bench/load_curves.py, issue 14).
//
// Thread-safety: thread-safe. mutex_ is a leaf lock (nothing else is taken while it is held).
// The capacity and the waiting bound are set once, before the pool is shared.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace ovms::serving {

class InferSlots {
 public:
  // No bound on waiting requests (OVMS's own behaviour: every request queues).
  static constexpr int64_t kUnbounded = -1;

  // Holds one slot for its lifetime (released on every exit path, exceptions included).
  class Slot {
   public:
    explicit Slot(const InferSlots& pool) : pool_(&pool) {}
    ~Slot() {
      if (pool_) pool_->release();
    }
    Slot(Slot&& o) noexcept : pool_(o.pool_) { o.pool_ = nullptr; }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;

   private:
    const InferSlots* pool_;
  };

  void setCapacity(uint32_t n) { capacity_ = n ? n : 1; }
  uint32_t capacity() const { return capacity_; }
  // Requests allowed to wait for a slot while all are taken; kUnbounded (or any negative) = no bound.
  void setMaxWaiting(int64_t n) { max_waiting_ = n < 0 ? kUnbounded : n; }
  int64_t maxWaiting() const { return max_waiting_; }
  uint32_t inUse() const {
    std::lock_guard lock(mutex_);
    return in_use_;
  }
  uint32_t waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_;
  }
  // True when a new bounded request would be refused now (a cheap early check; take() decides).
  bool full() const {
    if (max_waiting_ < 0) return false;
    std::lock_guard lock(mutex_);
    return in_use_ >= capacity_ && waiting_ >= static_cast<uint64_t>(max_waiting_);
  }
  // Waits for a free slot, however many wait already (requests that were admitted before, such as
  // a pipeline's node inferences, must never be refused half-way). *waited_us (when given)
  // receives the wait in microseconds.
  Slot take(uint64_t* waited_us = nullptr) const { return *acquire(false, waited_us); }
  // As take(), but refuses (nullopt, at once) when all slots are taken and max_waiting requests
  // already wait.
  std::optional<Slot> tryTake(uint64_t* waited_us = nullptr) const { return acquire(true, waited_us); }

 private:
  // A request waiting for a slot; release() hands it one by setting `granted` (under mutex_).
  struct Waiter {
    std::condition_variable cv;
    bool granted = false;
  };

  std::optional<Slot> acquire(bool bounded, uint64_t* waited_us) const {
    const auto start = std::chrono::steady_clock::now();
    {
      std::unique_lock lock(mutex_);
      if (in_use_ < capacity_ && queue_.empty()) {
        ++in_use_;
      } else {
        if (bounded && max_waiting_ >= 0 && waiting_ >= static_cast<uint64_t>(max_waiting_)) return std::nullopt;
        Waiter self;
        queue_.push_back(&self);
        ++waiting_;
        self.cv.wait(lock, [&] { return self.granted; });  // release() kept in_use_ and counted us out
      }
    }
    if (waited_us)
      *waited_us = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
    return std::optional<Slot>(std::in_place, *this);
  }
  void release() const {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) {
      --in_use_;
      return;
    }
    // The slot passes to the oldest waiter (in_use_ unchanged). Notified under the lock: the waiter cannot
    // return (and destroy its Waiter) before the lock is released.
    Waiter* next = queue_.front();
    queue_.pop_front();
    --waiting_;
    next->granted = true;
    next->cv.notify_one();
  }
  uint32_t capacity_ = 1;
  int64_t max_waiting_ = kUnbounded;
  mutable std::mutex mutex_;
  mutable std::deque<Waiter*> queue_;  // waiting requests, oldest first
  mutable uint32_t in_use_ = 0;
  mutable uint32_t waiting_ = 0;
};

}  // namespace ovms::serving
