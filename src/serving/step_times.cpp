#include "serving/step_times.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/logging.h"

namespace ovms::serving {

const char* stepName(Step s) {
  switch (s) {
    case Step::kAcquire: return "acquire";
    case Step::kDecode: return "decode";
    case Step::kValidate: return "validate";
    case Step::kQueueWait: return "queue_wait";
    case Step::kEngine: return "engine";
    case Step::kInferOther: return "infer_other";
    case Step::kSelect: return "select";
    case Step::kEncode: return "encode";
    case Step::kTotal: return "total";
    case Step::kCount: break;
  }
  return "?";
}

void StepTimeRecorder::record(const RequestOrigin& origin, const std::string& model, const StepTimes& times) {
  std::string key = origin.api == Api::TensorFlowServing ? "TensorFlowServing " : "KServe ";
  key += origin.interface == Interface::GRPC ? "gRPC " : "REST ";
  key += model;
  std::lock_guard lock(mutex_);
  Sums& s = sums_[key];
  ++s.requests;
  for (int i = 0; i < kStepCount; ++i) s.ns[i] += times.ns[i];
}

std::string StepTimeRecorder::json() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  out << "{";
  bool first = true;
  for (const auto& [key, s] : sums_) {
    out << (first ? "" : ", ") << "\"" << logSafe(key, 256) << "\": {\"requests\": " << s.requests
        << ", \"us_per_request\": {";
    for (int i = 0; i < kStepCount; ++i)
      out << (i ? ", " : "") << "\"" << stepName(static_cast<Step>(i)) << "\": "
          << static_cast<double>(s.ns[i]) / 1000.0 / static_cast<double>(s.requests);
    out << "}}";
    first = false;
  }
  out << "}\n";
  return out.str();
}

std::shared_ptr<StepTimeRecorder> StepTimeRecorder::fromEnvironment() {
  const char* file = std::getenv("OVMS_STEP_TIMES_FILE");
  if (!file || !*file) return nullptr;
  return std::make_shared<StepTimeRecorder>();
}

bool StepTimeRecorder::writeToEnvironmentFile() const {
  const char* file = std::getenv("OVMS_STEP_TIMES_FILE");
  if (!file || !*file) return false;
  std::ofstream out(file, std::ios::trunc);
  out << json();
  out.close();
  if (!out) {
    SERVING_LOG(warn, "Cannot write the step times to {}", file);
    return false;
  }
  SERVING_LOG(info, "Step times written to {}", file);
  return true;
}

}  // namespace ovms::serving
