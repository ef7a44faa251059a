#pragma once
// The optional API key (--api_key_file, else env API_KEY): when set, every route except health
// needs "Authorization: Bearer <key>" (REST header, gRPC metadata "authorization").
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace ovms::api::security {

class ApiKeyStore {
 public:
  // Empty key = no authentication.
  void set(std::string key);
  bool enabled() const;
  // True when no key is set, or `authorization` is "Bearer <key>" (scheme case-insensitive).
  // The key is compared in constant time (over SHA-256 digests, so its length does not leak either).
  bool authorized(std::string_view authorization) const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const std::string> digest_;  // SHA-256 of the key; null = disabled
};

// The store both front ends consult.
ApiKeyStore& apiKeys();

// Key file content with surrounding whitespace removed; false (and *error) when unreadable or empty.
bool readApiKeyFile(const std::string& path, std::string* key, std::string* error);

// Health routes stay open for probes: /v2/health/live, /v2/health/ready (and anything under /v2/health/).
bool isHealthPath(std::string_view path);

}  // namespace ovms::api::security
