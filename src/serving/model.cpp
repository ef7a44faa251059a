#include "serving/model.h"
#include "serving/warmup.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <tuple>

#include "common/logging.h"
#include "storage/filesystem.h"

namespace ovms::serving {

const char* stateName(VersionState s) {
  switch (s) {
    case VersionState::START: return "START";
    case VersionState::LOADING: return "LOADING";
    case VersionState::AVAILABLE: return "AVAILABLE";
    case VersionState::UNLOADING: return "UNLOADING";
    case VersionState::END: return "END";
  }
  return "UNKNOWN";
}

const char* versionErrorName(VersionError e) {
  switch (e) {
    case VersionError::OK: return "OK";
    case VersionError::UNKNOWN: return "UNKNOWN";
    case VersionError::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
  }
  return "UNKNOWN";
}

ModelVersion::ModelVersion(std::string model_name, int64_t version)
    : model_name_(std::move(model_name)), version_(version) {}

VersionState ModelVersion::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}
VersionError ModelVersion::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}
std::shared_ptr<const Servable> ModelVersion::servable() const {
  std::lock_guard lock(mutex_);
  return servable_;
}
std::string ModelVersion::errorMessage() const {
  std::lock_guard lock(mutex_);
  return error_message_;
}

bool ModelVersion::retryDue(const ModelConfig& config, uint64_t files_signature) const {
  std::lock_guard lock(mutex_);
  if (failures_ == 0) return true;
  if (files_signature != failed_signature_ || !failed_config_.sameLoadSettings(config)) return true;
  return std::chrono::steady_clock::now() >= next_retry_;
}

void ModelVersion::recordLoadAttempt(const Status& result, const ModelConfig& config, uint64_t files_signature) {
  std::lock_guard lock(mutex_);
  if (result.ok()) {
    failures_ = 0;
    failed_status_ = StatusCode::OK;
    return;
  }
  failed_status_ = result;
  const bool same = failures_ > 0 && files_signature == failed_signature_ && failed_config_.sameLoadSettings(config);
  failures_ = same ? failures_ + 1 : 1;
  failed_config_ = config;
  failed_signature_ = files_signature;
  auto backoff = kRetryBackoffFirst * (1u << std::min(failures_ - 1, 10u));
  next_retry_ = std::chrono::steady_clock::now() + std::min<std::chrono::milliseconds>(backoff, kRetryBackoffMax);
}

Status ModelVersion::lastFailure() const {
  std::lock_guard lock(mutex_);
  return failed_status_;
}

uint64_t filesSignature(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto mix = [&h](const void* data, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      h ^= static_cast<const unsigned char*>(data)[i];
      h *= 1099511628211ull;
    }
  };
  std::vector<std::tuple<std::string, uint64_t, int64_t>> entries;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) return 0;
  for (int guard = 0; it != end && guard < 100000; it.increment(ec), ++guard) {
    if (ec) break;
    std::error_code e2;
    const auto& entry = *it;
    uint64_t size = entry.is_regular_file(e2) ? entry.file_size(e2) : 0;
    int64_t mtime = entry.last_write_time(e2).time_since_epoch().count();
    entries.emplace_back(entry.path().string(), size, mtime);
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& [name, size, mtime] : entries) {
    mix(name.data(), name.size());
    mix(&size, sizeof size);
    mix(&mtime, sizeof mtime);
  }
  return h;
}

void ModelVersion::setState(VersionState s, VersionError e) {
  {
    std::lock_guard lock(mutex_);
    if (state_ == s && error_ == e) return;
    state_ = s;
    error_ = e;
  }
  changed_.notify_all();
  MODEL_LOG(info, "STATUS CHANGE: Version {} of model {} status change. New status: ( \"state\": \"{}\", \"error_code\": \"{}\" )",
            version_, model_name_, stateName(s), versionErrorName(e));
}

Status ModelVersion::load(const std::string& dir, const ModelConfig& config, const VersionLoadedCallback* on_loaded) {
  bool serving_now = servable() != nullptr;
  // A version that serves keeps serving while its replacement loads (zero-downtime reload).
  if (!serving_now) setState(VersionState::LOADING, VersionError::OK);
  MODEL_LOG(info, "Loading model: {}, version: {}, from path: {}", model_name_, version_, dir);
  std::unique_ptr<Servable> fresh;
  Status st = Servable::load(dir, config, &fresh);
  if (st.ok() && config.warmup_iterations > 0) st = warmupServable(*fresh, config.warmup_iterations, model_name_, version_);
  if (!st.ok()) {
    MODEL_LOG(err, "Error occurred while loading model: {}; version: {}; error: {}", model_name_, version_,
              st.message());
    {
      std::lock_guard lock(mutex_);
      error_message_ = st.message();
    }
    if (!serving_now) setState(VersionState::LOADING, VersionError::UNKNOWN);
    return st;
  }
  if (on_loaded && *on_loaded) (*on_loaded)(model_name_, version_, *fresh);
  std::shared_ptr<const Servable> old;
  {
    std::lock_guard lock(mutex_);
    old = std::move(servable_);
    servable_ = std::move(fresh);
    loaded_config_ = config;
    error_message_.clear();
  }
  // In-flight requests on the old servable keep it alive until they finish.
  if (old) old->drainBatching();  // its queued requests run now, not after the batching delay
  old.reset();
  if (serving_now) MODEL_LOG(info, "Reloaded model: {}, version: {}; new requests use the new servable", model_name_, version_);
  setState(VersionState::AVAILABLE, VersionError::OK);
  return StatusCode::OK;
}

