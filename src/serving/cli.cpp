#include "serving/cli.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <cxxopts.hpp>
#include "common/cpu.h"

namespace ovms::serving {
namespace {

constexpr int kExUsage = 64;  // EX_USAGE from <sysexits.h>
constexpr uint32_t kMaxPort = 65535;
constexpr uint64_t kMaxRestWorkers = 10000;

std::atomic<unsigned> g_coreOverride{0};

std::mutex g_versionMutex;
std::string g_serverVersion = "0.1.0";
std::string g_backendVersion = "unknown";
std::string g_versionExtraLines;

// Thrown for a value that does not parse as the flag's integer type. The text is the one
// cxxopts uses for its own incorrect_argument_type, so both kinds of error look alike.
struct BadValue : std::runtime_error {
  explicit BadValue(const std::string& text) : std::runtime_error("Argument '" + text + "' failed to parse") {}
};

// Unsigned integer parsing with the syntax cxxopts accepts (decimal, or hex with 0x; a leading
// '-' is rejected for unsigned types) but with an exact overflow check: cxxopts 3.1.1 misses
// some overflows (e.g. 5000000000 for uint32 wraps silently).
template <typename T>
T parseUnsigned(const std::string& text) {
  static_assert(std::is_unsigned_v<T>);
  std::string_view s(text);
  if (s.empty() || s.front() == '-' || s.front() == '+') throw BadValue(text);
  unsigned base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) throw BadValue(text);
  T result = 0;
  for (char ch : s) {
    unsigned digit;
    if (ch >= '0' && ch <= '9') {
      digit = static_cast<unsigned>(ch - '0');
    } else if (base == 16 && ch >= 'a' && ch <= 'f') {
      digit = static_cast<unsigned>(ch - 'a' + 10);
    } else if (base == 16 && ch >= 'A' && ch <= 'F') {
      digit = static_cast<unsigned>(ch - 'A' + 10);
    } else {
      throw BadValue(text);
    }
    if (result > (std::numeric_limits<T>::max() - digit) / base) throw BadValue(text);
    result = static_cast<T>(result * base + digit);
  }
  return result;
}

bool isAllDigitsAndDots(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

// RFC 1123 host name: dot-separated labels of 1..63 letters, digits and hyphens, not starting or
// ending with a hyphen; at most 253 characters in total.
bool isHostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

bool isValidBindEntry(const std::string& entry) {
  if (entry.empty()) return false;
  unsigned char buf[sizeof(in6_addr)];
  if (entry.size() >= 2 && entry.front() == '[' && entry.back() == ']') {
    std::string inner = entry.substr(1, entry.size() - 2);
    return inet_pton(AF_INET6, inner.c_str(), buf) == 1;
  }
  if (entry.find(':') != std::string::npos) {
    return inet_pton(AF_INET6, entry.c_str(), buf) == 1;
  }
  if (isAllDigitsAndDots(entry)) {  // looks like IPv4: must be one (no numeric "host names")
    return inet_pton(AF_INET, entry.c_str(), buf) == 1;
  }
  return isHostname(entry);
}

// A comma-separated list of IPv4 / IPv6 (optionally bracketed) / host names. An empty value is
// not checked (as in OVMS).
bool isValidBindAddressList(const std::string& list) {
  if (list.empty()) return true;
  size_t start = 0;
  while (true) {
    size_t comma = list.find(',', start);
    std::string entry = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!isValidBindEntry(entry)) return false;
    if (comma == std::string::npos) return true;
    start = comma + 1;
  }
}

// Soft RLIMIT_NOFILE; nullopt if unlimited or unknown.
std::optional<uint64_t> openFilesLimit() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return std::nullopt;
  if (rl.rlim_cur == RLIM_INFINITY) return std::nullopt;
  return static_cast<uint64_t>(rl.rlim_cur);
}

uint32_t defaultRestWorkers(unsigned cores) {
  uint64_t workers = cores;
  if (auto limit = openFilesLimit()) {
    uint64_t byFiles = *limit > 15 ? (*limit - 15) / 7 : 0;
    workers = std::min<uint64_t>(workers, byFiles);
  }
  workers = std::max<uint64_t>(workers, 2);
  return static_cast<uint32_t>(std::min<uint64_t>(workers, std::numeric_limits<uint32_t>::max()));
}

