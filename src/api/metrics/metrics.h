#pragma once
// Prometheus metrics (spec §8): the enabled metric families, the per model-version series (created
// with value 0 when a version becomes AVAILABLE, kept when it retires), the text exposition served
// at GET /metrics, and RequestMetrics, the one object each API handler creates per request.
#include <cstdint>
#include <map>
#include <tuple>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "serving/cli.h"
#include "serving/config_file.h"
#include "serving/inference_path.h"
#include "serving/model_manager.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace ovms::api::metrics {

// Which families are on. `enabled` false = /metrics answers 400 and nothing is recorded.
struct MetricsConfig {
  bool enabled = false;
  std::set<std::string> families;
};

// The families enabled without a metrics_list (§8), MediaPipe ones included.
const std::vector<std::string>& defaultFamilies();

// Builds the config from --metrics_enable/--metrics_list, or from config.json's `monitoring`
// (the manager already rejected "both" and checked its list). An unknown family in the CLI list
// fails with INVALID_METRICS_FAMILY_NAME-like CONFIG_FILE_INVALID (the server exits 1).
Status resolveConfig(const serving::ServerSettings& settings, const serving::MetricsSettings& config_file,
                     MetricsConfig* out);

// The labels come from the request model: one enum for metrics, logs and the path's options.
using Api = serving::Api;
using Interface = serving::Interface;
using Method = serving::Method;

// Series of one model version (pointers owned by the prometheus registry; null = family off).
struct VersionSeries {
  // [api][interface][method-slot] with method-slot 0 = infer, 1 = metadata, 2 = status/ready.
  prometheus::Counter* success[2][2][3] = {};
  prometheus::Counter* fail[2][2][3] = {};
  prometheus::Histogram* request_time[2] = {};
  prometheus::Histogram* inference_time = nullptr;
  prometheus::Histogram* wait_for_infer_req_time = nullptr;
  prometheus::Gauge* streams = nullptr;
  prometheus::Gauge* current_requests = nullptr;
  prometheus::Gauge* infer_req_queue_size = nullptr;
  prometheus::Gauge* infer_req_active = nullptr;
};

// Thread-safety: thread-safe. mutex_ guards series_ (the map); the prometheus series it points to
// are thread-safe themselves and never freed while the process runs, so request threads update
// them without any lock of ours.
class ServerMetrics {
 public:
  explicit ServerMetrics(MetricsConfig config);
  ~ServerMetrics();
  bool enabled() const { return config_.enabled; }
  bool familyEnabled(const std::string& family) const { return config_.families.count(family) > 0; }

  // Creates (idempotently) every series of name/version at 0 and sets the gauges known at load.
  void onVersionAvailable(const std::string& name, int64_t version, const serving::Servable& servable);
  // Creates (idempotently) the series of a pipeline, version "1": requests only (no engine series).
  const VersionSeries* onPipelineAvailable(const std::string& name);
  // Series of name/version, or nullptr when the version never became AVAILABLE.
  const VersionSeries* find(const std::string& name, int64_t version) const;
  // Any version's series of `name` (for GetModelStatus / ModelReady, whose series have no version).
  const VersionSeries* findAny(const std::string& name) const;
  // Prometheus text exposition (format 0.0.4). Refreshes ovms_infer_req_active from `manager` first.
  std::string render(const serving::ModelManager& manager);
  // A request refused by a server-wide limit before it reached a model (issue 9; not an OVMS
  // family): ovms_requests_refused{interface, reason}. The family appears with the first refusal.
  // `name` (a model refusing for its own limit, e.g. reason "queue_full") adds a name label.
  void onRequestRefused(Interface interface, const std::string& reason, const std::string& name = {});

