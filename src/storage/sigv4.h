#pragma once
// AWS Signature Version 4 (header-based) for S3 and other AWS services.
#include <string>
#include <utility>
#include <vector>

namespace ovms::storage {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (temporary credentials)
};

struct SigV4Request {
  std::string method;
  std::string host;                // as sent in the Host header (with :port when not default)
  std::string path;                // the request path, already percent-encoded as it goes on the wire
  std::vector<std::pair<std::string, std::string>> query;  // raw (not encoded) names and values
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers to sign (not host / x-amz-date)
  std::string payload_sha256;      // hex; for S3 also sent as x-amz-content-sha256
};

struct SigV4Result {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string authorization;  // the Authorization header value
  std::string signed_headers;
};

// Signs `request` at `amz_date` (YYYYMMDDTHHMMSSZ). Headers signed: host, x-amz-date and those in
// request.headers (lower-cased, values trimmed).
SigV4Result sigV4Sign(const SigV4Request& request, const AwsCredentials& credentials, const std::string& region,
                      const std::string& service, const std::string& amz_date);

// The canonical query string: names and values RFC 3986-encoded, sorted by name then value.
std::string sigV4CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query);

// Current UTC time as YYYYMMDDTHHMMSSZ.
std::string amzDateNow();

}  // namespace ovms::storage
