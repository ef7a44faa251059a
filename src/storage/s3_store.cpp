// s3://bucket/prefix over the S3 REST API (ListObjectsV2 + GetObject), signed with SigV4.
#include <pugixml.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/logging.h"
#include "storage/cloud_stores.h"
#include "storage/crypto.h"
#include "storage/http_client.h"

namespace ovms::storage {
namespace {

const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// "HTTP 403 AccessDenied: Access Denied" from an S3 error document, without echoing anything else
// (SignatureDoesNotMatch bodies carry the string to sign).
std::string s3Error(const HttpResponse& r) {
  if (!r.transport_error.empty()) return r.transport_error;
  std::string text = "HTTP " + std::to_string(r.status);
  pugi::xml_document doc;
  if (doc.load_string(r.body.c_str())) {
    auto e = doc.child("Error");
    std::string code = e.child_value("Code"), message = e.child_value("Message");
    if (!code.empty()) text += " " + code;
    if (!message.empty()) text += ": " + message;
  }
  if (r.status == 404 && text == "HTTP 404") text += " (no such bucket or key)";
  return text;
}

class S3Store : public ObjectStore {
 public:
  S3Store() {
    region_ = env("AWS_REGION");
    if (region_.empty()) region_ = env("AWS_DEFAULT_REGION");
    if (region_.empty()) region_ = "us-east-1";
    std::string source;
    signed_ = awsCredentialsFromEnvironment(&credentials_, &source);
    std::string endpoint = env("S3_ENDPOINT");
    if (!endpoint.empty()) {
      // HOST:PORT (https unless S3_USE_HTTPS=0) or a URL with http:// or https://.
      path_style_ = true;
      scheme_ = env("S3_USE_HTTPS") == "0" ? "http" : "https";
      auto pos = endpoint.find("://");
      if (pos != std::string::npos) {
        scheme_ = endpoint.substr(0, pos);
        endpoint = endpoint.substr(pos + 3);
      }
      while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
      host_ = endpoint;
    } else {
      host_ = "s3." + region_ + ".amazonaws.com";
    }
    MODEL_LOG(info, "S3 storage: endpoint {}://{}, region {}, {}", scheme_, host_, region_,
              signed_ ? "credentials from " + source : std::string("anonymous (no credentials found)"));
  }
  std::string scheme() const override { return "s3"; }

  bool list(const std::string& bucket, const std::string& prefix, bool delimited, ObjectListing* out,
            std::string* error) override {
    std::string token;
    for (int page = 0; page < 100000; ++page) {
      std::vector<std::pair<std::string, std::string>> query{{"list-type", "2"}, {"prefix", prefix}};
      if (delimited) query.emplace_back("delimiter", "/");
      if (!token.empty()) query.emplace_back("continuation-token", token);
      HttpResponse r = send(bucket, "", query, nullptr, 120);
      if (!r.ok()) {
        *error = "listing s3://" + bucket + "/" + prefix + ": " + s3Error(r);
        return false;
      }
      pugi::xml_document doc;
      if (!doc.load_string(r.body.c_str())) {
        *error = "listing s3://" + bucket + "/" + prefix + ": the response is not XML";
        return false;
      }
      auto root = doc.child("ListBucketResult");
      for (auto c : root.children("Contents")) {
        ObjectInfo o;
        o.key = c.child_value("Key");
        o.size = std::strtoull(c.child_value("Size"), nullptr, 10);
        o.etag = c.child_value("ETag");
        out->objects.push_back(std::move(o));
      }
      for (auto p : root.children("CommonPrefixes")) out->prefixes.push_back(p.child_value("Prefix"));
      std::string truncated = root.child_value("IsTruncated");
      token = root.child_value("NextContinuationToken");
      if (truncated != "true" || token.empty()) return true;
    }
    *error = "listing s3://" + bucket + "/" + prefix + ": too many pages";
    return false;
  }

  bool download(const std::string& bucket, const std::string& key, uint64_t offset, uint64_t length, FILE* file,
                std::string* error) override {
    HttpResponse r = send(bucket, key, {}, file, 0, offset, length);
    if (!r.ok()) {
      *error = s3Error(r);
      return false;
    }
    return true;
  }

 private:
  HttpResponse send(const std::string& bucket, const std::string& key,
                    const std::vector<std::pair<std::string, std::string>>& query, FILE* sink, long total_timeout,
                    uint64_t offset = 0, uint64_t length = 0) {
    // Path-style for custom endpoints and bucket names with dots; virtual-hosted otherwise.
    bool path_style = path_style_ || bucket.find('.') != std::string::npos;
    std::string host = path_style ? host_ : bucket + "." + host_;
    std::string path = path_style ? "/" + uriEncode(bucket, false) + "/" + uriEncode(key, true) : "/" + uriEncode(key, true);
    if (path_style && key.empty()) path = "/" + uriEncode(bucket, false);
    std::string canonical_query = sigV4CanonicalQuery(query);
    HttpRequest req;
    req.url = scheme_ + "://" + host + path + (canonical_query.empty() ? "" : "?" + canonical_query);
    req.total_timeout_s = total_timeout;
    req.headers.push_back("Host: " + host);
    if (length > 0) {
      req.headers.push_back("Range: bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1));
      req.expect_partial = true;
    }
    if (signed_) {
      SigV4Request sr;
      sr.method = "GET";
      sr.host = host;
      sr.path = path;
      sr.query = query;
      sr.payload_sha256 = kEmptySha256;
      sr.headers.emplace_back("x-amz-content-sha256", kEmptySha256);
      if (!credentials_.session_token.empty()) sr.headers.emplace_back("x-amz-security-token", credentials_.session_token);
      std::string date = amzDateNow();
      SigV4Result signature = sigV4Sign(sr, credentials_, region_, "s3", date);
      req.headers.push_back("x-amz-date: " + date);
      req.headers.push_back(std::string("x-amz-content-sha256: ") + kEmptySha256);
      if (!credentials_.session_token.empty()) req.headers.push_back("x-amz-security-token: " + credentials_.session_token);
      req.headers.push_back("Authorization: " + signature.authorization);
    }
    return httpPerform(req, sink);
  }

  std::string region_, scheme_ = "https", host_;
  bool path_style_ = false;
  bool signed_ = false;
  AwsCredentials credentials_;
};

}  // namespace

bool awsCredentialsFromEnvironment(AwsCredentials* out, std::string* source) {
  std::string id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY");
  if (!id.empty() && !secret.empty()) {
    out->access_key_id = id;
    out->secret_access_key = secret;
    out->session_token = env("AWS_SESSION_TOKEN");
    *source = "the environment";
    return true;
  }
  std::string file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !env("HOME").empty()) file = env("HOME") + "/.aws/credentials";
  std::string profile = env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::ifstream in(file);
  if (!in) return false;
  std::string line, section;
  AwsCredentials found;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      if (section.rfind("profile ", 0) == 0) section = trim(section.substr(8));
      continue;
    }
    if (section != profile) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") found.access_key_id = v;
    else if (k == "aws_secret_access_key") found.secret_access_key = v;
    else if (k == "aws_session_token") found.session_token = v;
  }
  if (found.access_key_id.empty() || found.secret_access_key.empty()) return false;
  *out = found;
  *source = "profile \"" + profile + "\" of " + file;
  return true;
}

std::unique_ptr<ObjectStore> makeS3Store() { return std::make_unique<S3Store>(); }

}  // namespace ovms::storage