bool ModelVersion::loadedWith(const ModelConfig& config) const {
  std::lock_guard lock(mutex_);
  return servable_ != nullptr && loaded_config_.sameLoadSettings(config);
}

void ModelVersion::invalidate() {
  std::shared_ptr<const Servable> old;
  {
    std::lock_guard lock(mutex_);
    old = std::move(servable_);
    error_message_ = "The model's configuration is invalid";
  }
  if (old) old->drainBatching();  // its queued requests run now, not after the batching delay
  old.reset();
  setState(VersionState::LOADING, VersionError::UNKNOWN);
}

void ModelVersion::retire() {
  setState(VersionState::UNLOADING, VersionError::OK);
  std::shared_ptr<const Servable> old;
  {
    std::lock_guard lock(mutex_);
    old = std::move(servable_);
    error_message_.clear();
    failures_ = 0;
  }
  // Requests that already hold `old` finish on it; it is freed by the last of them.
  if (old) old->drainBatching();  // its queued requests run now, not after the batching delay
  old.reset();
  setState(VersionState::END, VersionError::OK);
}

Status ModelVersion::acquire(std::chrono::milliseconds wait, std::shared_ptr<const Servable>* out) const {
  std::unique_lock lock(mutex_);
  auto ready = [&] { return state_ != VersionState::LOADING && state_ != VersionState::START; };
  if (!ready()) changed_.wait_for(lock, wait, ready);
  switch (state_) {
    case VersionState::AVAILABLE:
      *out = servable_;
      return StatusCode::OK;
    case VersionState::START:
    case VersionState::LOADING:
      return StatusCode::MODEL_VERSION_NOT_LOADED_YET;
    case VersionState::UNLOADING:
    case VersionState::END:
      return StatusCode::MODEL_VERSION_NOT_LOADED_ANYMORE;
  }
  return StatusCode::INTERNAL_ERROR;
}

Model::Model(ModelConfig config) : name_(config.name), config_(std::move(config)) {}

ModelConfig Model::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

