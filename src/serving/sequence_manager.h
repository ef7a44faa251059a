#pragma once
// The sequences of one stateful model version (OVMS 2021.3 - 2026.2.1, docs/stateful.md): one
// state (a set of tensors) per sequence_id, created by a SEQUENCE_START request, used by the
// requests without control input and removed by SEQUENCE_END, by the idle sequence cleaner, or
// with the version (every loaded version owns its own store, so a reload drops all sequences).
//
// Rules and statuses as OVMS's SequenceManager:
//   start, id 0          -> a fresh unique id (the lowest unused one counting up from 1)
//   start, id in use     -> SEQUENCE_ALREADY_EXISTS, or SEQUENCE_TERMINATED while its END request runs
//   start, store full    -> MAX_SEQUENCE_NUMBER_REACHED (max_sequence_number)
//   none/end, id unknown -> SEQUENCE_MISSING (also while the sequence's END request runs)
//
// Thread-safety: every method may be called from any thread. The store's mutex guards the map
// only; each sequence has its own mutex, held by a Lease for the whole request, so the requests
// of one sequence run one at a time while different sequences run in parallel. Lock order: a
// sequence's mutex, then the store's; the store's mutex is never held while waiting for a
// sequence (the cleaner only tries its lock).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/tensor.h"

namespace ovms::serving {

enum SequenceControl : uint32_t { kNoControlInput = 0, kSequenceStart = 1, kSequenceEnd = 2 };

struct Sequence {
  explicit Sequence(uint64_t sequence_id) : id(sequence_id) {}
  const uint64_t id;
  std::mutex mutex;              // held by the lease of the request being processed
  // Guarded by `mutex`: the state after the last request (empty = the initial state).
  std::vector<engine::TensorView> state;
  // Guarded by the store's mutex.
  bool terminated = false;       // its END request is being processed
  std::atomic<bool> removed{false};  // no longer in the store: a request that raced with the removal fails
  bool idle = false;             // untouched since the cleaner's previous sweep
};

class SequenceStore {
 public:
  SequenceStore(uint32_t max_sequences, std::string model_name, int64_t version);

  // A request's hold on its sequence: the sequence is locked while the lease lives. A lease of an
  // END request removes the sequence from the store when it is destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&&) = default;
    Lease& operator=(Lease&& other) noexcept;  // releases the sequence held before
    ~Lease();
    uint64_t id() const { return sequence_ ? sequence_->id : 0; }
    uint32_t control() const { return control_; }
    // The state the request starts from (empty = initial state: always after a start).
    const std::vector<engine::TensorView>& state() const { return sequence_->state; }
    // Keeps the request's resulting state (ignored for END: the sequence is removed).
    void keep(std::vector<engine::TensorView> state) { sequence_->state = std::move(state); }

   private:
    friend class SequenceStore;
    void release();
    SequenceStore* store_ = nullptr;
    std::shared_ptr<Sequence> sequence_;
    std::unique_lock<std::mutex> lock_;
    uint32_t control_ = kNoControlInput;
  };

  // Processes a request's special inputs (already checked: control is 0, 1 or 2; the id is non-zero
  // unless control is start) and locks its sequence. The store must outlive the lease. A null
  // `lease` processes the request as one that ends at once.
  Status acquire(uint64_t sequence_id, uint32_t control, Lease* lease);

  // One sweep of the idle sequence cleaner: removes the sequences untouched since the previous
  // sweep (not those being processed) and marks the others idle. Returns how many were removed.
  size_t removeIdle();

  size_t size() const;
  uint32_t maxSequences() const { return max_sequences_; }

 private:
  void remove(const std::shared_ptr<Sequence>& sequence);
  uint64_t uniqueId();  // store mutex held

  const uint32_t max_sequences_;
  const std::string model_name_;
  const int64_t version_;
  mutable std::mutex mutex_;
  std::map<uint64_t, std::shared_ptr<Sequence>> sequences_;
  uint64_t next_id_ = 1;
};

// The idle sequence cleaner (--sequence_cleaner_poll_wait_minutes): one thread sweeping every
// registered store (models with idle_sequence_cleanup) once per interval. Stores are held weakly:
// a retired version's store goes away with its servable.
class SequenceCleaner {
 public:
  static SequenceCleaner& instance();
  void add(std::weak_ptr<SequenceStore> store);
  // Starts the sweeping thread (interval 0 = never). Idempotent; stop() joins the thread.
  void start(std::chrono::milliseconds interval);
  void stop();
  // One sweep over all stores now (the thread calls it once per interval).
  void sweep();
  ~SequenceCleaner();

 private:
  SequenceCleaner() = default;
  std::mutex mutex_;
  std::vector<std::weak_ptr<SequenceStore>> stores_;
  struct Worker;
  std::unique_ptr<Worker> worker_;
};

// The cleaner's interval for --sequence_cleaner_poll_wait_minutes (0 = off). Test-only: the
// environment variable OVMS_SEQUENCE_CLEANER_POLL_SECONDS, when set, gives it in seconds instead.
std::chrono::milliseconds sequenceCleanerInterval(uint32_t minutes);

}  // namespace ovms::serving
