#include "api/security/secret_watcher.h"

#include <fstream>
#include <sstream>

#include "api/security/api_key.h"
#include "common/logging.h"

namespace ovms::api::security {
namespace {

// The file's bytes, or a marker that cannot be file content when it cannot be read.
std::string snapshot(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("\0unreadable", 11);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tlsSnapshot(const TlsFiles& f) {
  std::string a = snapshot(f.cert_file), b = snapshot(f.key_file), c = snapshot(f.ca_file);
  return std::to_string(a.size()) + ":" + a + std::to_string(b.size()) + ":" + b + std::to_string(c.size()) + ":" + c;
}

std::string pemSnapshot(const TlsMaterial& m) {
  return std::to_string(m.cert_pem.size()) + ":" + m.cert_pem + std::to_string(m.key_pem.size()) + ":" + m.key_pem +
         std::to_string(m.ca_pem.size()) + ":" + m.ca_pem;
}

}  // namespace

SecretWatcher::SecretWatcher(TlsFiles tls, ApplyTls apply_tls, std::string api_key_file)
    : tls_(std::move(tls)), apply_tls_(std::move(apply_tls)), api_key_file_(std::move(api_key_file)) {}

SecretWatcher::~SecretWatcher() { stop(); }

void SecretWatcher::start(const TlsMaterial& current, const std::string& current_key,
                          std::chrono::milliseconds period) {
  if (tls_.enabled()) tls_seen_ = pemSnapshot(current);
  if (!api_key_file_.empty()) key_seen_ = snapshot(api_key_file_);
  (void)current_key;
  if (period.count() <= 0 || (!tls_.enabled() && api_key_file_.empty())) return;
  thread_ = std::thread([this, period] {
    std::unique_lock lk(mu_);
    while (!cv_.wait_for(lk, period, [this] { return stop_; })) {
      lk.unlock();
      try {
        pollOnce();
      } catch (const std::exception& e) {
        SERVING_LOG(err, "Secret file check failed: {}", e.what());
      }
      lk.lock();
    }
  });
}

void SecretWatcher::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SecretWatcher::pollOnce() {
  if (tls_.enabled()) {
    std::string now = tlsSnapshot(tls_);
    if (now != tls_seen_) {
      tls_seen_ = now;
      TlsMaterial material;
      std::string error;
      if (!loadTlsMaterial(tls_, &material, &error)) {
        SERVING_LOG(err, "TLS files changed but are not used, the previous certificate stays in use: {}", error);
      } else if (!apply_tls_(material, &error)) {
        SERVING_LOG(err, "TLS files changed but are not used, the previous certificate stays in use: {}: {}",
                    tls_.cert_file, error);
      } else {
        SERVING_LOG(info, "TLS certificate reloaded from {}; new connections use it", tls_.cert_file);
      }
    }
  }
  if (!api_key_file_.empty()) {
    std::string now = snapshot(api_key_file_);
    if (now != key_seen_) {
      key_seen_ = now;
      std::string key, error;
      if (!readApiKeyFile(api_key_file_, &key, &error)) {
        SERVING_LOG(err, "API key file changed but is not used, the previous key stays in use: {}", error);
      } else {
        apiKeys().set(std::move(key));
        SERVING_LOG(info, "API key reloaded from {}", api_key_file_);
      }
    }
  }
}

}  // namespace ovms::api::security