std::unique_ptr<cxxopts::Options> buildOptions(const std::string& program) {
  auto options = std::make_unique<cxxopts::Options>(program, "OpenVINO Model Server");
  options->allow_unrecognised_options();
  // Integer flags are declared as strings and converted by parseUnsigned (see there).
  // clang-format off
  options->add_options()
      ("h,help", "Show this help message and exit")
      ("version", "Show binary version")
      ("port", "gRPC server port; 0 disables the gRPC server",
          cxxopts::value<std::string>()->default_value("9178"), "PORT")
      ("grpc_bind_address", "Network interface address(es) to bind to for the gRPC API: a comma separated list of IPv4 addresses, IPv6 addresses or host names",
          cxxopts::value<std::string>()->default_value("0.0.0.0"), "GRPC_BIND_ADDRESS")
      ("rest_port", "REST server port; the REST server is not started if rest_port is blank or set to 0",
          cxxopts::value<std::string>()->default_value("0"), "REST_PORT")
      ("rest_bind_address", "Network interface address(es) to bind to for the REST API: a comma separated list of IPv4 addresses, IPv6 addresses or host names",
          cxxopts::value<std::string>()->default_value("0.0.0.0"), "REST_BIND_ADDRESS")
      ("grpc_workers", "Number of gRPC servers. Increase for multi client, high throughput scenarios",
          cxxopts::value<std::string>()->default_value("1"), "GRPC_WORKERS")
      ("grpc_max_threads", "Maximum number of threads the gRPC server can use. Default: 8 x number of CPU cores",
          cxxopts::value<std::string>(), "GRPC_MAX_THREADS")
      ("grpc_memory_quota", "gRPC server buffer memory quota in bytes. Default 2147483648 (2GB); 0 means no quota",
          cxxopts::value<std::string>(), "GRPC_MEMORY_QUOTA")
      ("rest_workers", "Number of worker threads in the REST server; has no effect if rest_port is not set. Default value depends on the number of CPU cores and the open files limit",
          cxxopts::value<std::string>(), "REST_WORKERS")
      ("log_level", "Serving log level - one of TRACE, DEBUG, INFO, WARNING, ERROR",
          cxxopts::value<std::string>()->default_value("INFO"), "LOG_LEVEL")
      ("log_path", "Optional path to the log file",
          cxxopts::value<std::string>(), "LOG_PATH")
      ("grpc_channel_arguments", "A comma separated list of arguments passed to the gRPC server (e.g. grpc.max_connection_age_ms=2000)",
          cxxopts::value<std::string>(), "GRPC_CHANNEL_ARGUMENTS")
      ("file_system_poll_wait_seconds", "Time interval between checks for config and model version changes. Zero disables change monitoring",
          cxxopts::value<std::string>()->default_value("1"), "FILE_SYSTEM_POLL_WAIT_SECONDS")
      ("sequence_cleaner_poll_wait_minutes", "Time interval between two consecutive sequence cleanup scans. Zero disables the sequence cleaner",
          cxxopts::value<std::string>()->default_value("5"), "SEQUENCE_CLEANER_POLL_WAIT_MINUTES")
      ("custom_node_resources_cleaner_interval_seconds", "Time interval between two consecutive resources cleanup scans. Zero disables the resources cleaner",
          cxxopts::value<std::string>()->default_value("300"), "CUSTOM_NODE_RESOURCES_CLEANER_INTERVAL_SECONDS")
      ("cache_dir", "Overrides the model cache directory. By default /opt/cache is used if that directory exists",
          cxxopts::value<std::string>(), "CACHE_DIR")
      ("metrics_enable", "Enable the metrics endpoint on rest_port",
          cxxopts::value<bool>()->default_value("false"), "METRICS")
      ("metrics_list", "Comma separated list of metric families to enable. If unset, only the default metrics are enabled",
          cxxopts::value<std::string>()->default_value(""), "METRICS_LIST")
      ("cpu_extension", "Path to a shared library with custom CPU layer implementations",
          cxxopts::value<std::string>()->default_value(""), "CPU_EXTENSION")
      ("allow_credentials", "Allow credentials in CORS requests to the REST API",
          cxxopts::value<bool>()->default_value("false"), "ALLOW_CREDENTIALS")
      ("allowed_origins", "Comma separated list of origins allowed to access the REST API",
          cxxopts::value<std::string>()->default_value("*"), "ALLOWED_ORIGINS")
      ("allowed_methods", "Comma separated list of methods allowed to access the REST API",
          cxxopts::value<std::string>()->default_value("*"), "ALLOWED_METHODS")
      ("allowed_headers", "Comma separated list of headers allowed to access the REST API",
          cxxopts::value<std::string>()->default_value("*"), "ALLOWED_HEADERS")
      ("rest_max_body_bytes_in_flight", "Bytes of REST request bodies held at once by all connections; past it requests get 429 with Retry-After. 0 means no bound",
          cxxopts::value<std::string>()->default_value("1073741824"), "BYTES")
      ("rest_body_timeout_seconds", "A REST request body must arrive completely within this many seconds of its header. 0 means no deadline",
          cxxopts::value<std::string>()->default_value("300"), "SECONDS")
      ("rest_min_body_bytes_per_second", "After 10 seconds a REST request body must average at least this many bytes per second, or the connection is closed. 0 means no minimum",
          cxxopts::value<std::string>()->default_value("1024"), "BYTES_PER_SECOND")
      ("shutdown_grace_period_seconds", "On SIGTERM/SIGINT: seconds requests already being handled get to finish before the server exits",
          cxxopts::value<std::string>()->default_value("30"), "SECONDS")
      ("tls_cert_file", "PEM certificate chain: serve gRPC and REST over TLS (needs tls_key_file). Re-read when it changes",
          cxxopts::value<std::string>(), "TLS_CERT_FILE")
      ("tls_key_file", "PEM private key of tls_cert_file. Re-read when it changes",
          cxxopts::value<std::string>(), "TLS_KEY_FILE")
      ("tls_ca_file", "PEM CA certificate(s): clients must present a certificate signed by one of them (mTLS). Needs tls_cert_file",
          cxxopts::value<std::string>(), "TLS_CA_FILE")
      ("api_key_file", "File holding an API key; without it the API_KEY environment variable is used. When set, every route except health needs 'Authorization: Bearer <key>'",
          cxxopts::value<std::string>(), "API_KEY_FILE");

  options->add_options("multi model")
      ("config_path", "Absolute path to the json configuration file, or to a directory containing config.json",
          cxxopts::value<std::string>(), "CONFIG_PATH");

  options->add_options("single model")
      ("model_name", "Name of the model",
          cxxopts::value<std::string>(), "MODEL_NAME")
      ("model_path", "Folder with model versions, or a single model file",
          cxxopts::value<std::string>(), "MODEL_PATH")
      ("batch_size", "Resets the model batch size: an integer, a range (1:8), -1 or auto. Ignored if shape is set",
          cxxopts::value<std::string>(), "BATCH_SIZE")
      ("shape", "Resets the model shape (the model must support reshaping). If set, batch_size is ignored",
          cxxopts::value<std::string>(), "SHAPE")
      ("layout", "Resets the model layout",
          cxxopts::value<std::string>(), "LAYOUT")
      ("model_version_policy", "Model version policy (JSON)",
          cxxopts::value<std::string>(), "MODEL_VERSION_POLICY")
      ("nireq", "Size of the inference request pool for the model. 0 or unset: chosen automatically",
          cxxopts::value<std::string>(), "NIREQ")
      ("warmup_iterations", "Inferences on generated inputs each model version runs before it becomes AVAILABLE (0 to 10000; default 0)",
          cxxopts::value<std::string>(), "WARMUP_ITERATIONS")
      ("max_queued_requests", "Requests that may wait for an inference slot (nireq) of the model; past it requests are refused at once (gRPC RESOURCE_EXHAUSTED, REST 429 with Retry-After). -1 or unset: no bound",
          cxxopts::value<std::string>(), "MAX_QUEUED_REQUESTS")
      ("target_device", "Target device to run the inference on: CPU (ONNX Runtime CPU provider), GPU (CUDA provider, when present), MULTI:/HETERO:/AUTO: lists (absent devices are skipped with a warning), AUTO. Default: CPU",
          cxxopts::value<std::string>(), "TARGET_DEVICE")
      ("plugin_config", "A JSON object of plugin configuration keys and values, e.g. \"{\\\"NUM_STREAMS\\\": \\\"1\\\"}\"",
          cxxopts::value<std::string>(), "PLUGIN_CONFIG")
      ("stateful", "Flag indicating the model is stateful",
          cxxopts::value<bool>()->default_value("false"), "STATEFUL")
      ("idle_sequence_cleanup", "Flag indicating if the model is subject to sequence cleaner scans",
          cxxopts::value<bool>()->default_value("true"), "IDLE_SEQUENCE_CLEANUP")
      ("low_latency_transformation", "Flag indicating that the server should perform the low latency transformation on the model",
          cxxopts::value<bool>()->default_value("false"), "LOW_LATENCY_TRANSFORMATION")
      ("max_sequence_number", "Maximum number of sequences processed concurrently by one model instance. Default 500",
          cxxopts::value<std::string>(), "MAX_SEQUENCE_NUMBER");
  // clang-format on
  return options;
}

