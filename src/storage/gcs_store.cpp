// gs://bucket/prefix over the Cloud Storage JSON API (objects.list + media download). Credentials:
// a service-account key file (GOOGLE_APPLICATION_CREDENTIALS) exchanged for an OAuth2 access token
// through a signed JWT (RS256); without it, anonymous requests (public buckets).
// STORAGE_EMULATOR_HOST overrides the endpoint (emulators, tests).
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>

#include "common/logging.h"
#include "storage/cloud_stores.h"
#include "storage/crypto.h"
#include "storage/http_client.h"

namespace ovms::storage {
namespace {

using json = nlohmann::json;
const char* kScope = "https://www.googleapis.com/auth/devstorage.read_only";
const char* kDefaultTokenUri = "https://oauth2.googleapis.com/token";

std::string gcsError(const HttpResponse& r) {
  if (!r.transport_error.empty()) return r.transport_error;
  std::string text = "HTTP " + std::to_string(r.status);
  auto j = json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) text += ": " + e["message"].get<std::string>();
    else if (e.is_string()) text += ": " + e.get<std::string>();  // OAuth2 token errors: {"error": "invalid_grant"}
  }
  return text;
}

class GcsStore : public ObjectStore {
 public:
  GcsStore() {
    const char* emulator = std::getenv("STORAGE_EMULATOR_HOST");
    if (emulator && *emulator) {
      endpoint_ = emulator;
      if (endpoint_.find("://") == std::string::npos) endpoint_ = "http://" + endpoint_;
      while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
    }
    const char* key_file = std::getenv("GOOGLE_APPLICATION_CREDENTIALS");
    if (key_file && *key_file) {
      loadKey(key_file);
    } else {
      MODEL_LOG(info, "GCS storage: endpoint {}, anonymous (GOOGLE_APPLICATION_CREDENTIALS is not set)", endpoint_);
    }
  }
  std::string scheme() const override { return "gs"; }

  bool list(const std::string& bucket, const std::string& prefix, bool delimited, ObjectListing* out,
            std::string* error) override {
    std::string page_token;
    for (int page = 0; page < 100000; ++page) {
      std::string url = endpoint_ + "/storage/v1/b/" + uriEncode(bucket, false) + "/o?prefix=" + uriEncode(prefix, false);
      if (delimited) url += "&delimiter=%2F";
      if (!page_token.empty()) url += "&pageToken=" + uriEncode(page_token, false);
      HttpResponse r;
      if (!get(url, nullptr, 120, &r, error)) return false;
      if (!r.ok()) {
        *error = "listing gs://" + bucket + "/" + prefix + ": " + gcsError(r);
        return false;
      }
      auto j = json::parse(r.body, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        *error = "listing gs://" + bucket + "/" + prefix + ": the response is not JSON";
        return false;
      }
      if (j.contains("items") && j["items"].is_array()) {
        for (const auto& item : j["items"]) {
          ObjectInfo o;
          o.key = item.value("name", "");
          o.size = std::strtoull(item.value("size", "0").c_str(), nullptr, 10);
          o.etag = item.value("generation", "") + "/" + item.value("md5Hash", "");
          out->objects.push_back(std::move(o));
        }
      }
      if (j.contains("prefixes") && j["prefixes"].is_array())
        for (const auto& p : j["prefixes"])
          if (p.is_string()) out->prefixes.push_back(p.get<std::string>());
      page_token = j.value("nextPageToken", "");
      if (page_token.empty()) return true;
    }
    *error = "listing gs://" + bucket + "/" + prefix + ": too many pages";
    return false;
  }

  bool download(const std::string& bucket, const std::string& key, uint64_t offset, uint64_t length, FILE* file,
                std::string* error) override {
    std::string url = endpoint_ + "/storage/v1/b/" + uriEncode(bucket, false) + "/o/" + uriEncode(key, false) + "?alt=media";
    HttpResponse r;
    if (!get(url, file, 0, &r, error, offset, length)) return false;
    if (!r.ok()) {
      *error = gcsError(r);
      return false;
    }
    return true;
  }

