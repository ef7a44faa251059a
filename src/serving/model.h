#pragma once
// A served model: its versions and their states (TF-Serving numbering), the default-version rule,
// and reconciliation of what is loaded with what the repository and the version policy ask for.
//
// Thread-safety (in the style of TF Serving's core/basic_manager.h):
// - ModelVersion is thread-safe. mutex_ guards state_, error_, servable_ and loaded_config_; it is
//   never held while a servable loads (Servable::load runs unlocked, then the result is swapped in
//   under the lock) nor while callbacks or logging run.
// - Model is thread-safe. mutex_ guards config_, versions_ (the map, not the versions) and
//   on_loaded_; reconcile_mutex_ serialises reconcile()/retireAll()/invalidateAll() (one watcher
//   or reload at a time) and is held while versions load; request threads never take it.
// - Lock order: Model::reconcile_mutex_ -> Model::mutex_ -> ModelVersion::mutex_. A thread holding
//   a ModelVersion's mutex never takes a Model's. Servable's slot mutex is a leaf below all three.
// - Requests hold shared_ptr<const Servable>: a retired or replaced servable is freed by the last
//   request using it, never under any of these locks.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "serving/model_config.h"
#include "serving/servable.h"

namespace ovms::serving {

enum class VersionState { START = 10, LOADING = 20, AVAILABLE = 30, UNLOADING = 40, END = 50 };
enum class VersionError { OK = 0, UNKNOWN = 2, FAILED_PRECONDITION = 9 };
const char* stateName(VersionState s);
const char* versionErrorName(VersionError e);

// Called when a version has loaded a servable, right before it becomes AVAILABLE (also on reloads).
using VersionLoadedCallback = std::function<void(const std::string& model, int64_t version, const Servable&)>;

class ModelVersion {
 public:
  ModelVersion(std::string model_name, int64_t version);
  int64_t version() const { return version_; }
  const std::string& modelName() const { return model_name_; }
  VersionState state() const;
  VersionError error() const;
  std::shared_ptr<const Servable> servable() const;
  // Why the last load failed (the load status' message); empty when it did not fail.
  std::string errorMessage() const;

  // Loads (or reloads) from `dir`. A reload keeps the current servable serving until its
  // replacement is ready. Returns the load status.
  Status load(const std::string& dir, const ModelConfig& config, const VersionLoadedCallback* on_loaded = nullptr);
  // UNLOADING -> END; in-flight requests keep their servable alive until they finish.
  void retire();
  // The model's config became invalid: drop the servable, LOADING / UNKNOWN (§2.2).
  void invalidate();
  // True when the current servable was loaded with load settings equal to `config`'s (§4.4).
  bool loadedWith(const ModelConfig& config) const;
  // Retry schedule after failed loads: a version whose last load failed with the same load settings
  // and the same files (`files_signature`) is tried again only after a backoff that doubles with
  // every failure (kRetryBackoffFirst .. kRetryBackoffMax); changed files or settings retry at once.
  bool retryDue(const ModelConfig& config, uint64_t files_signature) const;
  void recordLoadAttempt(const Status& result, const ModelConfig& config, uint64_t files_signature);
  Status lastFailure() const;  // status of the last failed load attempt (OK when none)
  static constexpr std::chrono::milliseconds kRetryBackoffFirst{2000};
  static constexpr std::chrono::milliseconds kRetryBackoffMax{60000};
  // For inference: waits up to `wait` while the version is loading.
  Status acquire(std::chrono::milliseconds wait, std::shared_ptr<const Servable>* out) const;

 private:
  void setState(VersionState s, VersionError e);
  const std::string model_name_;
  const int64_t version_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  VersionState state_ = VersionState::START;
  VersionError error_ = VersionError::OK;
  std::shared_ptr<const Servable> servable_;
  ModelConfig loaded_config_;  // the config servable_ was loaded with
  std::string error_message_;
  // Failed-load bookkeeping (see retryDue).
  unsigned failures_ = 0;
  std::chrono::steady_clock::time_point next_retry_{};
  ModelConfig failed_config_;
  uint64_t failed_signature_ = 0;
  Status failed_status_ = StatusCode::OK;
};

// Names, sizes and modification times of every file under `dir` hashed together (0 when it cannot
// be read): changes when the version's files change.
uint64_t filesSignature(const std::string& dir);

class Model {
 public:
  explicit Model(ModelConfig config);
  const std::string& name() const { return name_; }
  ModelConfig config() const;

  // Applies `config` (possibly changed) and the repository's current version folders: starts
  // versions the policy asks for, reloads those loaded with different load settings (§4.4), that
  // failed before or were retired, and retires the rest. Loads happen without any lock a request
  // takes; a reloaded version keeps serving its old servable until the new one is ready.
  // `force_reload` reloads every wanted version even if its load settings did not change.
  Status reconcile(const ModelConfig& config, bool force_reload);
  // Observer of successful version loads (set before the first reconcile).
  void setLoadedCallback(std::shared_ptr<const VersionLoadedCallback> callback);
  // Retires every version (model removed from config).
  void retireAll();
  // Unloads every version to LOADING / UNKNOWN (the model's new config is invalid).
  void invalidateAll();

  // version 0 = default (highest AVAILABLE).
  Status findVersion(int64_t version, std::shared_ptr<ModelVersion>* out) const;
  std::vector<std::shared_ptr<ModelVersion>> versions() const;  // ascending

 private:
  const std::string name_;
  mutable std::mutex mutex_;       // guards config_ and versions_ (the map, not the versions)
  std::mutex reconcile_mutex_;     // one reconcile at a time
  ModelConfig config_;
  std::map<int64_t, std::shared_ptr<ModelVersion>> versions_;
  std::shared_ptr<const VersionLoadedCallback> on_loaded_;
};

}  // namespace ovms::serving
