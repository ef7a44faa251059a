// HTTP/1.1 server on Boost.Beast 1.81 + Asio C++20 coroutines.
//
// Threading model: one io_context run by `workers` threads. Every connection is one coroutine on its
// own strand; the handler is called inline on the io thread that resumed the coroutine. A blocking
// handler therefore occupies one worker thread; the other workers keep serving other connections.
//
// Per connection: read header (idle timeout for the whole header) -> reserve the body's bytes in the
// server-wide budget (429 past it) -> optional "100 Continue" -> read body in 64 KiB steps (each step
// bounded by a silence timeout, the whole-body deadline and the minimum average rate, so a body
// trickled a byte at a time cannot hold a connection) -> handler -> release the body -> write
// response (write timeout) -> loop while keep-alive.
//
// TLS (setTls): the same loop runs over a beast::ssl_stream after a bounded handshake; timeouts and
// stop() act on the TCP stream underneath. Each connection keeps the SSL context it was accepted with.
#include "api/http/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <exception>
#include <list>
#include <mutex>
#include <sys/socket.h>
#include <thread>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ovms::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTok = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kInitialReadBuffer = 64 * 1024;  // beast reads at most 64 KiB per read_some
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr std::chrono::seconds kReadTimeout{60};   // max silence while a request is being received
constexpr std::chrono::seconds kWriteTimeout{60};  // max time to write one response
constexpr std::chrono::seconds kLingerTimeout{2};  // drain time after an error response + close
constexpr std::chrono::seconds kTlsHandshakeTimeout{10};
constexpr std::chrono::seconds kTlsShutdownTimeout{2};
constexpr std::size_t kLingerMaxBytes = 16u << 20;
// After a body at least this large is released and no other large body is held, free memory is
// handed back to the OS (glibc keeps freed large-request buffers in its arenas otherwise).
constexpr std::size_t kTrimAfterBodyBytes = 1u << 20;

std::shared_ptr<spdlog::logger> logger() {
  auto l = spdlog::get("serving");
  return l ? l : spdlog::default_logger();
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool hasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

bool isHttpParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

enum class SessionState { kStarting, kReading, kBusy };

// Shared between a session coroutine and stop(). All fields except the executor are only touched
// on the session's strand.
struct SessionCtl {
  explicit SessionCtl(asio::any_io_executor ex) : executor(std::move(ex)) {}
  asio::any_io_executor executor;
  beast::tcp_stream* stream = nullptr;
  SessionState state = SessionState::kStarting;
  std::list<std::shared_ptr<SessionCtl>>::iterator self;
  // The socket's descriptor while the session owns it (-1 after); guarded by Impl::sessions_mu.
  // stop(grace) shuts busy connections down through it: the strand is occupied by the handler.
  int fd = -1;
};

}  // namespace

const std::string* HttpRequest::header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers)
    if (name == lowercase_name) return &value;
  return nullptr;
}

struct HttpServer::Impl {
  Impl(HttpServerOptions o, HttpHandler h) : opt(std::move(o)), handler(std::move(h)) {}

  HttpServerOptions opt;
  HttpHandler handler;
  std::unique_ptr<asio::io_context> ioc;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<uint16_t> bound_port{0};
  std::mutex lifecycle_mu;  // start/stop
  bool running = false;

  std::mutex sessions_mu;
  std::list<std::shared_ptr<SessionCtl>> sessions;

  std::atomic<uint64_t> inflight_body_bytes{0};
  std::atomic<bool> trimming{false};

  // TLS: every new connection takes the context current at accept time and keeps it.
  std::mutex tls_mu;
  std::shared_ptr<ssl::context> tls_ctx;
  std::shared_ptr<ssl::context> currentTls() {
    std::lock_guard lk(tls_mu);
    return tls_ctx;
  }

  // Adds `n` bytes to the body budget; false (nothing added) when that would pass the bound. A body
  // larger than the whole bound is still taken when nothing else is held (it could never fit).
  bool reserveBody(uint64_t n) {
    if (opt.max_inflight_body_bytes == 0 || n == 0) {
      inflight_body_bytes.fetch_add(n);
      return true;
    }
    uint64_t cur = inflight_body_bytes.load();
    do {
      if (cur != 0 && cur + n > opt.max_inflight_body_bytes) return false;
    } while (!inflight_body_bytes.compare_exchange_weak(cur, cur + n));
    return true;
  }
  void releaseBody(uint64_t n) {
    if (n == 0) return;
    uint64_t left = inflight_body_bytes.fetch_sub(n) - n;
#if defined(__GLIBC__)
    // Not only when nothing is held: under steady traffic some small body almost always is.
    if (n >= kTrimAfterBodyBytes && left < kTrimAfterBodyBytes && !trimming.exchange(true)) {
      malloc_trim(0);
      trimming.store(false);
    }
#else
    (void)left;
#endif
  }
  void refused(std::string_view reason) {
    if (opt.on_refused) {
      try {
        opt.on_refused(reason);
      } catch (...) {
      }
    }
  }

