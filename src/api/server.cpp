#include "api/server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "api/http/http_server.h"
#include "api/rest_router.h"
#include "api/kserve/kserve_grpc_service.h"
#include "api/metrics/metrics.h"
#include "api/security/api_key.h"
#include "api/security/secret_watcher.h"
#include "api/security/tls_material.h"
#include "api/tfs/tfs_grpc_service.h"
#include "common/cpu.h"
#include "common/logging.h"
#include "engine/onnx_model.h"
#include "serving/inference_path.h"
#include "serving/model_config_from_cli.h"
#include "serving/model_manager.h"
#include "serving/sequence_manager.h"

namespace ovms::api {
namespace {

constexpr int kMaxMessageBytes = 1 << 30;  // OVMS accepts gRPC messages up to 1 GiB

std::atomic<int> g_signal{0};
void onSignal(int sig) { g_signal = sig; }

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string hostPort(const std::string& host, uint32_t port) {
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

// grpc_channel_arguments: "key=value,key=value"; numbers become ints.
bool applyChannelArguments(const std::string& text, grpc::ServerBuilder& builder) {
  for (const auto& kv : splitList(text)) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return false;
    std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    try {
      size_t pos = 0;
      int n = std::stoi(value, &pos);
      if (pos == value.size()) {
        builder.AddChannelArgument(key, n);
        continue;
      }
    } catch (...) {
    }
    builder.AddChannelArgument(key, value);
  }
  return true;
}

// gRPC treats 0.0.0.0 as "any address" and opens a dual-stack [::] listener, so the default would
// also accept IPv6. The help text (and --rest_bind_address) mean IPv4 only: 0.0.0.0 becomes one
// listener per IPv4 address of this host's interfaces (those present at start-up).
std::vector<std::string> grpcListenAddresses(const std::string& bind_list) {
  std::vector<std::string> out;
  for (const auto& addr : splitList(bind_list)) {
    if (addr != "0.0.0.0") {
      out.push_back(addr);
      continue;
    }
    struct ifaddrs* list = nullptr;
    std::vector<std::string> v4;
    if (getifaddrs(&list) == 0) {
      for (auto* ifa = list; ifa; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET) continue;
        char text[INET_ADDRSTRLEN];
        auto* sin = reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr);
        if (!inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text))) continue;
        if (std::find(v4.begin(), v4.end(), text) == v4.end()) v4.emplace_back(text);
      }
      freeifaddrs(list);
    }
    if (v4.empty()) {
      SERVING_LOG(warn, "No IPv4 interface address found; gRPC listens on 0.0.0.0 (gRPC makes that IPv4 and IPv6)");
      out.push_back(addr);
      continue;
    }
    std::string joined;
    for (const auto& a : v4) joined += (joined.empty() ? "" : ", ") + a;
    SERVING_LOG(debug, "gRPC bind address 0.0.0.0: listening on the IPv4 interface addresses {}", joined);
    out.insert(out.end(), v4.begin(), v4.end());
  }
  return out;
}

constexpr unsigned kGrpcTlsRefreshSeconds = 1;  // how often gRPC re-reads its staged TLS files

// The API key from --api_key_file, else from env API_KEY (both trimmed); empty = no authentication.
bool resolveApiKey(const serving::ServerSettings& settings, std::string* key, std::string* error) {
  if (!settings.api_key_file.empty()) return security::readApiKeyFile(settings.api_key_file, key, error);
  const char* env = std::getenv("API_KEY");
  std::string value = env ? env : "";
  auto first = value.find_first_not_of(" \t\r\n");
  auto last = value.find_last_not_of(" \t\r\n");
  *key = first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
  return true;
}