CliOutcome usageError(std::string message) {
  CliOutcome outcome;
  outcome.run = false;
  outcome.exit_code = kExUsage;
  outcome.err = std::move(message) + "\n";
  return outcome;
}

// Config::validate(), in the order of §1.2. Returns an empty string when valid.
std::string validate(const ServerSettings& s, const cxxopts::ParseResult& r) {
  const auto& m = s.model;
  auto given = [](const std::optional<std::string>& v) { return v.has_value() && !v->empty(); };

  // 1, 2
  if (!s.config_path.empty() && (!m.model_name.empty() || !m.model_path.empty()))
    return "Use either config_path or model_path with model_name";
  if (s.config_path.empty() && (m.model_name.empty() || m.model_path.empty()))
    return "Use config_path or model_path with model_name";
  // 3 (nireq 0 means "auto", the default, as in OVMS)
  if (!s.config_path.empty() &&
      (given(m.batch_size) || given(m.shape) || (m.nireq.has_value() && *m.nireq != 0) ||
       given(m.model_version_policy) || given(m.target_device) || given(m.plugin_config) ||
       m.max_queued_requests.has_value()))
    return "Model parameters in CLI are exclusive with the config file";
  if (!s.config_path.empty() && m.warmup_iterations.has_value())
    return "warmup_iterations is a single-model parameter; with config_path set \"warmup\": {\"iterations\": N} per model";
  if (m.warmup_iterations.has_value() && *m.warmup_iterations > 10000)
    return "warmup_iterations should be from 0 to 10000";
  // 4
  const unsigned cores = cpuCoreCount();
  if (s.grpc_workers < 1 || s.grpc_workers > cores)
    return "grpc_workers count should be from 1 to CPU core count : " + std::to_string(cores);
  // 5, 6
  if (s.metrics_enable && s.rest_port == 0)
    return "rest_port setting is missing, metrics are enabled on rest port";
  if (!s.metrics_enable && !s.metrics_list.empty())
    return "metrics_enable setting is missing, required when metrics_list is provided";
  // 7
  if (s.grpc_port == 0 && s.rest_port == 0)
    return "port and rest_port cannot both be unset";
  // 8, 9
  if (s.rest_workers < 2 || s.rest_workers > kMaxRestWorkers)
    return "rest_workers count should be from 2 to " + std::to_string(kMaxRestWorkers);
  if (s.rest_workers_set && s.rest_port == 0)
    return "rest_workers is set but rest_port is not set. rest_port is required to start rest servers";
  // 10 (only meaningful when the REST server starts; rule 9 covers an explicit value without it)
  if (s.rest_port != 0) {
    if (auto limit = openFilesLimit()) {
      uint64_t maxWorkers = *limit > 15 ? (*limit - 15) / 6 : 0;
      if (s.rest_workers > maxWorkers)
        return "rest_workers count cannot be larger than " + std::to_string(maxWorkers) +
               " due to the open files limit (ulimit -n) of " + std::to_string(*limit) +
               ". Decrease rest_workers or increase the open files limit";
    }
  }
  // 11
  if (s.grpc_port > kMaxPort)
    return "port number out of range from 0 to " + std::to_string(kMaxPort);
  if (s.rest_port > kMaxPort)
    return "rest_port number out of range from 0 to " + std::to_string(kMaxPort);
  // 12
  if (!isValidBindAddressList(s.rest_bind_address))
    return "rest_bind_address has invalid format: proper hostname or IP address expected.";
  if (!isValidBindAddressList(s.grpc_bind_address))
    return "grpc_bind_address has invalid format: proper hostname or IP address expected.";
  // 13
  if (s.grpc_port != 0 && s.grpc_port == s.rest_port)
    return "port and rest_port cannot have the same values";
  // 14
  if (!s.cpu_extension.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(s.cpu_extension, ec))
      return "File path provided as an --cpu_extension parameter does not exist in the filesystem: " + s.cpu_extension;
  }
  // 15
  static const std::vector<std::string> levels{"TRACE", "DEBUG", "INFO", "WARNING", "ERROR"};
  if (std::find(levels.begin(), levels.end(), s.log_level) == levels.end())
    return "log_level should be one of: TRACE, DEBUG, INFO, WARNING, ERROR";
  // 16
  const bool stateful = r["stateful"].as<bool>();
  if ((r.count("low_latency_transformation") || r.count("max_sequence_number") || r.count("idle_sequence_cleanup")) &&
      !stateful)
    return "Setting low_latency_transformation, max_sequence_number and idle_sequence_cleanup require setting stateful flag for the model.";
  return {};
}