  bool bindAll(std::string* error);
  asio::awaitable<void> listen(tcp::acceptor* acceptor);
  asio::awaitable<void> session(beast::tcp_stream stream, std::shared_ptr<SessionCtl> ctl);
  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, SessionCtl& ctl);
  template <class Stream>
  asio::awaitable<void> sendErrorAndLinger(Stream& stream, beast::flat_buffer& buf, SessionCtl& ctl,
                                           unsigned version, bhttp::status status, std::string_view message,
                                           std::string_view retry_after = {});
  void unregister(const std::shared_ptr<SessionCtl>& ctl) {
    std::lock_guard lk(sessions_mu);
    sessions.erase(ctl->self);
  }
};

namespace {

void buildResponse(bhttp::response<bhttp::string_body>& res, HttpResponse& r, unsigned version, bool& keep_alive) {
  res.version(version);
  int status = r.status;
  if (status < 200 || status > 999) status = 500;  // 1xx cannot carry a final response
  res.result(static_cast<unsigned>(status));
  if (!r.content_type.empty() && !hasCrLf(r.content_type)) res.set(bhttp::field::content_type, r.content_type);
  for (auto& [name, value] : r.headers) {
    if (name.empty() || hasCrLf(name) || hasCrLf(value)) continue;  // no header injection
    if (iequals(name, "content-length") || iequals(name, "transfer-encoding")) continue;  // we frame the body
    if (iequals(name, "connection")) {
      if (iequals(trim(value), "close")) keep_alive = false;
      continue;
    }
    res.insert(name, value);
  }
  if (status == 204 || status == 304) r.body.clear();
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
}

}  // namespace

template <class Stream>
asio::awaitable<void> HttpServer::Impl::sendErrorAndLinger(Stream& stream, beast::flat_buffer& buf,
                                                           SessionCtl& ctl, unsigned version,
                                                           bhttp::status status, std::string_view message,
                                                           std::string_view retry_after) {
  ctl.state = SessionState::kBusy;
  beast::tcp_stream& low = beast::get_lowest_layer(stream);
  bhttp::response<bhttp::string_body> res{status, version == 10 ? 10u : 11u};
  res.set(bhttp::field::content_type, "application/json");
  if (!retry_after.empty()) res.set(bhttp::field::retry_after, retry_after);
  res.body() = "{\"error\":\"" + std::string(message) + "\"}";
  res.keep_alive(false);
  res.prepare_payload();
  low.expires_after(kWriteTimeout);
  auto [ec, n] = co_await bhttp::async_write(stream, res, kTok);
  if (ec) co_return;
  // Lingering close: stop sending, then discard what the client still sends for a short while so the
  // kernel does not answer unread data with RST (which could destroy the response on the client side).
  beast::error_code ignored;
  low.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (stopping.load()) co_return;
  ctl.state = SessionState::kReading;  // stop() may cancel the drain
  low.expires_after(kLingerTimeout);
  std::size_t drained = 0;
  buf.clear();
  while (drained < kLingerMaxBytes && !stopping.load()) {
    auto [rec, rn] = co_await stream.async_read_some(buf.prepare(kInitialReadBuffer), kTok);
    if (rec) break;
    drained += rn;
  }
}

