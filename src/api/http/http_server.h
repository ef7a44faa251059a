// Minimal, fast HTTP/1.1 server (Boost.Beast) used by the REST API front end.
// It knows nothing about models: every parsed request is handed to one HttpHandler.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ovms::http {

struct HttpRequest {
  std::string method;            // "GET", "POST", "OPTIONS", ... as received (upper case)
  std::string path;              // target before '?', NOT url-decoded
  std::string query;             // after '?', may be empty
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  const std::string* header(std::string_view lowercase_name) const;  // nullptr if absent
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

struct HttpServerOptions {
  std::string bind_address = "0.0.0.0";   // may be a comma-separated list of IPv4/IPv6/hostnames; listen on each
  uint16_t port = 0;
  unsigned workers = 2;                    // threads that run handlers (OVMS --rest_workers)
  uint64_t max_body_bytes = 1ull << 30;    // 1 GiB, as OVMS
  std::chrono::seconds idle_timeout{60};   // keep-alive connections idle longer than this are closed
  // Bytes of request bodies held at once by all connections (declared Content-Length, or received so
  // far for chunked bodies), until their responses are written. Past it: 429 + Retry-After. 0 = no bound.
  uint64_t max_inflight_body_bytes = 0;
  // A request body must arrive completely within this much time of its header; 0 = no deadline.
  std::chrono::seconds body_deadline{300};
  // After `min_rate_grace`, a body must average at least this many bytes per second; 0 = no minimum.
  uint64_t min_body_bytes_per_second = 1024;
  std::chrono::seconds min_rate_grace{10};
  // Called (on an I/O thread) for every request refused by the limits above: "body_bytes" (429),
  // "slow_body" (closed: deadline or minimum rate missed).
  std::function<void(std::string_view reason)> on_refused;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();                           // stops if running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving; returns false and sets *error (e.g. "port is busy"/bind error text) on failure.
  bool start(std::string* error);
  uint16_t port() const;                   // actual bound port (useful when options.port == 0 in tests)
  // Graceful: stop accepting new connections, let requests already being handled finish and their
  // responses be written, then close connections and join threads. Idempotent.
  void stop();
  // As stop(), but gives requests already being handled at most `grace` to finish; connections still
  // busy after that are closed (a handler still running is left to finish on its own thread).
  void stop(std::chrono::milliseconds grace);
  // Bytes of request bodies currently held (see max_inflight_body_bytes).
  uint64_t inflightBodyBytes() const;
  // TLS from PEM text (certificate chain, private key; client CA for mTLS, empty = no client
  // certificates). Called before start(), every connection is TLS. Called again (rotation), new
  // connections use the new material and connections already open keep theirs. Returns false and
  // keeps the material in use when OpenSSL rejects the new one.
  bool setTls(const std::string& cert_chain_pem, const std::string& key_pem, const std::string& client_ca_pem,
              std::string* error);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ovms::http
