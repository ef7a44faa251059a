#pragma once
// Owns every served model, loads them at start, and keeps them in step with the repository
// (and, in config mode, with config.json) from a watcher thread.
//
// Thread-safety: thread-safe. Request threads call findModel()/acquire()/models() concurrently
// with the watcher and with POST /v1/config/reload. mutex_ guards models_ (the name -> Model map)
// only and is never held while a model loads or while a Model's locks are taken; reload_mutex_
// serialises config reloads and version scans (serving never takes it). Lock order:
// ModelManager::reload_mutex_ -> Model (reconcile_mutex_ -> mutex_) -> ModelVersion::mutex_.
// The start calls, startWatcher(), stop() and setVersionLoadedCallback() are for the owning thread.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "serving/config_file.h"
#include "serving/model.h"
#include "serving/pipeline/pipeline.h"

namespace ovms::serving {

// What config-file mode needs to know about the command line.
struct ConfigStartOptions {
  bool cli_metrics_enable = false;  // --metrics_enable given (conflicts with config.json monitoring)
  bool rest_port_set = true;        // --rest_port != 0 (metrics need it)
  std::string cache_dir;            // applied to every model (--cache_dir, or /opt/cache)
  // Called with the file's (validated) metrics settings before any model loads; an error stops
  // the start with that status.
  std::function<Status(const MetricsSettings&)> on_metrics_settings;
};

class ModelManager {
 public:
  ModelManager() = default;
  ~ModelManager();

  // Single-model mode: loads `config`. A missing base path fails with PATH_INVALID.
  Status startSingleModel(const ModelConfig& config);
  // Config-file mode (§2): reads and validates config.json (a directory means <dir>/config.json)
  // and loads every model. Fails (the server exits 1) when the file cannot be read, is not JSON,
  // fails the schema, or its metrics settings are invalid; single-model failures do not fail it.
  Status startFromConfigFile(const std::string& config_path, const ConfigStartOptions& options = {});
  // Valid once the start call returned.
  bool configMode() const { return !config_path_.empty(); }
  const std::string& configPath() const { return config_path_; }
  // `monitoring.metrics` from config.json, read once at start.
  const MetricsSettings& metricsSettings() const { return metrics_; }

  // Starts the watcher (no-op for interval 0). Logs "Started model manager thread".
  void startWatcher(std::chrono::seconds interval);
  void stop();

  // POST /v1/config/reload step 1: reloads config.json when its content changed since the last
  // load or the last load failed. OK_NOT_RELOADED (nothing to do, or single-model mode),
  // OK_RELOADED, CONFIG_FILE_INVALID (cannot read), JSON_INVALID (parse/schema; nothing changed),
  // or the first per-model error (the other models were applied).
  Status reloadConfigFile();
  // Re-scans every model's version folders now.
  Status reloadVersions();

  Status findModel(const std::string& name, std::shared_ptr<Model>* out) const;
  // Resolves name+version (0 = default) and, for inference, waits while the version loads.
  Status acquire(const std::string& name, int64_t version, std::shared_ptr<const Servable>* servable,
                 int64_t* resolved_version, bool wait_for_loading = true) const;
  std::vector<std::shared_ptr<Model>> models() const;  // sorted by name, retired ones included

  bool ready() const { return ready_.load(); }
  // Shutdown has begun: readiness answers false from now on.
  void setNotReady() { ready_ = false; }

  // DAG pipelines (§9): served under their own name, always version 1. PIPELINE_DEFINITION_NAME_MISSING
  // when no pipeline has that name (retired ones are kept and reported as END).
  Status findPipeline(const std::string& name, std::shared_ptr<pipeline::PipelineDefinition>* out) const;
  std::vector<std::shared_ptr<pipeline::PipelineDefinition>> pipelines() const;  // sorted by name

  // Observer of version loads (metrics create their series there). Set it before the start call.
  void setVersionLoadedCallback(VersionLoadedCallback callback);

 private:
  struct ReconcileJob {
    std::shared_ptr<Model> model;
    ModelConfig config;
  };
  // Reconciles each model with its config, several models at once; results in the jobs' order.
  static std::vector<Status> reconcileConcurrently(const std::vector<ReconcileJob>& jobs);
  void watch(std::chrono::seconds interval);
  // All below require reload_mutex_.
  Status reloadConfigLocked(bool only_if_changed);
  Status applyConfig(const ConfigFileContent& content);
  Status reloadVersionsLocked();
  std::vector<std::string> watchedPathsLocked() const;
  // Applies pipeline_config_list and custom_node_library_config_list; returns the first error.
  Status applyPipelinesLocked(const ConfigFileContent& content);
  // Revalidates every pipeline of the current config whose models or libraries changed.
  Status revalidatePipelinesLocked();

  mutable std::mutex mutex_;   // guards models_ (the map) only; never held while loading
  std::map<std::string, std::shared_ptr<Model>> models_;
  std::atomic<bool> ready_{false};

  // One config reload / version scan at a time; serving never takes it.
  std::mutex reload_mutex_;
  std::map<std::string, ModelConfig> active_;  // models the current config serves
  std::string config_path_;
  uint64_t config_hash_ = 0;
  Status last_config_status_ = StatusCode::OK;
  MetricsSettings metrics_;
  std::string cache_dir_;
  std::shared_ptr<const VersionLoadedCallback> on_loaded_;
  std::map<std::string, std::shared_ptr<pipeline::PipelineDefinition>> pipelines_;  // guarded by mutex_
  std::vector<pipeline::PipelineConfig> active_pipelines_;                             // reload_mutex_
  pipeline::NodeLibraryRegistry node_libraries_;

  std::thread watcher_;
  std::atomic<bool> stopping_{false};
  int wake_pipe_[2] = {-1, -1};
};

}  // namespace ovms::serving