asio::awaitable<void> HttpServer::Impl::session(beast::tcp_stream stream, std::shared_ptr<SessionCtl> ctl) {
  struct Cleanup {
    Impl* self;
    std::shared_ptr<SessionCtl>& ctl;
    ~Cleanup() {
      ctl->stream = nullptr;
      self->unregister(ctl);
    }
  } cleanup{this, ctl};
  {
    std::lock_guard lk(sessions_mu);
    ctl->fd = stream.socket().native_handle();
  }
  auto tls = currentTls();
  if (!tls) {
    ctl->stream = &stream;
    co_await serve(stream, *ctl);
  } else {
    // The session keeps its context alive: a rotation only changes what later connections get.
    beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *tls);
    beast::tcp_stream& low = beast::get_lowest_layer(tls_stream);
    ctl->stream = &low;
    ctl->state = SessionState::kReading;  // stop() may cancel the handshake
    low.expires_after(kTlsHandshakeTimeout);
    auto [hec] = co_await tls_stream.async_handshake(ssl::stream_base::server, kTok);
    if (hec) {
      logger()->debug("REST TLS handshake failed: {}", hec.message());
    } else {
      co_await serve(tls_stream, *ctl);
      // close_notify, bounded (a peer that already went away just makes it fail); skipped while the
      // server stops, so stop() does not wait for peers to answer it.
      if (!stopping.load()) {
        low.expires_after(kTlsShutdownTimeout);
        auto [sec] = co_await tls_stream.async_shutdown(kTok);
        (void)sec;
      }
    }
    {
      std::lock_guard lk(sessions_mu);
      ctl->fd = -1;
    }
    beast::error_code ignored;
    low.socket().shutdown(tcp::socket::shutdown_both, ignored);
    low.socket().close(ignored);
    co_return;
  }
  {
    std::lock_guard lk(sessions_mu);
    ctl->fd = -1;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::serve(Stream& stream, SessionCtl& ctl_ref) {
  beast::tcp_stream& low = beast::get_lowest_layer(stream);
  SessionCtl* ctl = &ctl_ref;
  beast::flat_buffer buf;
  buf.reserve(kInitialReadBuffer);

  for (;;) {
    if (stopping.load()) break;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(opt.max_body_bytes);
    parser.header_limit(kHeaderLimit);

    ctl->state = SessionState::kReading;
    low.expires_after(opt.idle_timeout);
    {
      auto [ec, n] = co_await bhttp::async_read_header(stream, buf, parser, kTok);
      if (ec) {
        unsigned version = parser.is_header_done() ? parser.get().version() : 11;
        if (ec == bhttp::error::body_limit)
          co_await sendErrorAndLinger(stream, buf, *ctl, version, bhttp::status::payload_too_large,
                                      "Request body exceeds the size limit");
        else if (ec == bhttp::error::header_limit)
          co_await sendErrorAndLinger(stream, buf, *ctl, version, bhttp::status::request_header_fields_too_large,
                                      "Request header too large");
        else if (isHttpParseError(ec) && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
          co_await sendErrorAndLinger(stream, buf, *ctl, version, bhttp::status::bad_request, "Malformed HTTP request");
        break;  // eof, timeout, reset, cancelled by stop(): just close
      }
    }

    // Body bytes this request holds in the budget, released once its response is written.
    struct Reservation {
      Impl* self;
      uint64_t bytes = 0;
      void release() {
        self->releaseBody(bytes);
        bytes = 0;
      }
      ~Reservation() { release(); }
    } reservation{this};
    auto refuseOverBudget = [&]() -> asio::awaitable<void> {
      refused("body_bytes");
      logger()->warn("REST request refused: request bodies in flight would exceed {} bytes",
                     opt.max_inflight_body_bytes);
      co_await sendErrorAndLinger(stream, buf, *ctl, parser.get().version(), bhttp::status::too_many_requests,
                                  "Too many request bytes in flight; retry later", "1");
    };
    if (auto declared = parser.content_length(); declared && *declared > 0) {
      if (!reserveBody(*declared)) {
        co_await refuseOverBudget();
        break;
      }
      reservation.bytes = *declared;
      // 64 spare bytes: simdjson's padding, so JSON bodies are parsed in place (api/common/json_fast.h).
      parser.get().body().reserve(static_cast<size_t>(*declared) + 64);
    }

    if (!parser.is_done()) {
      const auto& h = parser.get();
      if (h.version() >= 11) {
        auto expect = h[bhttp::field::expect];
        if (!expect.empty()) {
          if (!iequals(trim(expect), "100-continue")) {
            co_await sendErrorAndLinger(stream, buf, *ctl, h.version(), bhttp::status::expectation_failed,
                                        "Unsupported Expect header");
            break;
          }
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          low.expires_after(kWriteTimeout);
          auto [ec, n] = co_await asio::async_write(stream, asio::buffer(kContinue.data(), kContinue.size()), kTok);
          if (ec) break;
        }
      }
      beast::error_code ec;
      bool over_budget = false;
      const auto body_start = std::chrono::steady_clock::now();
      const auto body_deadline = opt.body_deadline.count() > 0 ? body_start + opt.body_deadline
                                                               : std::chrono::steady_clock::time_point::max();
      uint64_t received = 0;
      while (!parser.is_done()) {
        if (stopping.load()) {
          ec = asio::error::operation_aborted;
          break;
        }
        // Silence timeout, whole-body deadline, and the time by which the bytes received so far
        // fall below the minimum average rate: whichever comes first closes the connection.
        auto expiry = std::min(std::chrono::steady_clock::now() + kReadTimeout, body_deadline);
        if (opt.min_body_bytes_per_second > 0) {
          auto allowed = opt.min_rate_grace + std::chrono::milliseconds(received * 1000 / opt.min_body_bytes_per_second);
          expiry = std::min(expiry, body_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(allowed));
        }
        low.expires_at(expiry);
        auto [rec, n] = co_await bhttp::async_read_some(stream, buf, parser, kTok);
        received += n;
        if (rec) {
          ec = rec;
          break;
        }
        if (!parser.content_length()) {  // chunked: the budget grows with the body
          uint64_t size = parser.get().body().size();
          if (size > reservation.bytes) {
            if (!reserveBody(size - reservation.bytes)) {
              over_budget = true;
              break;
            }
            reservation.bytes = size;
          }
        }
      }
      if (over_budget) {
        co_await refuseOverBudget();
        break;
      }
      if (ec == beast::error::timeout) {
        refused("slow_body");
        logger()->warn("REST request body not received in time ({} bytes in {} ms); connection closed", received,
                       std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - body_start).count());
        break;
      }
      if (ec) {
        unsigned version = parser.get().version();
        if (ec == bhttp::error::body_limit)
          co_await sendErrorAndLinger(stream, buf, *ctl, version, bhttp::status::payload_too_large,
                                      "Request body exceeds the size limit");
        else if (isHttpParseError(ec) && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
          co_await sendErrorAndLinger(stream, buf, *ctl, version, bhttp::status::bad_request, "Malformed HTTP request");
        break;
      }
    }

    ctl->state = SessionState::kBusy;
    low.expires_never();

    auto msg = parser.release();
    const unsigned version = msg.version();
    bool keep_alive = msg.keep_alive();
    const bool is_head = msg.method() == bhttp::verb::head;

    HttpRequest req;
    req.method = std::string(msg.method_string());
    {
      std::string_view target = msg.target();
      auto q = target.find('?');
      if (q == std::string_view::npos) {
        req.path = std::string(target);
      } else {
        req.path = std::string(target.substr(0, q));
        req.query = std::string(target.substr(q + 1));
      }
    }
    req.headers.reserve(8);
    for (const auto& f : msg) req.headers.emplace_back(toLower(f.name_string()), std::string(f.value()));
    req.body = std::move(msg.body());

    HttpResponse resp;
    try {
      handler(req, resp);
      std::string().swap(req.body);  // the body's memory goes back before the response is written
    } catch (const std::exception& e) {
      logger()->error("REST handler threw for {} {}: {}", req.method, req.path, e.what());
      resp = HttpResponse{};
      resp.status = 500;
      resp.body = "{\"error\":\"Internal server error\"}";
    } catch (...) {
      logger()->error("REST handler threw an unknown exception for {} {}", req.method, req.path);
      resp = HttpResponse{};
      resp.status = 500;
      resp.body = "{\"error\":\"Internal server error\"}";
    }
    std::string().swap(req.body);
    if (stopping.load()) keep_alive = false;

    bhttp::response<bhttp::string_body> res;
    try {
      buildResponse(res, resp, version, keep_alive);
    } catch (const std::exception& e) {
      logger()->error("Cannot build REST response: {}", e.what());
      res = bhttp::response<bhttp::string_body>{bhttp::status::internal_server_error, version};
      res.set(bhttp::field::content_type, "application/json");
      res.body() = "{\"error\":\"Internal server error\"}";
      keep_alive = false;
      res.keep_alive(false);
      res.prepare_payload();
    }

    low.expires_after(kWriteTimeout);
    beast::error_code wec;
    if (is_head) {
      bhttp::response_serializer<bhttp::string_body> sr{res};
      auto [ec, n] = co_await bhttp::async_write_header(stream, sr, kTok);
      wec = ec;
    } else {
      auto [ec, n] = co_await bhttp::async_write(stream, res, kTok);
      wec = ec;
    }
    // The request's bytes count until its response is written; its memory goes back with it
    // (releasing a large body may trim the heap, which must come after the response is freed too).
    std::string().swap(res.body());
    std::string().swap(resp.body);
    reservation.release();
    if (wec || !keep_alive) break;
  }

}

asio::awaitable<void> HttpServer::Impl::listen(tcp::acceptor* acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(asio::any_io_executor(asio::make_strand(*ioc)), kTok);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping.load() || !acceptor->is_open()) co_return;
      // e.g. EMFILE: back off briefly instead of spinning.
      logger()->warn("REST accept failed: {}", ec.message());
      asio::steady_timer t(acceptor->get_executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(kTok);
      continue;
    }
    if (stopping.load()) {
      beast::error_code ignored;
      socket.close(ignored);
      co_return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto ex = socket.get_executor();
    auto ctl = std::make_shared<SessionCtl>(ex);
    {
      std::lock_guard lk(sessions_mu);
      sessions.push_front(ctl);
      ctl->self = sessions.begin();
    }
    asio::co_spawn(ex, session(beast::tcp_stream(std::move(socket)), ctl), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        logger()->error("REST session terminated by exception: {}", ex.what());
      } catch (...) {
        logger()->error("REST session terminated by unknown exception");
      }
    });
  }
}