namespace {

// OVMS parses version folder names like stoll: leading digits count, the rest is ignored.
bool parseVersionDir(const std::string& name, int64_t* v) {
  size_t i = 0;
  while (i < name.size() && std::isspace(static_cast<unsigned char>(name[i]))) ++i;
  size_t start = i;
  if (i < name.size() && (name[i] == '+' || name[i] == '-')) ++i;
  if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return false;
  try {
    long long n = std::stoll(name.substr(start));
    if (n <= 0) return false;
    *v = n;
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

Status Model::reconcile(const ModelConfig& config, bool force_reload) {
  std::lock_guard reconcile_lock(reconcile_mutex_);
  {
    std::lock_guard lock(mutex_);
    config_ = config;
  }
  if (config.base_path.empty() || config.base_path.find("..") != std::string::npos) {
    MODEL_LOG(err, "The provided base path is invalid or doesn't exists: \"{}\" (model {})", config.base_path, name_);
    return StatusCode::PATH_INVALID;
  }
  auto fs = storage::fileSystemFor(config.base_path);
  if (!fs) {
    MODEL_LOG(err, "{}", storage::unsupportedSchemeMessage(config.base_path));
    return StatusCode::PATH_INVALID;
  }
  std::vector<std::string> dirs;
  if (!fs->listDirectories(config.base_path, &dirs)) {
    MODEL_LOG(err, "Directory does not exist: {}", config.base_path);
    return StatusCode::PATH_INVALID;
  }
  std::vector<int64_t> on_disk;
  std::map<int64_t, std::string> dir_of;
  for (const auto& d : dirs) {
    int64_t v;
    if (!parseVersionDir(d, &v)) {
      MODEL_LOG(warn, "Expected version directory name to be in number format. Got: {}", d);
      continue;
    }
    if (dir_of.count(v)) continue;
    on_disk.push_back(v);
    dir_of[v] = fs->join(config.base_path, d);
  }
  std::sort(on_disk.begin(), on_disk.end());
  if (on_disk.empty()) MODEL_LOG(warn, "No version found for model in path: {}", config.base_path);

  // Remote versions about to load are downloaded concurrently (a no-op for local paths).
  std::vector<std::string> to_fetch;
  for (int64_t v : config.policy.select(on_disk)) {
    std::shared_ptr<ModelVersion> mv;
    {
      std::lock_guard lock(mutex_);
      auto it = versions_.find(v);
      if (it != versions_.end()) mv = it->second;
    }
    if (force_reload || !mv || mv->state() != VersionState::AVAILABLE || !mv->loadedWith(config))
      to_fetch.push_back(dir_of[v]);
  }
  fs->prefetch(to_fetch);
  Status first_error = StatusCode::OK;
  std::set<int64_t> failed, done;
  std::vector<int64_t> wanted;
  // Load-failure fallback (§4.3): a version that fails leaves the candidates and the policy is
  // applied again, so a broken newest version lets the previous one serve.
  for (;;) {
    std::vector<int64_t> candidates;
    for (int64_t v : on_disk)
      if (!failed.count(v)) candidates.push_back(v);
    wanted = config.policy.select(candidates);
    MODEL_LOG(debug, "Model {}: versions found {}{}; policy {} selects {}", name_, describeVersions(on_disk),
              failed.empty() ? "" : " (failed to load: " + describeVersions({failed.begin(), failed.end()}) + ")",
              describePolicy(config.policy), describeVersions(wanted));
    bool failure = false;
    for (int64_t v : wanted) {
      std::shared_ptr<ModelVersion> mv;
      {
        std::lock_guard lock(mutex_);
        auto& slot = versions_[v];
        if (!slot) slot = std::make_shared<ModelVersion>(name_, v);
        mv = slot;
      }
      if (done.count(v)) continue;
      VersionState s = mv->state();
      bool needs_load = force_reload || s != VersionState::AVAILABLE || !mv->loadedWith(config);
      if (!needs_load) continue;
      // A load that failed before is retried with backoff, or at once when its files or settings changed.
      const uint64_t signature = filesSignature(dir_of[v]);
      if (!force_reload && !mv->retryDue(config, signature)) {
        done.insert(v);
        if (s == VersionState::AVAILABLE) continue;  // a failed reload: the old servable keeps serving
        if (first_error.ok()) first_error = mv->lastFailure();
        failed.insert(v);
        failure = true;
        break;
      }
      if (s == VersionState::AVAILABLE)
        MODEL_LOG(info, "Will reload model: {}; version: {} (config changed)", name_, v);
      std::string local;
      std::shared_ptr<const VersionLoadedCallback> on_loaded;
      {
        std::lock_guard lock(mutex_);
        on_loaded = on_loaded_;
      }
      Status st = fs->localCopy(dir_of[v], &local) ? mv->load(local, config, on_loaded.get())
                                                   : Status(StatusCode::FILE_INVALID, fs->lastError(dir_of[v]));
      mv->recordLoadAttempt(st, config, signature);
      done.insert(v);
      if (!st.ok()) {
        if (first_error.ok()) first_error = st;
        // A failed reload of a serving version keeps the old servable serving (zero downtime) and
        // is retried on the next cycle; only a version that serves nothing falls back (§4.3).
        if (mv->state() == VersionState::AVAILABLE) continue;
        failed.insert(v);
        failure = true;
        break;
      }
    }
    if (!failure) break;
  }
  // Retire what the policy no longer asks for (deleted folders, policy changes).
  std::vector<std::shared_ptr<ModelVersion>> to_retire;
  {
    std::lock_guard lock(mutex_);
    for (auto& [v, mv] : versions_) {
      if (std::find(wanted.begin(), wanted.end(), v) != wanted.end() || failed.count(v)) continue;
      auto s = mv->state();
      if (s == VersionState::END || s == VersionState::UNLOADING) continue;
      to_retire.push_back(mv);
    }
  }
  for (auto& mv : to_retire) {
    MODEL_LOG(debug, "Model {}: version {} is no longer selected by the policy or is gone; unloading it", name_,
              mv->version());
    mv->retire();
  }
  return first_error;
}

void Model::setLoadedCallback(std::shared_ptr<const VersionLoadedCallback> callback) {
  std::lock_guard lock(mutex_);
  on_loaded_ = std::move(callback);
}

void Model::retireAll() {
  std::lock_guard reconcile_lock(reconcile_mutex_);
  for (auto& mv : versions())
    if (mv->state() != VersionState::END) mv->retire();
}

void Model::invalidateAll() {
  std::lock_guard reconcile_lock(reconcile_mutex_);
  for (auto& mv : versions()) {
    auto s = mv->state();
    if (s == VersionState::END || (s == VersionState::LOADING && mv->error() == VersionError::UNKNOWN)) continue;
    mv->invalidate();
  }
}

Status Model::findVersion(int64_t version, std::shared_ptr<ModelVersion>* out) const {
  std::lock_guard lock(mutex_);
  if (version == 0) {
    for (auto it = versions_.rbegin(); it != versions_.rend(); ++it) {
      if (it->second->state() == VersionState::AVAILABLE) {
        *out = it->second;
        return StatusCode::OK;
      }
    }
    return StatusCode::MODEL_VERSION_MISSING;
  }
  auto it = versions_.find(version);
  if (it == versions_.end()) return StatusCode::MODEL_VERSION_MISSING;
  *out = it->second;
  return StatusCode::OK;
}

std::vector<std::shared_ptr<ModelVersion>> Model::versions() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<ModelVersion>> out;
  for (auto& [v, mv] : versions_) out.push_back(mv);
  return out;
}

}  // namespace ovms::serving