 private:
  void loadKey(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
      config_error_ = "GOOGLE_APPLICATION_CREDENTIALS names a file that cannot be read: " + path;
      MODEL_LOG(err, "GCS storage: {}", config_error_);
      return;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("type", "") != "service_account" ||
        !j.contains("client_email") || !j.contains("private_key")) {
      config_error_ = "GOOGLE_APPLICATION_CREDENTIALS (" + path + ") is not a service-account key file";
      MODEL_LOG(err, "GCS storage: {}", config_error_);
      return;
    }
    client_email_ = j.value("client_email", "");
    private_key_ = j.value("private_key", "");
    token_uri_ = j.value("token_uri", kDefaultTokenUri);
    MODEL_LOG(info, "GCS storage: endpoint {}, service account {} (token endpoint {})", endpoint_, client_email_,
              token_uri_);
  }

  // A valid access token ("" for anonymous access); refreshed 5 minutes before it expires.
  bool accessToken(std::string* token, std::string* error) {
    if (!config_error_.empty()) {
      *error = config_error_;
      return false;
    }
    if (client_email_.empty()) {
      token->clear();
      return true;
    }
    std::lock_guard lock(token_mutex_);
    auto now = std::chrono::system_clock::now();
    if (!token_.empty() && now < token_refresh_at_) {
      *token = token_;
      return true;
    }
    long iat = static_cast<long>(std::time(nullptr));
    std::string jwt;
    if (!makeGoogleJwt(client_email_, private_key_, token_uri_, kScope, iat, &jwt, error)) {
      *error = "signing the OAuth2 assertion: " + *error;
      return false;
    }
    HttpRequest req;
    req.method = "POST";
    req.url = token_uri_;
    req.total_timeout_s = 60;
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    req.body = "grant_type=" + uriEncode("urn:ietf:params:oauth:grant-type:jwt-bearer", false) + "&assertion=" + jwt;
    HttpResponse r = httpPerform(req);
    if (!r.ok()) {
      *error = "getting an OAuth2 access token from " + token_uri_ + ": " + gcsError(r);
      return false;
    }
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("access_token") || !j["access_token"].is_string()) {
      *error = "the OAuth2 token response from " + token_uri_ + " has no access_token";
      return false;
    }
    token_ = j["access_token"].get<std::string>();
    long expires_in = j.contains("expires_in") && j["expires_in"].is_number() ? j["expires_in"].get<long>() : 3600;
    long margin = expires_in > 600 ? 300 : expires_in / 2;
    token_refresh_at_ = now + std::chrono::seconds(expires_in - margin);
    MODEL_LOG(debug, "GCS storage: got an access token valid for {} s", expires_in);
    *token = token_;
    return true;
  }

  bool get(const std::string& url, FILE* sink, long total_timeout, HttpResponse* out, std::string* error,
           uint64_t offset = 0, uint64_t length = 0) {
    std::string token;
    if (!accessToken(&token, error)) return false;
    HttpRequest req;
    req.url = url;
    req.total_timeout_s = total_timeout;
    if (!token.empty()) req.headers.push_back("Authorization: Bearer " + token);
    if (length > 0) {
      req.headers.push_back("Range: bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1));
      req.expect_partial = true;
    }
    *out = httpPerform(req, sink);
    if (out->status == 401 && !token.empty()) {
      std::lock_guard lock(token_mutex_);
      token_.clear();  // revoked or expired early: fetch a new one next time
    }
    return true;
  }

  std::string endpoint_ = "https://storage.googleapis.com";
  std::string client_email_, private_key_, token_uri_;
  std::string config_error_;
  std::mutex token_mutex_;
  std::string token_;
  std::chrono::system_clock::time_point token_refresh_at_;
};

}  // namespace

bool makeGoogleJwt(const std::string& client_email, const std::string& private_key_pem, const std::string& token_uri,
                   const std::string& scope, long now, std::string* jwt, std::string* error) {
  json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  json claims = {{"iss", client_email}, {"scope", scope}, {"aud", token_uri}, {"iat", now}, {"exp", now + 3600}};
  std::string signing_input = base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims.dump());
  std::string signature;
  if (!rsaSha256Sign(private_key_pem, signing_input, &signature, error)) return false;
  *jwt = signing_input + "." + base64UrlEncode(signature);
  return true;
}

std::unique_ptr<ObjectStore> makeGcsStore() { return std::make_unique<GcsStore>(); }

}  // namespace ovms::storage
