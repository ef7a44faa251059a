#pragma once
// Re-reads the TLS files and the API key file when their content changes (polled like config.json).
// New material is checked first; material that fails the check is not used (the old one stays) and
// an ERROR line names the file and the reason.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "api/security/tls_material.h"

namespace ovms::api::security {

class SecretWatcher {
 public:
  // Called with checked material; returns false (and sets the error) when a listener rejects it.
  using ApplyTls = std::function<bool(const TlsMaterial&, std::string* error)>;

  SecretWatcher(TlsFiles tls, ApplyTls apply_tls, std::string api_key_file);
  ~SecretWatcher();
  // `current` is what the listeners started with (its content is the baseline for "changed").
  void start(const TlsMaterial& current, const std::string& current_key, std::chrono::milliseconds period);
  void stop();
  void pollOnce();

 private:
  TlsFiles tls_;
  ApplyTls apply_tls_;
  std::string api_key_file_;
  std::string tls_seen_;  // concatenated file contents last acted on (applied or rejected)
  std::string key_seen_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ovms::api::security
