// The floor cost of the REST front end: the same Boost.Beast glue as ovms (ovms_http, the same
// HttpServerOptions ovms fills in: 2 workers on this machine), with a handler that returns the request
// body unchanged. No JSON parsing, no model.
//
//   http_echo_server --port 9502 [--address 127.0.0.1] [--workers 2]     (SIGINT/SIGTERM stops it)
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "api/http/http_server.h"

int main(int argc, char** argv) {
  ovms::http::HttpServerOptions opts;
  opts.bind_address = "127.0.0.1";
  opts.workers = std::max(2u, std::thread::hardware_concurrency());  // ovms --rest_workers default here
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--port") opts.port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    else if (k == "--address") opts.bind_address = argv[i + 1];
    else if (k == "--workers") opts.workers = static_cast<unsigned>(std::max(1, std::atoi(argv[i + 1])));
  }
  if (opts.port == 0) {
    std::fprintf(stderr, "usage: http_echo_server --port N [--address 127.0.0.1] [--workers N]\n");
    return 64;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  ovms::http::HttpServer server(opts, [](const ovms::http::HttpRequest& req, ovms::http::HttpResponse& resp) {
    resp.status = 200;
    if (const auto* ct = req.header("content-type")) resp.content_type = *ct;
    resp.body = req.body;
  });
  std::string error;
  if (!server.start(&error)) {
    std::fprintf(stderr, "http_echo_server: %s\n", error.c_str());
    return 1;
  }
  std::printf("http_echo_server listening on %s:%u (%u workers)\n", opts.bind_address.c_str(), server.port(),
              opts.workers);
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  // A benchmark helper must never outlive its script: exit even if a graceful stop hangs.
  std::thread([] {
    std::this_thread::sleep_for(std::chrono::seconds(8));
    std::_Exit(0);
  }).detach();
  server.stop();
  std::_Exit(0);
}
