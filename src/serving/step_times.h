#pragma once
// Where a request's time goes inside the server (issue 14, point 6): the inference path measures each
// of its steps and a StepTimeRecorder sums them per API and interface. Off unless the environment
// variable OVMS_STEP_TIMES_FILE names a file; then the sums are written there as JSON at shutdown
// (bench/step_times.py reads them). A diagnostic for benchmarks, not a user-facing metric: OVMS has
// no such metric family, and /metrics stays as OVMS's.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "serving/inference_request.h"

namespace ovms::serving {

// The steps of InferencePath::run, in order. kEngine and kQueueWait are the target's own timers
// (execution slot wait, engine run); kInferOther is the rest of the infer step (binding inputs,
// copying outputs, batching). kTotal runs from the path's entry to the encoded response.
enum class Step : int { kAcquire, kDecode, kValidate, kQueueWait, kEngine, kInferOther, kSelect, kEncode, kTotal, kCount };
constexpr int kStepCount = static_cast<int>(Step::kCount);
const char* stepName(Step s);

struct StepTimes {
  std::array<uint64_t, kStepCount> ns{};
  uint64_t& operator[](Step s) { return ns[static_cast<size_t>(s)]; }
};

class StepTimeRecorder {
 public:
  // Adds one successful request's times to its (API, interface, model) sums. Thread-safe (one short
  // lock: a benchmark diagnostic, never on in production).
  void record(const RequestOrigin& origin, const std::string& model, const StepTimes& times);
  // {"TensorFlowServing gRPC demo": {"requests": N, "us_per_request": {"acquire": x, ...}}, ...}
  std::string json() const;

  // The recorder named by OVMS_STEP_TIMES_FILE (created on first call), or nullptr when it is unset.
  static std::shared_ptr<StepTimeRecorder> fromEnvironment();
  // Writes json() to OVMS_STEP_TIMES_FILE; false (and a log line) when it cannot.
  bool writeToEnvironmentFile() const;

 private:
  struct Sums {
    uint64_t requests = 0;
    std::array<uint64_t, kStepCount> ns{};
  };
  mutable std::mutex mutex_;
  std::map<std::string, Sums> sums_;  // "<API> <interface> <model>"
};

}  // namespace ovms::serving
