#include "serving/model_manager.h"

#include "common/logging.h"
#include "storage/filesystem.h"

namespace ovms::serving {

constexpr std::chrono::milliseconds kWaitForLoading{10000};

ModelManager::~ModelManager() { stop(); }

Status ModelManager::startSingleModel(const ModelConfig& config) {
  if (config.base_path.find("..") != std::string::npos) return StatusCode::PATH_INVALID;
  auto fs = storage::fileSystemFor(config.base_path);
  if (!fs || !fs->isDirectory(config.base_path)) {
    MODEL_LOG(err, "Directory does not exist: {}", config.base_path);
    return StatusCode::PATH_INVALID;
  }
  auto model = std::make_shared<Model>(config);
  {
    std::lock_guard lock(mutex_);
    models_[config.name] = model;
  }
  Status st = model->reconcile(config, false);
  ready_ = true;
  return st.code() == StatusCode::PATH_INVALID ? st : Status(StatusCode::OK);
}

void ModelManager::startWatcher(std::chrono::seconds interval) {
  if (interval.count() == 0 || watcher_.joinable()) return;
  watcher_ = std::thread([this, interval] { watch(interval); });
}

void ModelManager::watch(std::chrono::seconds interval) {
  MODEL_LOG(info, "Started model manager thread");
  std::unique_lock lock(stop_mutex_);
  while (!stop_cv_.wait_for(lock, interval, [&] { return stopping_; })) {
    lock.unlock();
    reloadVersions();
    lock.lock();
  }
  MODEL_LOG(info, "Stopped model manager thread");
}

void ModelManager::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

Status ModelManager::reloadVersions() {
  Status first = StatusCode::OK;
  for (auto& m : models()) {
    Status st = m->reconcile(m->config(), false);
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

Status ModelManager::findModel(const std::string& name, std::shared_ptr<Model>* out) const {
  std::lock_guard lock(mutex_);
  auto it = models_.find(name);
  if (it == models_.end()) return StatusCode::MODEL_NAME_MISSING;
  *out = it->second;
  return StatusCode::OK;
}

Status ModelManager::acquire(const std::string& name, int64_t version, std::shared_ptr<const Servable>* servable,
                             int64_t* resolved_version, bool wait_for_loading) const {
  std::shared_ptr<Model> model;
  Status st = findModel(name, &model);
  if (!st.ok()) return st;
  std::shared_ptr<ModelVersion> mv;
  st = model->findVersion(version, &mv);
  if (!st.ok()) return st;
  *resolved_version = mv->version();
  return mv->acquire(wait_for_loading ? kWaitForLoading : std::chrono::milliseconds(0), servable);
}

std::vector<std::shared_ptr<Model>> ModelManager::models() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Model>> out;
  for (auto& [n, m] : models_) out.push_back(m);
  return out;
}

}  // namespace ovms::serving