bool HttpServer::Impl::bindAll(std::string* error) {
  auto fail = [&](std::string msg) {
    if (error) *error = std::move(msg);
    for (auto& a : acceptors) {
      beast::error_code ignored;
      a->close(ignored);
    }
    acceptors.clear();
    return false;
  };

  struct Target {
    tcp::endpoint ep;
    std::string label;   // as the user wrote it
    bool from_hostname;  // resolved: some of its addresses may be unusable
  };
  std::vector<Target> targets;
  std::string_view list = opt.bind_address;
  while (true) {
    auto comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (!item.empty()) {
      std::string host(item);
      if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
      beast::error_code ec;
      auto addr = asio::ip::make_address(host, ec);
      if (!ec) {
        targets.push_back({tcp::endpoint(addr, opt.port), host, false});
      } else {
        tcp::resolver resolver(*ioc);
        auto results = resolver.resolve(host, std::to_string(opt.port), tcp::resolver::passive, ec);
        if (ec || results.empty())
          return fail("Cannot resolve REST bind address '" + host + "': " + (ec ? ec.message() : "no addresses"));
        for (const auto& r : results) {
          auto ep = r.endpoint();
          bool dup = std::any_of(targets.begin(), targets.end(),
                                 [&](const Target& t) { return t.ep.address() == ep.address(); });
          if (!dup) targets.push_back({ep, host, true});
        }
      }
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (targets.empty()) return fail("REST bind address is empty");

  const bool has_v4 = std::any_of(targets.begin(), targets.end(), [](const Target& t) { return t.ep.address().is_v4(); });
  uint16_t port = opt.port;
  std::vector<std::string> soft_errors;
  for (auto& t : targets) {
    tcp::endpoint ep(t.ep.address(), port);  // port 0: every listener shares the first ephemeral port
    auto acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(*ioc));
    beast::error_code ec;
    std::string where = (ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string()) +
                        ":" + std::to_string(port);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && ep.address().is_v6() && has_v4) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      std::string msg = "Failed to bind REST server to " + where + ": ";
      if (ec == asio::error::address_in_use)
        msg += "port is busy (" + ec.message() + ")";
      else
        msg += ec.message();
      if (t.from_hostname && ec != asio::error::address_in_use) {
        soft_errors.push_back(msg);  // e.g. ::1 on a host without IPv6
        continue;
      }
      return fail(msg);
    }
    if (port == 0) port = acceptor->local_endpoint().port();
    acceptors.push_back(std::move(acceptor));
  }
  if (acceptors.empty()) return fail(soft_errors.empty() ? "REST server: nothing to bind" : soft_errors.front());
  for (const auto& m : soft_errors) logger()->warn("{}", m);
  bound_port.store(port);
  return true;
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::port() const { return impl_->bound_port.load(); }

