#pragma once
// The pool of infer slots (nireq) that bounds how many inferences of one servable run at once.
//
// Thread-safety: thread-safe. mutex_ is a leaf lock (nothing else is taken while it is held).
// The capacity is set once, before the pool is shared.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace ovms::serving {

class InferSlots {
 public:
  // Holds one slot for its lifetime (released on every exit path, exceptions included).
  class Slot {
   public:
    explicit Slot(const InferSlots& pool) : pool_(&pool) {}
    ~Slot() { pool_->release(); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    const InferSlots* pool_;
  };

  void setCapacity(uint32_t n) { capacity_ = n ? n : 1; }
  uint32_t capacity() const { return capacity_; }
  uint32_t inUse() const {
    std::lock_guard lock(mutex_);
    return in_use_;
  }
  // Waits for a free slot; *waited_us (when given) receives the wait in microseconds.
  Slot take(uint64_t* waited_us = nullptr) const {
    const auto start = std::chrono::steady_clock::now();
    {
      std::unique_lock lock(mutex_);
      free_.wait(lock, [&] { return in_use_ < capacity_; });
      ++in_use_;
    }
    if (waited_us)
      *waited_us = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
    return Slot(*this);
  }

 private:
  void release() const {
    {
      std::lock_guard lock(mutex_);
      --in_use_;
    }
    free_.notify_one();
  }
  uint32_t capacity_ = 1;
  mutable std::mutex mutex_;
  mutable std::condition_variable free_;
  mutable uint32_t in_use_ = 0;
};

}  // namespace ovms::serving
