#pragma once
// Owns every served model, loads them at start, and keeps them in step with the repository
// (and, in config mode, with config.json) from a watcher thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "serving/model.h"

namespace ovms::serving {

class ModelManager {
 public:
  ModelManager() = default;
  ~ModelManager();

  // Single-model mode: loads `config`. A missing base path fails with PATH_INVALID.
  Status startSingleModel(const ModelConfig& config);
  // Starts the watcher (no-op for interval 0). Logs "Started model manager thread".
  void startWatcher(std::chrono::seconds interval);
  void stop();

  // Re-scans every model's version folders now.
  Status reloadVersions();

  Status findModel(const std::string& name, std::shared_ptr<Model>* out) const;
  // Resolves name+version (0 = default) and, for inference, waits while the version loads.
  Status acquire(const std::string& name, int64_t version, std::shared_ptr<const Servable>* servable,
                 int64_t* resolved_version, bool wait_for_loading = true) const;
  std::vector<std::shared_ptr<Model>> models() const;  // sorted by name

  bool ready() const { return ready_.load(); }

 private:
  void watch(std::chrono::seconds interval);
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Model>> models_;
  std::atomic<bool> ready_{false};
  std::thread watcher_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

}  // namespace ovms::serving
