#include "storage/http_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>

namespace ovms::storage {
namespace {

constexpr size_t kMaxErrorBody = 4096;

struct Transfer {
  CURL* curl;
  FILE* sink;
  std::string* body;
  bool expect_partial = false;
  bool write_failed = false;
  bool range_ignored = false;
};

size_t onData(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  if (t->sink && t->expect_partial && code == 200) {
    t->range_ignored = true;  // the whole object is coming: do not write it at this part's offset
    return 0;
  }
  if (t->sink && code >= 200 && code < 300) {
    if (fwrite(data, 1, bytes, t->sink) != bytes) {
      t->write_failed = true;
      return 0;
    }
    return bytes;
  }
  if (t->sink) {
    // An error body of a download: keep the start for the message.
    if (t->body->size() < kMaxErrorBody) t->body->append(data, std::min(bytes, kMaxErrorBody - t->body->size()));
    return bytes;
  }
  t->body->append(data, bytes);
  return bytes;
}

struct Handle {
  CURL* curl = nullptr;
  Handle() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl = curl_easy_init();
  }
  ~Handle() {
    if (curl) curl_easy_cleanup(curl);
  }
};

}  // namespace

long envSeconds(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return (end && *end == '\0' && n > 0) ? n : fallback;
}

std::string HttpResponse::describe() const {
  if (!transport_error.empty()) return transport_error;
  std::string text = "HTTP " + std::to_string(status);
  std::string snippet = body.substr(0, 300);
  for (char& c : snippet)
    if (c == '\n' || c == '\r') c = ' ';
  if (!snippet.empty()) text += ": " + snippet;
  return text;
}

HttpResponse httpPerform(const HttpRequest& request, FILE* sink) {
  thread_local Handle handle;
  HttpResponse response;
  CURL* curl = handle.curl;
  if (!curl) {
    response.transport_error = "could not initialise libcurl";
    return response;
  }
  curl_easy_reset(curl);
  Transfer transfer{curl, sink, &response.body, request.expect_partial};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  // Larger reads for downloads: fewer write calls per megabyte.
  if (sink) curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 256L * 1024);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, envSeconds("OVMS_STORAGE_CONNECT_TIMEOUT", 10));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, envSeconds("OVMS_STORAGE_STALL_TIMEOUT", request.stall_timeout_s));
  if (request.total_timeout_s > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT, request.total_timeout_s);
  // Certificates are always verified (libcurl's default). A private CA (an S3-compatible server
  // in the cluster, a TLS-intercepting proxy) is trusted through OpenSSL's usual variables.
  if (const char* file = std::getenv("SSL_CERT_FILE"); file && *file) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, file);
    curl_easy_setopt(curl, CURLOPT_PROXY_CAINFO, file);
  }
  if (const char* dir = std::getenv("SSL_CERT_DIR"); dir && *dir) {
    curl_easy_setopt(curl, CURLOPT_CAPATH, dir);
    curl_easy_setopt(curl, CURLOPT_PROXY_CAPATH, dir);
  }
  // Only http(s): a redirect or a proxy setting must never reach file:// or other protocols.
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "POST" || !request.body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_slist_free_all(headers);
  if (transfer.range_ignored) {
    response.transport_error = std::string(kRangeIgnored);
  } else if (transfer.write_failed) {
    response.transport_error = "writing the downloaded file failed (disk full?)";
  } else if (rc != CURLE_OK) {
    std::string reason = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    response.transport_error = std::string(curl_easy_strerror(rc)) + (reason != curl_easy_strerror(rc) ? ": " + reason : "");
  }
  return response;
}

}  // namespace ovms::storage