 private:
  MetricsConfig config_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* success_ = nullptr;
  prometheus::Family<prometheus::Counter>* fail_ = nullptr;
  prometheus::Family<prometheus::Histogram>* request_time_ = nullptr;
  prometheus::Family<prometheus::Histogram>* inference_time_ = nullptr;
  prometheus::Family<prometheus::Histogram>* wait_time_ = nullptr;
  prometheus::Family<prometheus::Gauge>* streams_ = nullptr;
  prometheus::Family<prometheus::Gauge>* current_requests_ = nullptr;
  prometheus::Family<prometheus::Gauge>* queue_size_ = nullptr;
  prometheus::Family<prometheus::Gauge>* active_ = nullptr;
  prometheus::Family<prometheus::Histogram>* dynamic_batch_size_ = nullptr;  // guarded by mutex_
  std::mutex refused_mutex_;  // guards refused_ and refused_series_
  prometheus::Family<prometheus::Counter>* refused_ = nullptr;
  std::map<std::tuple<int, std::string, std::string>, prometheus::Counter*> refused_series_;
  mutable std::mutex mutex_;  // guards series_
  // The series of name/version, created at 0 on first use (engine: the engine families too).
  VersionSeries* createSeriesLocked(const std::string& name, int64_t version, bool engine);
  std::map<std::pair<std::string, int64_t>, std::unique_ptr<VersionSeries>> series_;
};

// The process-wide instance (nullptr until the server installs one; then for the process' life).
void install(std::shared_ptr<ServerMetrics> metrics);
ServerMetrics* instance();

// Bucket boundaries of every histogram: floor(10 * 1.8^i), i = 0..32.
const std::vector<double>& bucketBoundaries();

// One request's metrics, created by the API handler on receipt. It resolves name/version the way
// the request will (0 = default version); a request for an unknown model or version is not
// counted (OVMS counts only requests that reached a model instance). On destruction it counts
// success or failure (the status given to done(); none given = failure), and for Predict /
// ModelInfer observes the request time (success only) and maintains ovms_current_requests.
// It also writes the request's DEBUG log line (serving::logRequest) unless told not to (the
// inference path logs inferences itself).
// Thread-safety: belongs to the request's thread (no sharing).
class RequestMetrics {
 public:
  RequestMetrics(const serving::ModelManager& manager, Api api, Interface interface, Method method,
                 const std::string& name, int64_t version, bool log_request = true);
  // Resolved later (the inference path: it knows the model version only once it has found it): by
  // attach() with the version's series, or by resolve() with the request's name and version. No log line.
  RequestMetrics(Api api, Interface interface, Method method);
  ~RequestMetrics();
  RequestMetrics(const RequestMetrics&) = delete;
  RequestMetrics& operator=(const RequestMetrics&) = delete;

  void done(const Status& st) {
    ok_ = st.ok();
    status_ = st;
  }
  // The request turned out not to reach the model (OVMS checks it before the lookup): count nothing.
  void discard();
  // The engine ran for this request: records the nireq wait and the engine time.
  void recordInference(uint64_t queue_wait_us, uint64_t inference_us);
  // Deferred resolution (call one of them once): the request's series (nullptr: not counted), or the
  // lookup the first constructor does.
  void attach(const VersionSeries* series);
  void resolve(const serving::ModelManager& manager, const std::string& name, int64_t version);

 private:
  const VersionSeries* series_ = nullptr;
  Api api_;
  Interface interface_;
  Method method_;
  bool ok_ = false;
  int64_t start_ns_ = 0;  // the request's receipt (request time and log line)
  // For the log line.
  bool log_request_ = true;
  std::string name_;
  int64_t version_ = 0;
  Status status_ = StatusCode::INTERNAL_ERROR;
};

// The inference path's observer: one RequestMetrics per inference (Predict / ModelInfer, every
// front end, the KServe stream included).
class InferenceMetrics final : public serving::InferenceObserver {
 public:
  explicit InferenceMetrics(const serving::ModelManager& manager) : manager_(manager) {}
  std::unique_ptr<Scope> begin(const serving::InferenceRequest& request) override;

 private:
  const serving::ModelManager& manager_;
};

}  // namespace ovms::api::metrics
