#include "api/security/api_key.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cctype>
#include <fstream>
#include <sstream>

namespace ovms::api::security {
namespace {

std::string sha256(std::string_view s) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof(out));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

void ApiKeyStore::set(std::string key) {
  std::shared_ptr<const std::string> digest;
  if (!key.empty()) digest = std::make_shared<const std::string>(sha256(key));
  std::lock_guard lk(mu_);
  digest_ = std::move(digest);
}

bool ApiKeyStore::enabled() const {
  std::lock_guard lk(mu_);
  return digest_ != nullptr;
}

bool ApiKeyStore::authorized(std::string_view authorization) const {
  std::shared_ptr<const std::string> digest;
  {
    std::lock_guard lk(mu_);
    digest = digest_;
  }
  if (!digest) return true;
  std::string_view value = trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (value.size() <= kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return false;
  if (!std::isspace(static_cast<unsigned char>(value[kScheme.size()]))) return false;
  std::string presented = sha256(trim(value.substr(kScheme.size())));
  return CRYPTO_memcmp(presented.data(), digest->data(), digest->size()) == 0;
}

ApiKeyStore& apiKeys() {
  static ApiKeyStore store;
  return store;
}

bool readApiKeyFile(const std::string& path, std::string* key, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "Cannot read the API key file given by --api_key_file: " + path;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    *error = "Cannot read the API key file given by --api_key_file: " + path;
    return false;
  }
  std::string content = ss.str();
  *key = std::string(trim(content));
  if (key->empty()) {
    *error = "The API key file given by --api_key_file is empty: " + path;
    return false;
  }
  return true;
}

bool isHealthPath(std::string_view path) { return path.rfind("/v2/health/", 0) == 0; }

}  // namespace ovms::api::security