// 401 for REST requests without the API key (health routes and CORS preflights stay open).
bool rejectWithoutApiKey(const http::HttpRequest& request, http::HttpResponse& response, const CorsSettings& cors) {
  if (!security::apiKeys().enabled() || request.method == "OPTIONS" || security::isHealthPath(request.path))
    return false;
  const std::string* authorization = request.header("authorization");
  if (security::apiKeys().authorized(authorization ? *authorization : std::string_view())) return false;
  response.status = 401;
  response.content_type = "application/json";
  response.body = authorization ? "{\"error\": \"Invalid API key\"}"
                                : "{\"error\": \"Missing API key: send the header Authorization: Bearer <key>\"}";
  response.headers.emplace_back("WWW-Authenticate", "Bearer");
  response.headers.emplace_back("Access-Control-Allow-Origin", cors.allowed_origins);
  response.headers.emplace_back("Access-Control-Allow-Methods", cors.allowed_methods);
  response.headers.emplace_back("Access-Control-Allow-Headers", cors.allowed_headers);
  if (cors.allow_credentials) response.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  return true;
}

}  // namespace

int runServer(const serving::ServerSettings& settings) {
  try {
    configureLogging(settings.log_level, settings.log_path);
  } catch (const std::exception& e) {
    // A directory or an unwritable file: say so and exit 1 instead of aborting on the exception.
    std::cerr << "Cannot open the log file given by --log_path \"" << settings.log_path << "\": " << e.what()
              << std::endl;
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  SERVING_LOG(info, "OpenVINO Model Server {} (ONNX Runtime {} backend)", OVMS_VERSION_STRING, engine::engineVersion());

  // Security options (docs/security.md): checked before any listener starts.
  const security::TlsFiles tls_files{settings.tls_cert_file, settings.tls_key_file, settings.tls_ca_file};
  security::TlsMaterial tls_material;
  if ((!tls_files.cert_file.empty() || !tls_files.key_file.empty() || !tls_files.ca_file.empty()) &&
      (tls_files.cert_file.empty() || tls_files.key_file.empty())) {
    SERVING_LOG(err, "--tls_cert_file and --tls_key_file must be given together (--tls_ca_file needs both)");
    return 1;
  }
  if (tls_files.enabled()) {
    std::string error;
    if (!security::loadTlsMaterial(tls_files, &tls_material, &error)) {
      SERVING_LOG(err, "{}", error);
      return 1;
    }
    SERVING_LOG(info, "TLS enabled on the gRPC and REST ports with {}{}", tls_files.cert_file,
                tls_files.ca_file.empty() ? "" : "; client certificates signed by " + tls_files.ca_file + " required");
  }
  {
    std::string key, error;
    if (!resolveApiKey(settings, &key, &error)) {
      SERVING_LOG(err, "{}", error);
      return 1;
    }
    if (!key.empty())
      SERVING_LOG(info, "API key required on all but the health routes (key from {})",
                  settings.api_key_file.empty() ? "env API_KEY" : settings.api_key_file);
    security::apiKeys().set(std::move(key));
  }
  // gRPC reads its TLS files itself (FileWatcherCertificateProvider); it reads checked copies only.
  std::unique_ptr<security::GrpcTlsStage> grpc_tls_stage;
  std::shared_ptr<grpc::ServerCredentials> grpc_credentials = grpc::InsecureServerCredentials();
  if (tls_files.enabled() && settings.grpc_port != 0) {
    grpc_tls_stage = std::make_unique<security::GrpcTlsStage>();
    std::string error;
    if (!grpc_tls_stage->publish(tls_material, &error)) {
      SERVING_LOG(err, "{}", error);
      return 1;
    }
    std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
    if (tls_files.ca_file.empty())
      provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          grpc_tls_stage->keyPath(), grpc_tls_stage->certPath(), kGrpcTlsRefreshSeconds);
    else
      provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          grpc_tls_stage->keyPath(), grpc_tls_stage->certPath(), grpc_tls_stage->caPath(), kGrpcTlsRefreshSeconds);
    grpc::experimental::TlsServerCredentialsOptions tls_options(provider);
    tls_options.watch_identity_key_cert_pairs();
    if (!tls_files.ca_file.empty()) {
      tls_options.watch_root_certs();
      tls_options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    } else {
      tls_options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    }
    grpc_credentials = grpc::experimental::TlsServerCredentials(tls_options);
  }
  serving::ModelManager manager;

  // gRPC first, then REST, then the models (the current OVMS start order).
  // The one inference path every front end runs (serving/inference_path.h), metrics observing it.
  serving::InferencePath inference(manager);
  inference.setObserver(std::make_shared<metrics::InferenceMetrics>(manager));
  // Benchmarks only (bench/step_times.py): per-step time sums, written at shutdown.
  auto step_times = serving::StepTimeRecorder::fromEnvironment();
  inference.setStepTimeRecorder(step_times);
  auto prediction = std::make_unique<tfs::PredictionServiceImpl>(inference);
  auto model_service = std::make_unique<tfs::ModelServiceImpl>(manager);
  std::atomic<bool> grpc_live{false};  // KServe ServerLive: true once the gRPC server is up
  auto kserve_service = std::make_unique<kserve::GrpcInferenceServiceImpl>(inference, grpc_live);
  std::unique_ptr<grpc::Server> grpc_server;
  if (settings.grpc_port != 0) {
    grpc::ServerBuilder builder;
    for (const auto& addr : grpcListenAddresses(settings.grpc_bind_address))
      builder.AddListeningPort(hostPort(addr, settings.grpc_port), grpc_credentials);
    builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
    builder.SetMaxSendMessageSize(kMaxMessageBytes);
    // Streams per connection follow the cores this process may use (affinity, cgroup quota), not the host.
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, static_cast<int>(std::max(1u, usableCores())));
    if (!applyChannelArguments(settings.grpc_channel_arguments, builder)) {
      SERVING_LOG(err, "Grpc channel arguments passed in wrong format: {}", settings.grpc_channel_arguments);
      return 1;
    }
    grpc::ResourceQuota quota("ovms");
    quota.SetMaxThreads(static_cast<int>(std::max(2u, settings.grpc_max_threads)));
    if (settings.grpc_memory_quota) quota.Resize(settings.grpc_memory_quota);
    builder.SetResourceQuota(quota);
    builder.RegisterService(prediction.get());
    builder.RegisterService(model_service.get());
    builder.RegisterService(kserve_service.get());
    grpc_server = builder.BuildAndStart();
    if (!grpc_server) {
      SERVING_LOG(err, "Failed to start gRPC server on port {}", settings.grpc_port);
      return 1;
    }
    grpc_live = true;
    SERVING_LOG(info, "Started gRPC server on port {}", settings.grpc_port);
  }

  CorsSettings cors{settings.allow_credentials, settings.allowed_origins, settings.allowed_methods,
                    settings.allowed_headers};
  RestRouter router(manager, inference, cors);
  std::unique_ptr<http::HttpServer> rest_server;
  if (settings.rest_port != 0) {
    http::HttpServerOptions opts;
    opts.bind_address = settings.rest_bind_address;
    opts.port = static_cast<uint16_t>(settings.rest_port);
    opts.workers = settings.rest_workers;
    opts.max_inflight_body_bytes = settings.rest_max_body_bytes_in_flight;
    opts.body_deadline = std::chrono::seconds(settings.rest_body_timeout_seconds);
    opts.min_body_bytes_per_second = settings.rest_min_body_bytes_per_second;
    opts.on_refused = [](std::string_view reason) {
      if (auto* m = metrics::instance()) m->onRequestRefused(metrics::Interface::REST, std::string(reason));
    };
    rest_server = std::make_unique<http::HttpServer>(
        opts, [&router, &cors](const http::HttpRequest& req, http::HttpResponse& resp) {
          if (rejectWithoutApiKey(req, resp, cors)) return;
          router.handle(req, resp);
        });
    std::string error;
    if (tls_files.enabled() &&
        !rest_server->setTls(tls_material.cert_pem, tls_material.key_pem, tls_material.ca_pem, &error)) {
      SERVING_LOG(err, "TLS files {} / {} rejected: {}", tls_files.cert_file, tls_files.key_file, error);
      if (grpc_server) grpc_server->Shutdown();
      return 1;
    }
    if (!rest_server->start(&error)) {
      SERVING_LOG(err, "Failed to start REST server on port {}: {}", settings.rest_port, error);
      if (grpc_server) grpc_server->Shutdown();
      return 1;
    }
    SERVING_LOG(info, "Started REST server at {}", hostPort(settings.rest_bind_address, settings.rest_port));
  }

  // Secret files are re-read when they change, on the config.json poll period.
  security::SecretWatcher secret_watcher(
      tls_files,
      [&](const security::TlsMaterial& material, std::string* error) {
        if (rest_server && !rest_server->setTls(material.cert_pem, material.key_pem, material.ca_pem, error))
          return false;
        if (grpc_tls_stage && !grpc_tls_stage->publish(material, error)) return false;
        return true;
      },
      settings.api_key_file);
  secret_watcher.start(tls_material, {}, std::chrono::seconds(settings.file_system_poll_wait_seconds));

  const auto grace = std::chrono::seconds(settings.shutdown_grace_period_seconds);
  auto shutdownAll = [&] {
    secret_watcher.stop();
    // Both front ends stop taking new requests at once; requests in flight get the grace period.
    std::thread rest_stop;
    if (rest_server) rest_stop = std::thread([&] { rest_server->stop(grace); });
    if (grpc_server) {
      grpc_server->Shutdown(std::chrono::system_clock::now() + grace);
      // All calls have finished. Destroying the server runs grpc_shutdown(), which in gRPC 1.51 can
      // wait ~10 s for an executor thread sleeping in epoll_wait; the process is about to exit, so
      // the object is kept (reachable, not leaked) instead.
      static grpc::Server* finished_server = nullptr;
      finished_server = grpc_server.release();
      (void)finished_server;
    }
    if (rest_stop.joinable()) rest_stop.join();
    manager.stop();
  };

  serving::ModelConfig model_config;
  Status st = serving::modelConfigFromCli(settings, &model_config);
  // Metrics (§8): the families come from the CLI, or from config.json's `monitoring` (read before
  // any model loads); series are created as versions load.
  manager.setVersionLoadedCallback([](const std::string& name, int64_t version, const serving::Servable& servable) {
    if (auto* m = metrics::instance()) m->onVersionAvailable(name, version, servable);
  });
  auto installMetrics = [&settings](const serving::MetricsSettings& file_settings) -> Status {
    metrics::MetricsConfig config;
    Status s = metrics::resolveConfig(settings, file_settings, &config);
    if (!s.ok()) return s;
    if (config.enabled) SERVING_LOG(info, "Metrics enabled on the REST port: {} families", config.families.size());
    metrics::install(std::make_shared<metrics::ServerMetrics>(std::move(config)));
    return StatusCode::OK;
  };
  if (!settings.config_path.empty()) {
    // Config-file mode (§2): an unreadable, non-JSON or schema-invalid config.json stops the server.
    serving::ConfigStartOptions options;
    options.on_metrics_settings = installMetrics;
    options.cli_metrics_enable = settings.metrics_enable;
    options.rest_port_set = settings.rest_port != 0;
    options.cache_dir = serving::modelCacheDir(settings);
    st = manager.startFromConfigFile(settings.config_path, options);
  } else if (st.ok()) {
    st = installMetrics(serving::MetricsSettings{});
    if (st.ok()) st = manager.startSingleModel(model_config);
  }
  if (!st.ok()) {
    SERVING_LOG(err, "{}", st.message());
    shutdownAll();
    return 1;
  }
  manager.startWatcher(std::chrono::seconds(settings.file_system_poll_wait_seconds));
  serving::SequenceCleaner::instance().start(serving::sequenceCleanerInterval(settings.sequence_cleaner_poll_wait_minutes));

  while (g_signal == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  SERVING_LOG(info, "Received signal {}, shutting down: not ready any more, new requests refused, {} s for requests in flight",
              g_signal.load(), grace.count());
  manager.setNotReady();
  serving::SequenceCleaner::instance().stop();
  // A handler that never returns (e.g. a stuck inference) must not keep the process alive.
  std::thread([grace] {
    std::this_thread::sleep_for(grace + std::chrono::seconds(5));
    SERVING_LOG(warn, "Requests still running {} s after the grace period; exiting", 5);
    servingLogger()->flush();
    std::_Exit(0);
  }).detach();
  shutdownAll();
  if (step_times) step_times->writeToEnvironmentFile();
  SERVING_LOG(info, "Shutdown complete");
  return 0;
}

}  // namespace ovms::api
