#pragma once
// A small blocking HTTP client over libcurl for the object-storage REST APIs. libcurl honours
// http_proxy / https_proxy / no_proxy from the environment. One easy handle is kept per thread so
// that connections are reused. Nothing here logs: callers log URLs without query strings.
#include <cstdio>
#include <string>
#include <vector>

namespace ovms::storage {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  // Seconds without a single byte received before the transfer is abandoned.
  long stall_timeout_s = 30;
  // Upper bound for the whole transfer (0 = none; downloads of large files have none).
  long total_timeout_s = 0;
  // A ranged GET: anything but 206 Partial Content is refused rather than written to the sink.
  bool expect_partial = false;
};

struct HttpResponse {
  long status = 0;            // 0 when no HTTP response arrived
  std::string body;           // the body, or for a download that failed, the error body (capped)
  std::string transport_error;  // libcurl's reason when no complete response arrived
  bool ok() const { return transport_error.empty() && status >= 200 && status < 300; }
  // "HTTP 403: <short body>" or the transport error, for logs and status messages.
  std::string describe() const;
};

// The transport error of a ranged request answered with the whole object.
constexpr const char* kRangeIgnored = "the server ignored the Range header";

// Sends the request; with `sink` the body of a 2xx response is streamed into it.
HttpResponse httpPerform(const HttpRequest& request, FILE* sink = nullptr);

// The connect timeout (seconds) and stall timeout can be shortened for tests through the
// environment: OVMS_STORAGE_CONNECT_TIMEOUT, OVMS_STORAGE_STALL_TIMEOUT.
long envSeconds(const char* name, long fallback);

}  // namespace ovms::storage