bool HttpServer::start(std::string* error) {
  auto& s = *impl_;
  std::lock_guard lk(s.lifecycle_mu);
  if (s.running) {
    if (error) *error = "REST server already started";
    return false;
  }
  if (!s.handler) {
    if (error) *error = "REST server has no handler";
    return false;
  }
  try {
    const unsigned workers = std::max(1u, s.opt.workers);
    s.ioc = std::make_unique<asio::io_context>(static_cast<int>(workers));
    s.stopping.store(false);
    if (!s.bindAll(error)) {
      s.ioc.reset();
      return false;
    }
    for (auto& a : s.acceptors)
      asio::co_spawn(a->get_executor(), s.listen(a.get()), [](std::exception_ptr e) {
        if (e) logger()->error("REST listener terminated by exception");
      });
    for (unsigned i = 0; i < workers; ++i)
      s.threads.emplace_back([&s] {
        for (;;) {
          try {
            s.ioc->run();
            return;
          } catch (const std::exception& e) {
            logger()->error("REST worker caught exception: {}", e.what());
          } catch (...) {
            logger()->error("REST worker caught unknown exception");
          }
        }
      });
    s.running = true;
    return true;
  } catch (const std::exception& e) {
    if (error) *error = std::string("Failed to start REST server: ") + e.what();
  } catch (...) {
    if (error) *error = "Failed to start REST server";
  }
  // Clean up a partial start.
  s.stopping.store(true);
  for (auto& a : s.acceptors) {
    asio::post(a->get_executor(), [a = a.get()] {
      beast::error_code ec;
      a->close(ec);
    });
  }
  if (s.ioc) s.ioc->stop();
  for (auto& t : s.threads)
    if (t.joinable()) t.join();
  s.threads.clear();
  s.acceptors.clear();
  s.ioc.reset();
  return false;
}

