#include "api/http/http_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using ovms::http::HttpRequest;
using ovms::http::HttpResponse;
using ovms::http::HttpServer;
using ovms::http::HttpServerOptions;

namespace {

// Echo handler: reports what it received in a simple, deterministic text form.
void echoHandler(const HttpRequest& req, HttpResponse& res) {
  if (req.path == "/throw") throw std::runtime_error("boom");
  if (req.path == "/size") {
    uint64_t sum = 0;
    for (unsigned char c : req.body) sum += c;
    res.body = "{\"size\":" + std::to_string(req.body.size()) + ",\"sum\":" + std::to_string(sum) + "}";
    return;
  }
  if (req.path == "/status") {
    res.status = 404;
    res.headers.emplace_back("X-Extra", "yes");
    res.body = "{\"error\":\"nope\"}";
    return;
  }
  const std::string* xt = req.header("x-test");
  res.content_type = "text/plain";
  res.body = req.method + "|" + req.path + "|" + req.query + "|" + (xt ? *xt : "-") + "|" + req.body;
}

std::unique_ptr<HttpServer> startServer(HttpServerOptions opt, ovms::http::HttpHandler h = echoHandler) {
  opt.bind_address = opt.bind_address == "0.0.0.0" ? "127.0.0.1" : opt.bind_address;
  auto s = std::make_unique<HttpServer>(opt, std::move(h));
  std::string err;
  EXPECT_TRUE(s->start(&err)) << err;
  EXPECT_NE(s->port(), 0);
  return s;
}

struct Client {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buf;
  explicit Client(uint16_t port) {
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream.expires_after(30s);
  }
  bhttp::response<bhttp::string_body> request(bhttp::verb method, const std::string& target, std::string body = {},
                                              int version = 11) {
    bhttp::request<bhttp::string_body> req{method, target, static_cast<unsigned>(version)};
    req.set(bhttp::field::host, "localhost");
    req.set("X-Test", "hello");
    if (version == 10) req.set(bhttp::field::connection, "keep-alive");
    req.body() = std::move(body);
    req.prepare_payload();
    stream.expires_after(30s);
    bhttp::write(stream, req);
    return read();
  }
  bhttp::response<bhttp::string_body> read() {
    bhttp::response_parser<bhttp::string_body> p;
    p.body_limit(1ull << 30);
    bhttp::read(stream, buf, p);
    return p.release();
  }
  void writeRaw(std::string_view s) { asio::write(stream.socket(), asio::buffer(s.data(), s.size())); }
  // Reads until the server closes the connection; returns everything read (incl. buffered bytes).
  std::string readAll() {
    std::string out(static_cast<const char*>(buf.data().data()), buf.size());
    buf.consume(buf.size());
    char tmp[4096];
    for (;;) {
      beast::error_code ec;
      std::size_t n = stream.socket().read_some(asio::buffer(tmp), ec);
      out.append(tmp, n);
      if (ec) break;
    }
    return out;
  }
  bool closedByPeer() {
    char c;
    beast::error_code ec;
    stream.socket().read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
};

}  // namespace

TEST(HttpServer, GetAndPostEcho) {
  auto s = startServer({});
  Client c(s->port());
  auto r = c.request(bhttp::verb::get, "/v1/models/m%20x?a=1&b=2");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "GET|/v1/models/m%20x|a=1&b=2|hello|");
  EXPECT_EQ(r[bhttp::field::content_type], "text/plain");
  EXPECT_EQ(r[bhttp::field::content_length], std::to_string(r.body().size()));
  r = c.request(bhttp::verb::post, "/p", "{\"x\":1}");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "POST|/p||hello|{\"x\":1}");
  r = c.request(bhttp::verb::get, "/status");
  EXPECT_EQ(r.result_int(), 404);
  EXPECT_EQ(r["X-Extra"], "yes");
  EXPECT_EQ(r[bhttp::field::content_type], "application/json");
  r = c.request(bhttp::verb::options, "/o");
  EXPECT_EQ(r.body(), "OPTIONS|/o||hello|");
}

