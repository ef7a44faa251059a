#pragma once
// The `ovms` command line: flag parsing (cxxopts) and the OVMS Config::validate() rules
// (docs: /work/shared/reference/ovms-behaviour.md §1). parseCommandLine never prints, never
// exits and never throws; the caller prints `out` / `err` and exits with `exit_code` when !run.
#include <cstdint>
#include <optional>
#include <string>

namespace ovms::serving {

struct ModelCliSettings {          // single-model mode flags (strings are validated later, at load time)
  std::string model_name, model_path;
  std::optional<std::string> batch_size, shape, layout, model_version_policy, plugin_config, target_device;
  std::optional<uint32_t> nireq;
  std::optional<uint32_t> warmup_iterations;  // --warmup_iterations (config.json: "warmup": {"iterations": N})
  std::optional<int64_t> max_queued_requests;  // not in OVMS (issue 9); -1 = no bound
  bool stateful = false;                        // --stateful and its options (rule 16 checked at parse)
  std::optional<uint32_t> max_sequence_number;
  std::optional<bool> idle_sequence_cleanup, low_latency_transformation;
};

struct ServerSettings {
  uint32_t grpc_port = 9178;       // --port; 2021 default 9178; 0 = gRPC off
  uint32_t rest_port = 0;
  std::string grpc_bind_address = "0.0.0.0", rest_bind_address = "0.0.0.0";
  uint32_t grpc_workers = 1;
  uint32_t grpc_max_threads = 8;   // default 8 x cores (filled in by parseCommandLine)
  uint64_t grpc_memory_quota = 2147483648ull;
  uint32_t rest_workers = 2;       // default: Linux max(2, min(cores, (RLIMIT_NOFILE-15)/7)) (filled in by parseCommandLine)
  bool rest_workers_set = false;
  std::string log_level = "INFO";
  std::string log_path;            // empty = stdout
  std::string grpc_channel_arguments;
  uint32_t file_system_poll_wait_seconds = 1;
  uint32_t sequence_cleaner_poll_wait_minutes = 5;
  uint32_t custom_node_resources_cleaner_interval_seconds = 300;
  std::string cpu_extension;
  std::string cache_dir;
  bool metrics_enable = false;
  std::string metrics_list;
  bool allow_credentials = false;
  std::string allowed_origins = "*", allowed_methods = "*", allowed_headers = "*";
  // Hardening limits (not in OVMS; defaults keep OVMS behaviour for ordinary clients).
  uint64_t rest_max_body_bytes_in_flight = 1073741824ull;  // REST bodies held at once; past it 429; 0 = no bound
  uint32_t rest_body_timeout_seconds = 300;          // whole-body deadline; 0 = none
  uint32_t rest_min_body_bytes_per_second = 1024;    // minimum average body rate after 10 s; 0 = none
  uint32_t shutdown_grace_period_seconds = 30;       // SIGTERM: time in-flight requests get to finish
  // Security (docs/security.md; all empty = plain gRPC/HTTP without authentication, as OVMS).
  std::string tls_cert_file, tls_key_file, tls_ca_file;  // TLS on both ports; ca_file = client certificates (mTLS)
  std::string api_key_file;                               // else env API_KEY; checked on all but health routes
  std::string config_path;         // if a directory, <dir>/config.json
  ModelCliSettings model;
};

struct CliOutcome {
  bool run = false;                // true: start the server with `settings`
  int exit_code = 0;               // when !run: 0 for --help/--version/no args, 64 (EX_USAGE) for errors
  std::string out;                 // text for stdout (help, version)
  std::string err;                 // text for stderr (error message, one line + newline)
  ServerSettings settings;
};

CliOutcome parseCommandLine(int argc, const char* const* argv);   // never throws, never exits

unsigned cpuCoreCount();           // usableCores() (affinity and cgroup quota applied); overridable for tests via a setter
void setCpuCoreCountForTesting(unsigned n);  // 0 = real value

// Strings printed by --version:
//   "OpenVINO Model Server <server>\nOpenVINO backend ONNX Runtime <backend>\n"
// `server` is the project version, `backend` the ONNX Runtime version. Defaults "0.1.0" and "unknown".
// `extra_lines` (build type, git commit; each ending in '\n') follow OVMS's two lines.
void setVersionStrings(std::string server, std::string backend, std::string extra_lines = {});

}  // namespace ovms::serving