uint64_t HttpServer::inflightBodyBytes() const { return impl_->inflight_body_bytes.load(); }

bool HttpServer::setTls(const std::string& cert_chain_pem, const std::string& key_pem,
                        const std::string& client_ca_pem, std::string* error) {
  try {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    ctx->use_certificate_chain(asio::buffer(cert_chain_pem));
    ctx->use_private_key(asio::buffer(key_pem), ssl::context::pem);
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
      throw std::runtime_error("the private key does not match the certificate");
    if (!client_ca_pem.empty()) {
      ctx->add_certificate_authority(asio::buffer(client_ca_pem));
      ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    } else {
      ctx->set_verify_mode(ssl::verify_none);
    }
    std::lock_guard lk(impl_->tls_mu);
    impl_->tls_ctx = std::move(ctx);
    return true;
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return false;
  }
}

void HttpServer::stop() { stop(std::chrono::milliseconds::max()); }

void HttpServer::stop(std::chrono::milliseconds grace) {
  auto& s = *impl_;
  std::lock_guard lk(s.lifecycle_mu);
  if (!s.running) return;
  s.running = false;
  s.stopping.store(true);
  for (auto& a : s.acceptors)
    asio::post(a->get_executor(), [a = a.get()] {
      beast::error_code ec;
      a->close(ec);
    });
  {
    std::lock_guard sl(s.sessions_mu);
    for (auto& ctl : s.sessions)
      asio::post(ctl->executor, [ctl] {
        // Idle or still receiving a request: close now. Busy (handler running / writing): the session
        // sees `stopping` after its response is written and closes by itself.
        // Sessions check `stopping` before starting any read, so cancelling the pending one suffices.
        if (ctl->stream && ctl->state == SessionState::kReading) ctl->stream->cancel();
      });
  }
  if (grace != std::chrono::milliseconds::max()) {
    const auto deadline = std::chrono::steady_clock::now() + grace;
    for (;;) {
      {
        std::lock_guard sl(s.sessions_mu);
        if (s.sessions.empty()) break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        std::lock_guard sl(s.sessions_mu);
        logger()->warn("REST server: {} connection(s) still busy after the {} ms grace period; closing them",
                       s.sessions.size(), grace.count());
        for (auto& ctl : s.sessions)
          if (ctl->fd >= 0) ::shutdown(ctl->fd, SHUT_RDWR);  // the pending or next write fails; the session ends
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  const auto self = std::this_thread::get_id();
  bool detached = false;
  for (auto& t : s.threads) {
    if (t.get_id() == self) {
      t.detach();  // stop() called from a handler: cannot join ourselves
      detached = true;
      continue;
    }
    t.join();
  }
  s.threads.clear();
  if (detached) {
    // The calling worker is still inside ioc->run(): leak the io objects rather than destroy them under it.
    for (auto& a : s.acceptors) (void)a.release();
    (void)s.ioc.release();
  }
  s.acceptors.clear();
  s.ioc.reset();
  s.bound_port.store(0);
}

}  // namespace ovms::http
