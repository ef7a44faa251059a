#pragma once
// A served model: its versions and their states (TF-Serving numbering), the default-version rule,
// and reconciliation of what is loaded with what the repository and the version policy ask for.
#include <chrono>
#include <condition_variable>
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

class ModelVersion {
 public:
  ModelVersion(std::string model_name, int64_t version);
  int64_t version() const { return version_; }
  const std::string& modelName() const { return model_name_; }
  VersionState state() const;
  VersionError error() const;
  std::shared_ptr<const Servable> servable() const;

  // Loads (or reloads) from `dir`. A reload keeps the current servable serving until its
  // replacement is ready. Returns the load status.
  Status load(const std::string& dir, const ModelConfig& config);
  // UNLOADING -> END; in-flight requests keep their servable alive until they finish.
  void retire();
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
};

class Model {
 public:
  explicit Model(ModelConfig config);
  const std::string& name() const { return name_; }
  ModelConfig config() const;

  // Applies `config` (possibly changed) and the repository's current version folders.
  // `force_reload` reloads every wanted version (a reload-relevant config change).
  Status reconcile(const ModelConfig& config, bool force_reload);
  // Retires every version (model removed from config).
  void retireAll();

  // version 0 = default (highest AVAILABLE).
  Status findVersion(int64_t version, std::shared_ptr<ModelVersion>* out) const;
  std::vector<std::shared_ptr<ModelVersion>> versions() const;  // ascending

 private:
  const std::string name_;
  mutable std::mutex mutex_;       // guards config_ and versions_ (the map, not the versions)
  std::mutex reconcile_mutex_;     // one reconcile at a time
  ModelConfig config_;
  std::map<int64_t, std::shared_ptr<ModelVersion>> versions_;
};

}  // namespace ovms::serving
