#include "api/metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "common/logging.h"

namespace ovms::api::metrics {

namespace {

constexpr const char* kRequestsSuccess = "ovms_requests_success";
constexpr const char* kRequestsFail = "ovms_requests_fail";
constexpr const char* kRequestTime = "ovms_request_time_us";
constexpr const char* kInferenceTime = "ovms_inference_time_us";
constexpr const char* kWaitTime = "ovms_wait_for_infer_req_time_us";
constexpr const char* kStreams = "ovms_streams";
constexpr const char* kCurrentRequests = "ovms_current_requests";
constexpr const char* kQueueSize = "ovms_infer_req_queue_size";
constexpr const char* kActive = "ovms_infer_req_active";
constexpr const char* kDynamicBatchSize = "ovms_dynamic_batch_size";

std::shared_ptr<ServerMetrics> g_instance;
std::atomic<ServerMetrics*> g_instance_ptr{nullptr};

const char* apiLabel(int a) { return a == 0 ? "TensorFlowServing" : "KServe"; }
const char* interfaceLabel(int i) { return i == 0 ? "gRPC" : "REST"; }
const char* methodLabel(int api, int slot) {
  static const char* const names[2][3] = {{"Predict", "GetModelMetadata", "GetModelStatus"},
                                          {"ModelInfer", "ModelMetadata", "ModelReady"}};
  return names[api][slot];
}
int methodSlot(Method m) {
  switch (m) {
    case Method::Predict:
    case Method::ModelInfer: return 0;
    case Method::GetModelMetadata:
    case Method::ModelMetadata: return 1;
    case Method::GetModelStatus:
    case Method::ModelReady: return 2;
  }
  return 0;
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const std::vector<std::string>& defaultFamilies() {
  static const std::vector<std::string> families = {
      kRequestsSuccess, kRequestsFail, kRequestTime, kStreams, kInferenceTime, kWaitTime, kCurrentRequests,
      // MediaPipe families: on by default in OVMS; this server has no MediaPipe graphs, so they
      // never get a series (and prometheus-cpp prints no family without series).
      "ovms_current_graphs", "ovms_requests_accepted", "ovms_requests_rejected", "ovms_responses",
      "ovms_graph_error", "ovms_graph_processing_time_us"};
  return families;
}

const std::vector<double>& bucketBoundaries() {
  static const std::vector<double> buckets = [] {
    std::vector<double> b;
    for (int i = 0; i < 33; ++i) b.push_back(std::floor(10.0 * std::pow(1.8, i)));
    return b;
  }();
  return buckets;
}

Status resolveConfig(const serving::ServerSettings& settings, const serving::MetricsSettings& config_file,
                     MetricsConfig* out) {
  MetricsConfig c;
  std::vector<std::string> list;
  if (settings.metrics_enable) {
    c.enabled = true;
    list = splitList(settings.metrics_list);
    for (const auto& family : list) {
      if (!serving::isKnownMetricFamily(family))
        return Status(StatusCode::CONFIG_FILE_INVALID, "Metrics family name not supported: " + family);
    }
  } else if (config_file.configured && config_file.enable) {
    c.enabled = true;
    list = config_file.metrics_list;
  }
  if (c.enabled) {
    if (list.empty()) {
      list = defaultFamilies();
      list.push_back(kDynamicBatchSize);  // has series only for models with dynamic_batching
    }
    c.families.insert(list.begin(), list.end());
  }
  *out = std::move(c);
  return StatusCode::OK;
}

ServerMetrics::ServerMetrics(MetricsConfig config)
    : config_(std::move(config)), registry_(std::make_shared<prometheus::Registry>()) {
  if (!config_.enabled) return;
  auto on = [&](const char* name) { return familyEnabled(name); };
  if (on(kRequestsSuccess))
    success_ = &prometheus::BuildCounter().Name(kRequestsSuccess).Help("Number of successful requests to a model or a DAG.").Register(*registry_);
  if (on(kRequestsFail))
    fail_ = &prometheus::BuildCounter().Name(kRequestsFail).Help("Number of failed requests to a model or a DAG.").Register(*registry_);
  if (on(kRequestTime))
    request_time_ = &prometheus::BuildHistogram().Name(kRequestTime).Help("Processing time of requests to a model or a DAG.").Register(*registry_);
  if (on(kInferenceTime))
    inference_time_ = &prometheus::BuildHistogram().Name(kInferenceTime).Help("Inference execution time in the OpenVINO backend.").Register(*registry_);
  if (on(kWaitTime))
    wait_time_ = &prometheus::BuildHistogram().Name(kWaitTime).Help("Request waiting time in the scheduling queue.").Register(*registry_);
  if (on(kStreams))
    streams_ = &prometheus::BuildGauge().Name(kStreams).Help("Number of OpenVINO execution streams.").Register(*registry_);
  if (on(kQueueSize))
    queue_size_ = &prometheus::BuildGauge().Name(kQueueSize).Help("Inference request queue size (nireq).").Register(*registry_);
  if (on(kActive))
    active_ = &prometheus::BuildGauge().Name(kActive).Help("Number of currently consumed inference request from the processing queue.").Register(*registry_);
  if (on(kCurrentRequests))
    current_requests_ = &prometheus::BuildGauge().Name(kCurrentRequests).Help("Number of inference requests currently in process.").Register(*registry_);
}

ServerMetrics::~ServerMetrics() = default;

const VersionSeries* ServerMetrics::onPipelineAvailable(const std::string& name) {
  if (!config_.enabled) return nullptr;
  std::lock_guard lock(mutex_);
  return createSeriesLocked(name, serving::pipeline::PipelineDefinition::kVersion, /*engine=*/false);
}

void ServerMetrics::onVersionAvailable(const std::string& name, int64_t version, const serving::Servable& servable) {
  if (!config_.enabled) return;
  std::lock_guard lock(mutex_);
  VersionSeries* slot = createSeriesLocked(name, version, /*engine=*/true);
  // A reload keeps the series (and their values); the load-time gauges follow the new servable.
  if (slot->streams) slot->streams->Set(servable.streams());
  if (slot->infer_req_queue_size) slot->infer_req_queue_size->Set(servable.nireq());
  // Dynamic batching (not in OVMS): rows of every engine run, a family only batching models have.
  if (const auto* batcher = servable.dynamicBatcher(); batcher && familyEnabled(kDynamicBatchSize)) {
    if (!dynamic_batch_size_)
      dynamic_batch_size_ = &prometheus::BuildHistogram()
                                 .Name(kDynamicBatchSize)
                                 .Help("Rows (requests' batch sizes summed) of each engine run of dynamic batching.")
                                 .Register(*registry_);
    std::vector<double> buckets;
    for (double b = 1; b < batcher->config().max_batch_size; b *= 2) buckets.push_back(b);
    buckets.push_back(batcher->config().max_batch_size);
    auto* histogram = &dynamic_batch_size_->Add({{"name", name}, {"version", std::to_string(version)}}, buckets);
    servable.setBatchObserver([histogram](size_t rows) { histogram->Observe(static_cast<double>(rows)); });
  }
}

VersionSeries* ServerMetrics::createSeriesLocked(const std::string& name, int64_t version, bool engine) {
  auto& slot = series_[{name, version}];
  if (!slot) {
    auto s = std::make_unique<VersionSeries>();
    const std::string v = std::to_string(version);
    for (int a = 0; a < 2; ++a)
      for (int i = 0; i < 2; ++i)
        for (int m = 0; m < 3; ++m) {
          prometheus::Labels labels{{"api", apiLabel(a)}, {"interface", interfaceLabel(i)},
                                    {"method", methodLabel(a, m)}, {"name", name}};
          if (m != 2) labels["version"] = v;  // GetModelStatus / ModelReady have no version label
          if (success_) s->success[a][i][m] = &success_->Add(labels);
          if (fail_) s->fail[a][i][m] = &fail_->Add(labels);
        }
    if (request_time_)
      for (int i = 0; i < 2; ++i)
        s->request_time[i] = &request_time_->Add({{"interface", interfaceLabel(i)}, {"name", name}, {"version", v}},
                                                 bucketBoundaries());
    prometheus::Labels nv{{"name", name}, {"version", v}};
    if (current_requests_) s->current_requests = &current_requests_->Add(nv);
    // A pipeline (a DAG) has request series only: its model nodes count their own engine metrics (§8).
    if (engine) {
      if (inference_time_) s->inference_time = &inference_time_->Add(nv, bucketBoundaries());
      if (wait_time_) s->wait_for_infer_req_time = &wait_time_->Add(nv, bucketBoundaries());
      if (streams_) s->streams = &streams_->Add(nv);
      if (queue_size_) s->infer_req_queue_size = &queue_size_->Add(nv);
      if (active_) s->infer_req_active = &active_->Add(nv);
    }
    slot = std::move(s);
  }
  return slot.get();
}

const VersionSeries* ServerMetrics::find(const std::string& name, int64_t version) const {
  std::lock_guard lock(mutex_);
  auto it = series_.find({name, version});
  return it == series_.end() ? nullptr : it->second.get();
}

const VersionSeries* ServerMetrics::findAny(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = series_.lower_bound({name, std::numeric_limits<int64_t>::min()});
  return it == series_.end() || it->first.first != name ? nullptr : it->second.get();
}

std::string ServerMetrics::render(const serving::ModelManager& manager) {
  // Pipelines' series exist (at 0) from the moment they are available, as models' do.
  for (const auto& pipeline : manager.pipelines())
    if (pipeline->versionState() == serving::VersionState::AVAILABLE) onPipelineAvailable(pipeline->name());
  if (active_) {
    for (const auto& model : manager.models())
      for (const auto& mv : model->versions()) {
        const VersionSeries* s = find(model->name(), mv->version());
        if (!s || !s->infer_req_active) continue;
        auto servable = mv->servable();
        s->infer_req_active->Set(servable ? servable->slotsInUse() : 0);
      }
  }
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

void ServerMetrics::onRequestRefused(Interface interface, const std::string& reason, const std::string& name) {
  if (!config_.enabled) return;
  std::lock_guard lock(refused_mutex_);
  if (!refused_)
    refused_ = &prometheus::BuildCounter()
                    .Name("ovms_requests_refused")
                    .Help("Number of requests refused by a server limit before they reached a model.")
                    .Register(*registry_);
  auto& counter = refused_series_[{static_cast<int>(interface), reason, name}];
  if (!counter) {
    std::map<std::string, std::string> labels{{"interface", interface == Interface::GRPC ? "gRPC" : "REST"},
                                              {"reason", reason}};
    if (!name.empty()) labels.emplace("name", name);
    counter = &refused_->Add(labels);
  }
  counter->Increment();
}

void install(std::shared_ptr<ServerMetrics> metrics) {
  g_instance = std::move(metrics);
  g_instance_ptr = g_instance.get();
}

ServerMetrics* instance() { return g_instance_ptr.load(); }

RequestMetrics::RequestMetrics(const serving::ModelManager& manager, Api api, Interface interface, Method method,
                               const std::string& name, int64_t version, bool log_request)
    : RequestMetrics(api, interface, method) {
  log_request_ = log_request;
  if (log_request_) {
    name_ = name;
    version_ = version;
  }
  resolve(manager, name, version);
}

RequestMetrics::RequestMetrics(Api api, Interface interface, Method method)
    : api_(api), interface_(interface), method_(method), start_ns_(nowNs()), log_request_(false) {}

void RequestMetrics::resolve(const serving::ModelManager& manager, const std::string& name, int64_t version) {
  ServerMetrics* m = instance();
  if (!m || !m->enabled()) return;
  std::shared_ptr<serving::Model> model;
  if (!manager.findModel(name, &model).ok()) {
    // A pipeline: its name and version "1", whatever version the request gave (§8).
    std::shared_ptr<serving::pipeline::PipelineDefinition> pipeline;
    if (manager.findPipeline(name, &pipeline).ok()) attach(m->onPipelineAvailable(name));
    return;
  }
  std::shared_ptr<serving::ModelVersion> mv;
  const bool versionless = methodSlot(method_) == 2;
  if (model->findVersion(version, &mv).ok())
    attach(m->find(name, mv->version()));
  else if (versionless && version == 0)
    attach(m->findAny(name));  // no AVAILABLE version: the model's status is still reported
}

void RequestMetrics::attach(const VersionSeries* series) {
  series_ = series;
  if (series_ && methodSlot(method_) == 0 && series_->current_requests) series_->current_requests->Increment();
}

RequestMetrics::~RequestMetrics() {
  if (log_request_)
    serving::logRequest(name_, version_, {api_, interface_, method_}, status_, (nowNs() - start_ns_) / 1000);
  if (!series_) return;
  const int a = api_ == Api::TensorFlowServing ? 0 : 1;
  const int i = interface_ == Interface::GRPC ? 0 : 1;
  const int slot = methodSlot(method_);
  auto* counter = ok_ ? series_->success[a][i][slot] : series_->fail[a][i][slot];
  if (counter) counter->Increment();
  if (slot == 0) {
    if (series_->current_requests) series_->current_requests->Decrement();
    if (ok_ && series_->request_time[i])
      series_->request_time[i]->Observe(static_cast<double>(nowNs() - start_ns_) / 1000.0);
  }
}

void RequestMetrics::discard() {
  if (!series_) return;
  if (methodSlot(method_) == 0 && series_->current_requests) series_->current_requests->Decrement();
  series_ = nullptr;
}

void RequestMetrics::recordInference(uint64_t queue_wait_us, uint64_t inference_us) {
  if (!series_) return;
  if (series_->wait_for_infer_req_time) series_->wait_for_infer_req_time->Observe(static_cast<double>(queue_wait_us));
  if (series_->inference_time) series_->inference_time->Observe(static_cast<double>(inference_us));
}

namespace {

// Resolves the request's series from its target: once per model version (or pipeline plan), kept
// in the target's observer data, so a request costs no map lookup or lock of ours. A request that
// finds no target is resolved by name when it ends (RequestMetrics::resolve, as for every other
// method), so a request for a version that is not serving counts as it always did.
class InferenceMetricsScope final : public serving::InferenceObserver::Scope {
 public:
  InferenceMetricsScope(ServerMetrics& metrics, const serving::ModelManager& manager, const serving::InferenceRequest& request)
      : metrics_(metrics),
        manager_(manager),
        request_metrics_(request.origin.api, request.origin.interface, request.origin.method),
        interface_(request.origin.interface),
        name_(request.model_name),
        version_(request.model_version) {}

  void acquired(const serving::InferenceTarget& target, int64_t version) override {
    acquired_ = true;
    auto* series = static_cast<const VersionSeries*>(target.observerData());
    if (!series) {
      series = dynamic_cast<const serving::pipeline::Pipeline*>(&target) ? metrics_.onPipelineAvailable(name_)
                                                                         : metrics_.find(name_, version);
      if (series) target.setObserverData(series);
    }
    request_metrics_.attach(series);
  }

  void engineTimes(uint64_t queue_wait_us, uint64_t inference_us) override {
    request_metrics_.recordInference(queue_wait_us, inference_us);
  }

  void done(const Status& status) override {
    if (status.code() == StatusCode::INFER_QUEUE_FULL) metrics_.onRequestRefused(interface_, "queue_full", name_);
    if (!acquired_) request_metrics_.resolve(manager_, name_, version_);
    request_metrics_.done(status);
  }

 private:
  ServerMetrics& metrics_;
  const serving::ModelManager& manager_;
  RequestMetrics request_metrics_;  // counts the request when the scope ends
  Interface interface_;
  const std::string& name_;  // the request outlives its scope
  int64_t version_;
  bool acquired_ = false;
};

}  // namespace

std::unique_ptr<serving::InferenceObserver::Scope> InferenceMetrics::begin(const serving::InferenceRequest& request) {
  ServerMetrics* m = instance();
  if (!m || !m->enabled()) return nullptr;
  return std::make_unique<InferenceMetricsScope>(*m, manager_, request);
}

}  // namespace ovms::api::metrics
