#include "storage/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "storage/crypto.h"

namespace ovms::storage {
namespace {

std::string trimAndCollapse(const std::string& v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string sigV4CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [k, v] : query) encoded.emplace_back(uriEncode(k, false), uriEncode(v, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string amzDateNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

SigV4Result sigV4Sign(const SigV4Request& request, const AwsCredentials& credentials, const std::string& region,
                      const std::string& service, const std::string& amz_date) {
  std::map<std::string, std::string> headers;
  headers["host"] = request.host;
  headers["x-amz-date"] = amz_date;
  for (const auto& [k, v] : request.headers) headers[lower(k)] = trimAndCollapse(v);
  std::string canonical_headers, signed_headers;
  for (const auto& [k, v] : headers) {
    canonical_headers += k + ":" + v + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += k;
  }
  SigV4Result r;
  r.signed_headers = signed_headers;
  r.canonical_request = request.method + "\n" + (request.path.empty() ? "/" : request.path) + "\n" +
                        sigV4CanonicalQuery(request.query) + "\n" + canonical_headers + "\n" + signed_headers + "\n" +
                        request.payload_sha256;
  std::string date = amz_date.substr(0, 8);
  std::string scope = date + "/" + region + "/" + service + "/aws4_request";
  r.string_to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + sha256Hex(r.canonical_request);
  std::string k = hmacSha256("AWS4" + credentials.secret_access_key, date);
  k = hmacSha256(k, region);
  k = hmacSha256(k, service);
  k = hmacSha256(k, "aws4_request");
  r.signature = hexEncode(hmacSha256(k, r.string_to_sign));
  r.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                    ", SignedHeaders=" + signed_headers + ", Signature=" + r.signature;
  return r;
}

}  // namespace ovms::storage
