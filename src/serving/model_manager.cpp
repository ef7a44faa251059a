#include "serving/model_manager.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>

#include "common/logging.h"
#include "common/cpu.h"
#include "storage/filesystem.h"

namespace ovms::serving {

constexpr std::chrono::milliseconds kWaitForLoading{10000};

namespace {
std::string joinChanges(const std::vector<std::string>& changes) {
  std::string out;
  for (const auto& c : changes) out += (out.empty() ? "" : "; ") + c;
  return out;
}
// OVMS ModelManager::reloadModelWithVersions: a stateful model takes no `auto` batch size or shape
// (it would be reloaded, and its sequences dropped, by requests of another shape).
Status checkStatefulOptions(const ModelConfig& m) {
  auto isAuto = [](const std::optional<std::string>& v) { return v && v->find("auto") != std::string::npos; };
  if (m.stateful && (isAuto(m.batch_size) || isAuto(m.shape))) {
    MODEL_LOG(err, "Requested setting dynamic parameters for stateful model {}. Dynamic shape and dynamic batch size "
                   "not supported for stateful models.", m.name);
    return StatusCode::REQUESTED_DYNAMIC_PARAMETERS_ON_STATEFUL_MODEL;
  }
  return StatusCode::OK;
}
}  // namespace
// After a file-system event the watcher waits for this much quiet before it rescans, so that a
// burst (mkdir + copy) is handled in one cycle; capped so a steady stream cannot starve it.
constexpr std::chrono::milliseconds kSettleQuiet{150};
constexpr std::chrono::milliseconds kSettleMax{1000};

ModelManager::~ModelManager() { stop(); }

std::vector<Status> ModelManager::reconcileConcurrently(const std::vector<ReconcileJob>& jobs) {
  std::vector<Status> results(jobs.size(), Status(StatusCode::OK));
  // Models are independent (each has its own locks; storage downloads lock per path), so a repository
  // of many models, or of models in S3/GCS/Azure, loads in the time of its slowest model rather than
  // of their sum. A few workers are enough: loads are downloads and session builds, not hot loops.
  const size_t workers = std::min<size_t>(jobs.size(), std::clamp<size_t>(usableCores(), 4, 16));
  if (workers <= 1) {
    for (size_t i = 0; i < jobs.size(); ++i) results[i] = jobs[i].model->reconcile(jobs[i].config, false);
    return results;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++) {
      try {
        results[i] = jobs[i].model->reconcile(jobs[i].config, false);
      } catch (const std::exception& e) {  // a load must never take the manager's thread down
        results[i] = Status(StatusCode::INTERNAL_ERROR, e.what());
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return results;
}

void ModelManager::setVersionLoadedCallback(VersionLoadedCallback callback) {
  on_loaded_ = std::make_shared<const VersionLoadedCallback>(std::move(callback));
}

Status ModelManager::startSingleModel(const ModelConfig& config) {
  if (config.base_path.find("..") != std::string::npos) return StatusCode::PATH_INVALID;
  auto fs = storage::fileSystemFor(config.base_path);
  if (!fs) {
    MODEL_LOG(err, "{}", storage::unsupportedSchemeMessage(config.base_path));
    return StatusCode::PATH_INVALID;
  }
  if (!fs->isDirectory(config.base_path)) {
    MODEL_LOG(err, "Directory does not exist: {}", config.base_path);
    return StatusCode::PATH_INVALID;
  }
  std::lock_guard reload_lock(reload_mutex_);
  if (Status stateful = checkStatefulOptions(config); !stateful.ok()) {
    MODEL_LOG(err, "Loading model {} failed: {}", config.name, stateful.message());
    ready_ = true;
    return StatusCode::OK;  // the server runs on without the model, as OVMS does
  }
  auto model = std::make_shared<Model>(config);
  model->setLoadedCallback(on_loaded_);
  {
    std::lock_guard lock(mutex_);
    models_[config.name] = model;
  }
  active_[config.name] = config;
  Status st = model->reconcile(config, false);
  ready_ = true;
  return st.code() == StatusCode::PATH_INVALID ? st : Status(StatusCode::OK);
}

Status ModelManager::startFromConfigFile(const std::string& config_path, const ConfigStartOptions& options) {
  std::lock_guard reload_lock(reload_mutex_);
  config_path_ = resolveConfigPath(config_path);
  std::string content;
  ConfigFileContent cfg;
  Status st = loadConfigFile(config_path_, &content, &cfg);
  if (!st.ok()) {
    MODEL_LOG(err, "Couldn't parse configuration file: {}", config_path_);
    return st;
  }
  if (cfg.metrics.configured) {
    if (options.cli_metrics_enable) {
      MODEL_LOG(err, "metrics_enable setting is set both in CLI and in the config file monitoring section");
      return Status(StatusCode::CONFIG_FILE_INVALID, "Metrics configured both in the command line and in the config file");
    }
    if (cfg.metrics.enable && !options.rest_port_set) {
      MODEL_LOG(err, "rest_port setting is missing, metrics are enabled on rest port");
      return Status(StatusCode::CONFIG_FILE_INVALID, "rest_port setting is missing, metrics are enabled on rest port");
    }
    for (const auto& family : cfg.metrics.metrics_list) {
      if (!isKnownMetricFamily(family)) {
        MODEL_LOG(err, "Metrics family name not supported: {}", family);
        return Status(StatusCode::CONFIG_FILE_INVALID, "Metrics family name not supported: " + family);
      }
    }
    metrics_ = cfg.metrics;
  }
  if (options.on_metrics_settings) {
    st = options.on_metrics_settings(metrics_);
    if (!st.ok()) return st;
  }
  cache_dir_ = options.cache_dir;
  config_hash_ = contentHash(content);
  last_config_status_ = applyConfig(cfg);
  ready_ = true;
  return StatusCode::OK;
}

Status ModelManager::applyConfig(const ConfigFileContent& cfg) {
  if (cfg.mediapipe_graphs)
    MODEL_LOG(warn, "mediapipe_config_list: {} graph(s) defined; MediaPipe graphs are not served", cfg.mediapipe_graphs);
  if (cfg.custom_loaders)
    MODEL_LOG(warn, "custom_loader_config_list: {} loader(s) defined; custom loaders are not supported", cfg.custom_loaders);

  Status first = cfg.first_error;
  std::set<std::string> in_file;
  std::vector<ReconcileJob> jobs;
  for (ModelConfig m : cfg.models) {
    m.cache_dir = cache_dir_;
    in_file.insert(m.name);
    if (Status stateful = checkStatefulOptions(m); !stateful.ok()) {
      MODEL_LOG(err, "Loading model {} failed: {}", m.name, stateful.message());
      if (first.ok()) first = stateful;
      continue;  // a loaded model keeps its current versions
    }
    {
      // The stateful flag of a loaded model cannot change (OVMS checkStatefulFlagChange).
      std::shared_ptr<Model> loaded;
      if (findModel(m.name, &loaded).ok() && loaded->config().stateful != m.stateful) {
        MODEL_LOG(err, "Requested model type change on model: {}. Stateful flag cannot be changed after model is loaded: {}",
                  m.name, statusText(StatusCode::REQUESTED_MODEL_TYPE_CHANGE));
        if (first.ok()) first = StatusCode::REQUESTED_MODEL_TYPE_CHANGE;
        continue;
      }
    }
    std::shared_ptr<Model> model;
    bool is_new = false;
    {
      std::lock_guard lock(mutex_);
      auto& slot = models_[m.name];
      if (!slot) {
        slot = std::make_shared<Model>(m);
        slot->setLoadedCallback(on_loaded_);
        is_new = true;
      }
      model = slot;
    }
    if (is_new) {
      std::shared_ptr<pipeline::PipelineDefinition> taken;
      if (findPipeline(m.name, &taken).ok() && taken->state() != pipeline::PipelineState::RETIRED) {
        MODEL_LOG(err, "Model name: {} is already occupied by pipeline definition.", m.name);
        {
          std::lock_guard lock(mutex_);
          models_.erase(m.name);
        }
        if (first.ok()) first = StatusCode::MODEL_NAME_OCCUPIED;
        continue;
      }
    }
    if (!is_new) {
      ModelConfig old = model->config();
      if (!active_.count(m.name))
        MODEL_LOG(info, "Model {} is back in the config; loading it", m.name);
      else if (!old.sameLoadSettings(m))
        MODEL_LOG(info, "Config of model {} changed ({}); reloading all its versions", m.name, joinChanges(old.changesTo(m)));
      else if (!(old.policy == m.policy))
        MODEL_LOG(info, "Version policy of model {} changed ({})", m.name, joinChanges(old.changesTo(m)));
      else
        MODEL_LOG(debug, "Config of model {} unchanged; checking its version folders", m.name);
    } else {
      MODEL_LOG(debug, "Model {} is new in the config (base_path \"{}\", policy {})", m.name, m.base_path,
                describePolicy(m.policy));
    }
    active_[m.name] = m;
    jobs.push_back({model, m});
  }
  std::vector<Status> results = reconcileConcurrently(jobs);
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (results[i].ok()) continue;
    MODEL_LOG(err, "Loading model {} failed: {}", jobs[i].config.name, results[i].message());
    if (first.ok()) first = results[i];
  }
  for (const auto& inv : cfg.invalid_models) {
    in_file.insert(inv.name);
    active_.erase(inv.name);
    std::shared_ptr<Model> model;
    if (findModel(inv.name, &model).ok()) {
      MODEL_LOG(warn, "Config of model {} is invalid; unloading its versions", inv.name);
      model->invalidateAll();
    }
  }
  for (const auto& model : models()) {
    if (in_file.count(model->name())) continue;
    if (active_.erase(model->name())) MODEL_LOG(info, "Model {} was removed from the config; retiring it", model->name());
    model->retireAll();
  }
  Status pipelines = applyPipelinesLocked(cfg);
  if (first.ok()) first = pipelines;
  return first;
}

Status ModelManager::applyPipelinesLocked(const ConfigFileContent& cfg) {
  Status first = node_libraries_.apply(cfg.node_libraries);
  std::set<std::string> in_file;
  for (const auto& pc : cfg.pipeline_configs) {
    in_file.insert(pc.name);
    std::shared_ptr<pipeline::PipelineDefinition> def;
    {
      std::lock_guard lock(mutex_);
      auto& slot = pipelines_[pc.name];
      if (!slot) slot = std::make_shared<pipeline::PipelineDefinition>(pc);
      def = slot;
    }
    Status st = def->reload(pc, *this, node_libraries_, active_.count(pc.name) > 0);
    if (!st.ok() && first.ok()) first = st;
  }
  for (const auto& def : pipelines())
    if (!in_file.count(def->name())) def->retire();
  active_pipelines_ = cfg.pipeline_configs;
  return first;
}

Status ModelManager::revalidatePipelinesLocked() {
  Status first = StatusCode::OK;
  for (const auto& pc : active_pipelines_) {
    std::shared_ptr<pipeline::PipelineDefinition> def;
    if (!findPipeline(pc.name, &def).ok()) continue;
    Status st = def->reload(pc, *this, node_libraries_, active_.count(pc.name) > 0, false);
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

Status ModelManager::findPipeline(const std::string& name, std::shared_ptr<pipeline::PipelineDefinition>* out) const {
  std::lock_guard lock(mutex_);
  auto it = pipelines_.find(name);
  if (it == pipelines_.end()) return StatusCode::PIPELINE_DEFINITION_NAME_MISSING;
  *out = it->second;
  return StatusCode::OK;
}

std::vector<std::shared_ptr<pipeline::PipelineDefinition>> ModelManager::pipelines() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<pipeline::PipelineDefinition>> out;
  for (auto& [n, p] : pipelines_) out.push_back(p);
  return out;
}

Status ModelManager::reloadConfigLocked(bool only_if_changed) {
  std::string content;
  Status st = readConfigFile(config_path_, &content);
  if (!st.ok()) {
    MODEL_LOG(err, "Configuration file {} not found or cannot open", config_path_);
    return st;
  }
  uint64_t hash = contentHash(content);
  if (hash == config_hash_ && (only_if_changed || last_config_status_.ok())) return StatusCode::OK_NOT_RELOADED;
  MODEL_LOG(info, "Configuration file {} changed; reloading", config_path_);
  ConfigFileContent cfg;
  st = loadConfigFile(config_path_, &content, &cfg);
  // Remember this content even when it is invalid, so that a broken file is reported once and
  // not re-parsed on every cycle; a later edit changes the hash again.
  config_hash_ = contentHash(content);
  if (!st.ok()) {
    MODEL_LOG(err, "Reloading config file {} failed: {}; the previous configuration stays in effect", config_path_,
              st.message());
    last_config_status_ = st;
    return st;
  }
  if (cfg.metrics.configured != metrics_.configured || cfg.metrics.enable != metrics_.enable ||
      cfg.metrics.metrics_list != metrics_.metrics_list)
    MODEL_LOG(warn, "Changes of the monitoring section take effect only after a restart");
  Status applied = applyConfig(cfg);
  last_config_status_ = applied;
  return applied.ok() ? Status(StatusCode::OK_RELOADED) : applied;
}

Status ModelManager::reloadConfigFile() {
  // Locked first: the REST server is up while the initial load (which sets config_path_) runs.
  std::lock_guard reload_lock(reload_mutex_);
  if (!configMode()) return StatusCode::OK_NOT_RELOADED;
  return reloadConfigLocked(false);
}

Status ModelManager::reloadVersions() {
  std::lock_guard reload_lock(reload_mutex_);
  return reloadVersionsLocked();
}

Status ModelManager::reloadVersionsLocked() {
  Status first = StatusCode::OK;
  std::vector<ReconcileJob> jobs;
  for (const auto& [name, config] : active_) {
    std::shared_ptr<Model> model;
    if (findModel(name, &model).ok()) jobs.push_back({model, config});
  }
  for (const Status& st : reconcileConcurrently(jobs))
    if (!st.ok() && first.ok()) first = st;
  // A model that changed (reloaded, new shape, gone) may break or fix a pipeline using it.
  revalidatePipelinesLocked();
  return first;
}

std::vector<std::string> ModelManager::watchedPathsLocked() const {
  std::vector<std::string> paths;
  if (configMode()) {
    std::string dir = std::filesystem::path(config_path_).parent_path().string();
    paths.push_back(dir.empty() ? "." : dir);
  }
  auto fs = storage::fileSystemFor("/");
  for (const auto& [name, config] : active_) {
    if (config.base_path.empty() || storage::fileSystemFor(config.base_path) != fs) continue;  // local only
    paths.push_back(config.base_path);
    std::vector<std::string> dirs;
    if (fs->listDirectories(config.base_path, &dirs))
      for (const auto& d : dirs) paths.push_back(fs->join(config.base_path, d));
  }
  return paths;
}

void ModelManager::startWatcher(std::chrono::seconds interval) {
  if (interval.count() == 0 || watcher_.joinable()) return;
  if (pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) wake_pipe_[0] = wake_pipe_[1] = -1;
  watcher_ = std::thread([this, interval] { watch(interval); });
}

void ModelManager::watch(std::chrono::seconds interval) {
  MODEL_LOG(info, "Started model manager thread");
  using Clock = std::chrono::steady_clock;
  // inotify wakes the watcher as soon as config.json or a repository changes; the periodic poll
  // stays as the safety net (remote storage, missed events, failed loads to retry).
  int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd < 0) MODEL_LOG(warn, "inotify unavailable; relying on polling every {} s", interval.count());
  std::set<int> wds;
  auto updateWatches = [&] {
    if (ifd < 0) return;
    std::vector<std::string> paths;
    {
      std::lock_guard reload_lock(reload_mutex_);
      paths = watchedPathsLocked();
    }
    std::set<int> fresh;
    for (const auto& p : paths) {
      int wd = inotify_add_watch(ifd, p.c_str(),
                                 IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF |
                                     IN_MOVE_SELF | IN_ONLYDIR);
      if (wd >= 0) fresh.insert(wd);
    }
    for (int wd : wds)
      if (!fresh.count(wd)) inotify_rm_watch(ifd, wd);
    wds = std::move(fresh);
  };
  auto drain = [&] {
    alignas(inotify_event) char buf[8192];
    while (read(ifd, buf, sizeof(buf)) > 0) {
    }
  };
  auto msUntil = [](Clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
    return static_cast<int>(std::max<int64_t>(0, ms));
  };

  updateWatches();
  auto next = Clock::now() + interval;
  while (!stopping_) {
    pollfd fds[2] = {{ifd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int r = poll(fds, 2, msUntil(next));
    if (stopping_) break;
    bool changed = false;
    if (r > 0 && (fds[0].revents & POLLIN)) {
      changed = true;
      drain();
      auto settle_end = Clock::now() + kSettleMax;
      while (!stopping_ && Clock::now() < settle_end) {
        pollfd quiet[2] = {{ifd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
        int q = poll(quiet, 2, static_cast<int>(std::min<int64_t>(kSettleQuiet.count(), msUntil(settle_end))));
        if (q <= 0 || !(quiet[0].revents & POLLIN)) break;
        drain();
      }
      if (stopping_) break;
    }
    if (!changed && Clock::now() < next) continue;
    // OVMS's trace lines; tests count them to know the watcher has looked after a change.
    MODEL_LOG(trace, "Models configuration and filesystem check cycle begin");
    {
      std::lock_guard reload_lock(reload_mutex_);
      bool reloaded = false;
      if (configMode()) {
        Status st = reloadConfigLocked(true);
        reloaded = st.code() != StatusCode::OK_NOT_RELOADED && st.code() != StatusCode::CONFIG_FILE_INVALID &&
                   st.code() != StatusCode::JSON_INVALID;
      }
      // A config reload has just reconciled every model.
      if (!reloaded) reloadVersionsLocked();
    }
    updateWatches();
    MODEL_LOG(trace, "Models configuration and filesystem check cycle end");
    next = Clock::now() + interval;
  }
  if (ifd >= 0) close(ifd);
  MODEL_LOG(info, "Stopped model manager thread");
}

void ModelManager::stop() {
  stopping_ = true;
  if (wake_pipe_[1] >= 0) {
    char c = 1;
    (void)!write(wake_pipe_[1], &c, 1);
  }
  if (watcher_.joinable()) watcher_.join();
  for (int& fd : wake_pipe_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
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
  // The default version may be retired between lookup and acquire (a newer one just became
  // AVAILABLE); look it up again rather than fail the request.
  for (int attempt = 0;; ++attempt) {
    std::shared_ptr<ModelVersion> mv;
    st = model->findVersion(version, &mv);
    if (!st.ok()) return st;
    *resolved_version = mv->version();
    st = mv->acquire(wait_for_loading ? kWaitForLoading : std::chrono::milliseconds(0), servable);
    if (version == 0 && attempt < 3 &&
        (st.code() == StatusCode::MODEL_VERSION_NOT_LOADED_ANYMORE || st.code() == StatusCode::MODEL_VERSION_NOT_LOADED_YET))
      continue;
    return st;
  }
}

std::vector<std::shared_ptr<Model>> ModelManager::models() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Model>> out;
  for (auto& [n, m] : models_) out.push_back(m);
  return out;
}

}  // namespace ovms::serving