CliOutcome parseImpl(int argc, const char* const* argv) {
  static const char* const kNoArgs[] = {"ovms", nullptr};
  if (argc < 1 || argv == nullptr) {  // cxxopts needs argv[0]; treat as "no arguments"
    argc = 1;
    argv = kNoArgs;
  }
  const std::string program = (argc > 0 && argv && argv[0] && argv[0][0]) ? argv[0] : "ovms";
  auto options = buildOptions(program);

  std::unique_ptr<cxxopts::ParseResult> parsed;
  ServerSettings s;
  try {
    parsed = std::make_unique<cxxopts::ParseResult>(options->parse(argc, argv));
    const auto& r = *parsed;
    auto u32 = [&](const char* name) { return parseUnsigned<uint32_t>(r[name].as<std::string>()); };
    auto str = [&](const char* name) { return r[name].as<std::string>(); };
    auto optStr = [&](const char* name) -> std::optional<std::string> {
      if (!r.count(name)) return std::nullopt;
      return r[name].as<std::string>();
    };

    // Type conversion of every integer flag happens first: in OVMS a bad value makes cxxopts
    // throw during parsing, before unmatched arguments, --version or --help are looked at.
    s.grpc_port = u32("port");
    s.rest_port = u32("rest_port");
    s.grpc_workers = u32("grpc_workers");
    const unsigned cores = cpuCoreCount();
    s.grpc_max_threads = r.count("grpc_max_threads")
                             ? u32("grpc_max_threads")
                             : static_cast<uint32_t>(std::min<uint64_t>(8ull * cores, std::numeric_limits<uint32_t>::max()));
    s.grpc_memory_quota =
        r.count("grpc_memory_quota") ? parseUnsigned<uint64_t>(str("grpc_memory_quota")) : 2147483648ull;
    s.rest_workers_set = r.count("rest_workers") > 0;
    s.rest_workers = s.rest_workers_set ? u32("rest_workers") : defaultRestWorkers(cores);
    s.file_system_poll_wait_seconds = u32("file_system_poll_wait_seconds");
    s.sequence_cleaner_poll_wait_minutes = u32("sequence_cleaner_poll_wait_minutes");
    s.custom_node_resources_cleaner_interval_seconds = u32("custom_node_resources_cleaner_interval_seconds");
    s.rest_max_body_bytes_in_flight = parseUnsigned<uint64_t>(str("rest_max_body_bytes_in_flight"));
    s.rest_body_timeout_seconds = u32("rest_body_timeout_seconds");
    s.rest_min_body_bytes_per_second = u32("rest_min_body_bytes_per_second");
    s.shutdown_grace_period_seconds = u32("shutdown_grace_period_seconds");
    if (r.count("nireq")) s.model.nireq = u32("nireq");
    if (r.count("warmup_iterations")) s.model.warmup_iterations = u32("warmup_iterations");
    if (r.count("max_queued_requests")) {
      const std::string text = str("max_queued_requests");
      s.model.max_queued_requests = text == "-1" ? int64_t{-1} : int64_t{u32("max_queued_requests")};
    }
    if (r.count("max_sequence_number")) s.model.max_sequence_number = u32("max_sequence_number");

    if (!r.unmatched().empty()) {
      std::string msg = "error parsing options - unmatched arguments: ";
      for (const auto& arg : r.unmatched()) msg += arg + ", ";
      return usageError(std::move(msg));
    }

    if (r.count("version")) {
      CliOutcome outcome;
      std::lock_guard<std::mutex> lock(g_versionMutex);
      outcome.out = "OpenVINO Model Server " + g_serverVersion + "\nOpenVINO backend ONNX Runtime " + g_backendVersion + "\n" +
                    g_versionExtraLines;
      return outcome;
    }
    if (argc <= 1 || r.count("help")) {
      CliOutcome outcome;
      outcome.out = options->help({"", "multi model", "single model"});
      if (outcome.out.empty() || outcome.out.back() != '\n') outcome.out += "\n";
      return outcome;
    }

    s.grpc_bind_address = str("grpc_bind_address");
    s.rest_bind_address = str("rest_bind_address");
    s.log_level = str("log_level");
    if (r.count("log_path")) s.log_path = str("log_path");
    if (r.count("grpc_channel_arguments")) s.grpc_channel_arguments = str("grpc_channel_arguments");
    s.cpu_extension = str("cpu_extension");
    if (r.count("cache_dir")) s.cache_dir = str("cache_dir");
    s.metrics_enable = r["metrics_enable"].as<bool>();
    s.metrics_list = str("metrics_list");
    s.allow_credentials = r["allow_credentials"].as<bool>();
    s.allowed_origins = str("allowed_origins");
    s.allowed_methods = str("allowed_methods");
    s.allowed_headers = str("allowed_headers");
    if (r.count("config_path")) s.config_path = str("config_path");
    if (r.count("tls_cert_file")) s.tls_cert_file = str("tls_cert_file");
    if (r.count("tls_key_file")) s.tls_key_file = str("tls_key_file");
    if (r.count("tls_ca_file")) s.tls_ca_file = str("tls_ca_file");
    if (r.count("api_key_file")) s.api_key_file = str("api_key_file");
    if (r.count("model_name")) s.model.model_name = str("model_name");
    if (r.count("model_path")) s.model.model_path = str("model_path");
    s.model.batch_size = optStr("batch_size");
    s.model.shape = optStr("shape");
    s.model.layout = optStr("layout");
    s.model.model_version_policy = optStr("model_version_policy");
    s.model.plugin_config = optStr("plugin_config");
    s.model.target_device = optStr("target_device");
    s.model.stateful = r["stateful"].as<bool>();
    if (r.count("idle_sequence_cleanup")) s.model.idle_sequence_cleanup = r["idle_sequence_cleanup"].as<bool>();
    if (r.count("low_latency_transformation"))
      s.model.low_latency_transformation = r["low_latency_transformation"].as<bool>();
  } catch (const BadValue& e) {
    return usageError(std::string("error parsing options - ") + e.what());
  } catch (const cxxopts::exceptions::exception& e) {
    return usageError(std::string("error parsing options - ") + e.what());
  }

  std::string error = validate(s, *parsed);
  if (!error.empty()) return usageError(std::move(error));

  // A directory given as config_path means <dir>/config.json.
  {
    std::error_code ec;
    if (!s.config_path.empty() && std::filesystem::is_directory(s.config_path, ec)) {
      std::string dir = s.config_path;
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
      s.config_path = (dir == "/" ? std::string() : dir) + "/config.json";
    }
  }

  CliOutcome outcome;
  outcome.run = true;
  outcome.exit_code = 0;
  outcome.settings = std::move(s);
  return outcome;
}

}  // namespace

unsigned cpuCoreCount() {
  unsigned override = g_coreOverride.load();
  if (override != 0) return override;
  return usableCores();
}

void setCpuCoreCountForTesting(unsigned n) { g_coreOverride.store(n); }

void setVersionStrings(std::string server, std::string backend, std::string extra_lines) {
  std::lock_guard<std::mutex> lock(g_versionMutex);
  g_serverVersion = std::move(server);
  g_backendVersion = std::move(backend);
  g_versionExtraLines = std::move(extra_lines);
}

CliOutcome parseCommandLine(int argc, const char* const* argv) {
  try {
    return parseImpl(argc, argv);
  } catch (const std::exception& e) {
    return usageError(std::string("error parsing options - ") + e.what());
  } catch (...) {
    return usageError("error parsing options - unknown error");
  }
}

}  // namespace ovms::serving