TEST(HttpServer, KeepAliveAndPipelining) {
  std::atomic<int> calls{0};
  auto s = startServer({}, [&](const HttpRequest& q, HttpResponse& r) {
    ++calls;
    echoHandler(q, r);
  });
  Client c(s->port());
  for (int i = 0; i < 10; ++i) {
    auto r = c.request(bhttp::verb::post, "/k" + std::to_string(i), std::to_string(i));
    ASSERT_EQ(r.result_int(), 200);
    EXPECT_EQ(r.body(), "POST|/k" + std::to_string(i) + "||hello|" + std::to_string(i));
    EXPECT_TRUE(r.keep_alive());
  }
  // Three pipelined requests in one write: answered in order.
  c.writeRaw(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
      "GET /c?q HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read().body(), "GET|/a||-|");
  EXPECT_EQ(c.read().body(), "POST|/b||-|xyz");
  EXPECT_EQ(c.read().body(), "GET|/c|q|-|");
  // Chunked request body.
  c.writeRaw("POST /ch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  EXPECT_EQ(c.read().body(), "POST|/ch||-|abcde");
  EXPECT_EQ(calls.load(), 14);
  // Connection: close is honoured.
  c.writeRaw("GET /z HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto r = c.read();
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(c.closedByPeer());
}

TEST(HttpServer, Http10KeepAlive) {
  auto s = startServer({});
  Client c(s->port());
  for (int i = 0; i < 3; ++i) {
    auto r = c.request(bhttp::verb::get, "/ten", {}, 10);
    ASSERT_EQ(r.result_int(), 200);
    EXPECT_EQ(r.version(), 10u);
    EXPECT_EQ(r[bhttp::field::connection], "keep-alive");
    EXPECT_EQ(r.body(), "GET|/ten||hello|");
  }
  // Plain HTTP/1.0 without keep-alive: server closes after the response.
  c.writeRaw("GET /once HTTP/1.0\r\n\r\n");
  std::string all = c.readAll();
  EXPECT_NE(all.find("HTTP/1.0 200"), std::string::npos) << all;
  EXPECT_NE(all.find("GET|/once||-|"), std::string::npos) << all;
}

TEST(HttpServer, HeadRequestHasNoBody) {
  auto s = startServer({});
  Client c(s->port());
  c.writeRaw("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
  bhttp::response_parser<bhttp::string_body> p;
  p.skip(true);
  bhttp::read(c.stream, c.buf, p);
  EXPECT_EQ(p.get().result_int(), 200);
  EXPECT_EQ(p.get()[bhttp::field::content_length], std::to_string(std::string("HEAD|/h||-|").size()));
  EXPECT_EQ(c.read().body(), "GET|/after||-|");
}

TEST(HttpServer, LargePost5MB) {
  auto s = startServer({});
  std::string body(5 * 1024 * 1024, '\0');
  uint64_t sum = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>(i * 131 + 7);
    sum += static_cast<unsigned char>(body[i]);
  }
  Client c(s->port());
  for (int i = 0; i < 2; ++i) {
    auto r = c.request(bhttp::verb::post, "/size", body);
    ASSERT_EQ(r.result_int(), 200);
    EXPECT_EQ(r.body(), "{\"size\":" + std::to_string(body.size()) + ",\"sum\":" + std::to_string(sum) + "}");
  }
}

TEST(HttpServer, ExpectContinue) {
  auto s = startServer({});
  Client c(s->port());
  c.writeRaw("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  std::string got;
  char tmp[256];
  while (got.find("\r\n\r\n") == std::string::npos) {
    std::size_t n = c.stream.socket().read_some(asio::buffer(tmp));
    got.append(tmp, n);
  }
  EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
  c.writeRaw("hello");
  EXPECT_EQ(c.read().body(), "POST|/e||-|hello");
}

TEST(HttpServer, BodyTooLarge413) {
  HttpServerOptions opt;
  opt.max_body_bytes = 1024;
  std::atomic<int> calls{0};
  auto s = startServer(opt, [&](const HttpRequest& q, HttpResponse& r) {
    ++calls;
    echoHandler(q, r);
  });
  {
    Client c(s->port());
    auto r = c.request(bhttp::verb::post, "/size", std::string(1024, 'a'));  // exactly the limit: ok
    EXPECT_EQ(r.result_int(), 200);
  }
  {
    Client c(s->port());
    c.writeRaw("POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + std::string(4096, 'a'));
    auto r = c.read();
    EXPECT_EQ(r.result_int(), 413);
    EXPECT_NE(r.body().find("\"error\""), std::string::npos);
    EXPECT_FALSE(r.keep_alive());
    EXPECT_TRUE(c.closedByPeer());
  }
  {  // chunked body going over the limit
    Client c(s->port());
    std::string req = "POST /size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) req += "200\r\n" + std::string(512, 'b') + "\r\n";
    req += "0\r\n\r\n";
    c.writeRaw(req);
    auto r = c.read();
    EXPECT_EQ(r.result_int(), 413);
  }
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServer, GarbageGets400AndServerSurvives) {
  auto s = startServer({});
  const std::vector<std::string> garbage = {
      std::string("\x00\x01\x02\xff garbage\r\n\r\n", 16),
      "GET\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  };
  for (const auto& g : garbage) {
    Client c(s->port());
    c.writeRaw(g);
    std::string all = c.readAll();
    EXPECT_EQ(all.rfind("HTTP/1.1 400", 0), 0u) << "input: " << g << "\nresponse: " << all;
  }
  {  // truncated request then EOF: no crash, no response required
    Client c(s->port());
    c.writeRaw("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc");
    c.stream.socket().shutdown(tcp::socket::shutdown_send);
    c.readAll();
  }
  {  // oversized header
    Client c(s->port());
    c.writeRaw("GET / HTTP/1.1\r\nX-Big: " + std::string(100000, 'x') + "\r\n\r\n");
    std::string all = c.readAll();
    EXPECT_EQ(all.rfind("HTTP/1.1 431", 0), 0u) << all.substr(0, 100);
  }
  Client c(s->port());
  auto r = c.request(bhttp::verb::get, "/still");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "GET|/still||hello|");
}

TEST(HttpServer, HandlerThrowsGives500) {
  auto s = startServer({});
  Client c(s->port());
  auto r = c.request(bhttp::verb::get, "/throw");
  EXPECT_EQ(r.result_int(), 500);
  EXPECT_EQ(r.body(), "{\"error\":\"Internal server error\"}");
  EXPECT_EQ(r[bhttp::field::content_type], "application/json");
  r = c.request(bhttp::verb::get, "/ok");  // same connection still usable
  EXPECT_EQ(r.result_int(), 200);
}

TEST(HttpServer, SlowHandlersRunInParallel) {
  HttpServerOptions opt;
  opt.workers = 2;
  // Each /slow handler waits (up to 20 s) for the other one to be running too: with two workers both
  // meet, however slow the machine; handlers run one at a time would never meet.
  std::mutex m;
  std::condition_variable cv;
  int inside = 0, met = 0;
  auto s = startServer(opt, [&](const HttpRequest& q, HttpResponse& r) {
    if (q.path == "/slow") {
      std::unique_lock lock(m);
      ++inside;
      cv.notify_all();
      if (cv.wait_for(lock, 20s, [&] { return inside >= 2; })) ++met;
    }
    r.body = "{}";
  });
  const uint16_t port = s->port();
  std::vector<std::future<int>> f;
  for (int i = 0; i < 2; ++i)
    f.push_back(std::async(std::launch::async, [port] {
      Client c(port);
      return static_cast<int>(c.request(bhttp::verb::get, "/slow").result_int());
    }));
  for (auto& x : f) EXPECT_EQ(x.get(), 200);
  {
    std::lock_guard lock(m);
    EXPECT_EQ(met, 2) << "two slow requests did not run in parallel";
  }

  // Many concurrent connections with fast requests.
  std::vector<std::future<int>> g;
  for (int i = 0; i < 32; ++i)
    g.push_back(std::async(std::launch::async, [port] {
      Client c(port);
      int ok = 0;
      for (int k = 0; k < 20; ++k) ok += c.request(bhttp::verb::get, "/fast").result_int() == 200;
      return ok;
    }));
  for (auto& x : g) EXPECT_EQ(x.get(), 20);
}

TEST(HttpServer, BindToBusyPortFails) {
  auto a = startServer({});
  HttpServerOptions opt;
  opt.bind_address = "127.0.0.1";
  opt.port = a->port();
  HttpServer b(opt, echoHandler);
  std::string err;
  EXPECT_FALSE(b.start(&err));
  EXPECT_NE(err.find("busy"), std::string::npos) << err;
  b.stop();  // no-op

  HttpServerOptions bad;
  bad.bind_address = "203.0.113.77";  // not a local address
  HttpServer c(bad, echoHandler);
  err.clear();
  EXPECT_FALSE(c.start(&err));
  EXPECT_FALSE(err.empty());

  bad.bind_address = "no-such-host.invalid";
  HttpServer d(bad, echoHandler);
  err.clear();
  EXPECT_FALSE(d.start(&err));
  EXPECT_FALSE(err.empty());

  // The first server is unaffected.
  Client cl(a->port());
  EXPECT_EQ(cl.request(bhttp::verb::get, "/x").result_int(), 200);
}

TEST(HttpServer, MultipleBindAddresses) {
  HttpServerOptions opt;
  opt.bind_address = "127.0.0.1, localhost";
  auto s = startServer(opt);
  Client c(s->port());
  EXPECT_EQ(c.request(bhttp::verb::get, "/m").result_int(), 200);
}

TEST(HttpServer, StopLetsInFlightRequestFinish) {
  std::atomic<bool> entered{false};
  auto s = startServer({}, [&](const HttpRequest& q, HttpResponse& r) {
    entered = true;
    std::this_thread::sleep_for(500ms);
    r.body = "{\"done\":true}";
  });
  const uint16_t port = s->port();
  Client idle(port);  // an idle keep-alive connection must not block stop()
  auto fut = std::async(std::launch::async, [port] {
    Client c(port);
    auto r = c.request(bhttp::verb::post, "/slow", "x");
    return std::make_pair(static_cast<int>(r.result_int()), r.body());
  });
  while (!entered) std::this_thread::sleep_for(5ms);
  auto t0 = std::chrono::steady_clock::now();
  s->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  auto [status, body] = fut.get();
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "{\"done\":true}");
  EXPECT_TRUE(idle.closedByPeer());
  s->stop();  // idempotent
  // No longer accepting.
  asio::io_context ioc;
  tcp::socket sock(ioc);
  beast::error_code ec;
  sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_TRUE(ec);
}

TEST(HttpServer, IdleConnectionsAreClosed) {
  HttpServerOptions opt;
  opt.idle_timeout = 1s;
  auto s = startServer(opt);
  Client c(s->port());
  EXPECT_EQ(c.request(bhttp::verb::get, "/i").result_int(), 200);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closedByPeer());
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GT(waited, 800ms);
  EXPECT_LT(waited, 5s);
}

TEST(HttpServer, RestartAfterStop) {
  HttpServer s(HttpServerOptions{"127.0.0.1", 0, 1}, echoHandler);
  std::string err;
  ASSERT_TRUE(s.start(&err)) << err;
  EXPECT_FALSE(s.start(&err));
  s.stop();
  ASSERT_TRUE(s.start(&err)) << err;
  Client c(s.port());
  EXPECT_EQ(c.request(bhttp::verb::get, "/r").result_int(), 200);
}

// ---- Hardening: bounded body bytes in flight, whole-body deadline, minimum rate, stop with grace ----

namespace {

// A handler that blocks requests to /block until `open` is set.
struct Gate {
  std::atomic<bool> open{false};
  std::atomic<int> inside{0};
  void handle(const HttpRequest& q, HttpResponse& r) {
    if (q.path == "/block") {
      ++inside;
      while (!open) std::this_thread::sleep_for(2ms);
    }
    r.body = "{\"size\":" + std::to_string(q.body.size()) + "}";
  }
};

struct RefusalLog {
  std::mutex mu;
  std::vector<std::string> reasons;
  void add(std::string_view r) {
    std::lock_guard lk(mu);
    reasons.emplace_back(r);
  }
  int count(const std::string& r) {
    std::lock_guard lk(mu);
    return static_cast<int>(std::count(reasons.begin(), reasons.end(), r));
  }
};

}  // namespace

TEST(HttpServerLimits, BodyBytesInFlightAreBoundedWith429) {
  Gate gate;
  RefusalLog refusals;
  HttpServerOptions opt;
  opt.max_inflight_body_bytes = 1000;
  opt.on_refused = [&](std::string_view r) { refusals.add(r); };
  auto s = startServer(opt, [&](const HttpRequest& q, HttpResponse& r) { gate.handle(q, r); });
  const uint16_t port = s->port();
  auto held = std::async(std::launch::async, [port] {
    Client c(port);
    return static_cast<int>(c.request(bhttp::verb::post, "/block", std::string(800, 'a')).result_int());
  });
  while (gate.inside == 0) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(s->inflightBodyBytes(), 800u);
  {  // 800 + 500 > 1000: refused before the body is read
    Client c(port);
    auto r = c.request(bhttp::verb::post, "/size", std::string(500, 'b'));
    EXPECT_EQ(r.result_int(), 429);
    EXPECT_EQ(r[bhttp::field::retry_after], "1");
    EXPECT_NE(r.body().find("retry later"), std::string::npos) << r.body();
    EXPECT_FALSE(r.keep_alive());
  }
  {  // chunked: refused once the received part passes the bound
    Client c(port);
    std::string req = "POST /size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 2; ++i) req += "200\r\n" + std::string(512, 'c') + "\r\n";
    req += "0\r\n\r\n";
    c.writeRaw(req);
    EXPECT_EQ(c.read().result_int(), 429);
  }
  {  // a small body still fits
    Client c(port);
    EXPECT_EQ(c.request(bhttp::verb::post, "/size", std::string(100, 'd')).result_int(), 200);
  }
  gate.open = true;
  EXPECT_EQ(held.get(), 200);
  EXPECT_EQ(refusals.count("body_bytes"), 2);
  for (int i = 0; i < 200 && s->inflightBodyBytes() != 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(s->inflightBodyBytes(), 0u);
  {  // released: the same body is taken now; one body larger than the whole bound is taken alone
    Client c(port);
    EXPECT_EQ(c.request(bhttp::verb::post, "/size", std::string(500, 'b')).result_int(), 200);
    EXPECT_EQ(c.request(bhttp::verb::post, "/size", std::string(5000, 'b')).result_int(), 200);
  }
}

TEST(HttpServerLimits, TrickledBodyIsCutByMinimumRate) {
  RefusalLog refusals;
  HttpServerOptions opt;
  opt.min_body_bytes_per_second = 1000;
  opt.min_rate_grace = 1s;
  opt.on_refused = [&](std::string_view r) { refusals.add(r); };
  auto s = startServer(opt);
  Client c(s->port());
  c.writeRaw("POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
  auto t0 = std::chrono::steady_clock::now();
  // One byte every 200 ms: never silent for long, but far below 1000 B/s.
  bool closed = false;
  for (int i = 0; i < 60 && !closed; ++i) {
    beast::error_code ec;
    asio::write(c.stream.socket(), asio::buffer("x", 1), ec);
    if (ec) closed = true;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(closed || c.closedByPeer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);
  EXPECT_EQ(refusals.count("slow_body"), 1);
  Client ok(s->port());  // a normal request is unaffected
  EXPECT_EQ(ok.request(bhttp::verb::post, "/size", std::string(100000, 'a')).result_int(), 200);
}

TEST(HttpServerLimits, WholeBodyDeadline) {
  RefusalLog refusals;
  HttpServerOptions opt;
  opt.min_body_bytes_per_second = 0;  // only the deadline applies
  opt.body_deadline = 2s;
  opt.on_refused = [&](std::string_view r) { refusals.add(r); };
  auto s = startServer(opt);
  Client c(s->port());
  c.writeRaw("POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
  auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 60 && !closed; ++i) {  // the per-chunk silence timeout (60 s) would never fire
    beast::error_code ec;
    asio::write(c.stream.socket(), asio::buffer("x", 1), ec);
    if (ec) closed = true;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(closed || c.closedByPeer());
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GT(waited, 1500ms);
  EXPECT_LT(waited, 10s);
  EXPECT_EQ(refusals.count("slow_body"), 1);
}

TEST(HttpServerLimits, StopWithGraceClosesConnectionsStillBusy) {
  std::atomic<bool> entered{false};
  auto s = startServer({}, [&](const HttpRequest& q, HttpResponse& r) {
    entered = true;
    std::this_thread::sleep_for(q.path == "/slow" ? 3s : 100ms);
    r.body = "{}";
  });
  const uint16_t port = s->port();
  auto fast = std::async(std::launch::async, [port] {
    Client c(port);
    return static_cast<int>(c.request(bhttp::verb::post, "/fast", "x").result_int());
  });
  auto slow = std::async(std::launch::async, [port] {
    Client c(port);
    c.writeRaw("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx");
    return c.readAll();
  });
  while (!entered) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(50ms);
  s->stop(500ms);
  EXPECT_EQ(fast.get(), 200);   // finished within the grace period
  EXPECT_EQ(slow.get(), "");    // still busy after it: closed without a response
}
