#include "serving/engine_options.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "common/cpu.h"
#include "common/logging.h"
#include "engine/onnx_model.h"

namespace ovms::serving {
unsigned cores() { return usableCores(); }

namespace {

// plugin_config keys OVMS's CPU plugin accepts that mean something (or nothing harmful) here.
const std::set<std::string>& supportedPluginKeys() {
  static const std::set<std::string> keys{
      "NUM_STREAMS", "CPU_THROUGHPUT_STREAMS", "PERFORMANCE_HINT", "PERFORMANCE_HINT_NUM_REQUESTS",
      "INFERENCE_NUM_THREADS", "CPU_THREADS_NUM", "CPU_BIND_THREAD", "ENABLE_CPU_PINNING", "AFFINITY",
      "INFERENCE_PRECISION_HINT", "EXECUTION_MODE_HINT", "ENABLE_HYPER_THREADING", "SCHEDULING_CORE_TYPE",
      "CPU_DENORMALS_OPTIMIZATION", "LOG_LEVEL", "DYNAMIC_QUANTIZATION_GROUP_SIZE", "KV_CACHE_PRECISION",
      "MODEL_DISTRIBUTION_POLICY", "CPU_SPARSE_WEIGHTS_DECOMPRESSION_RATE", "DEVICE_PROPERTIES", "CACHE_DIR",
      "ENABLE_MMAP", "MODEL_PRIORITY"};
  return keys;
}

}  // namespace

Status threadingFromPluginConfig(const std::map<std::string, std::string>& pc, uint32_t* streams, int* threads) {
  std::vector<std::string> unsupported;
  for (const auto& [k, v] : pc)
    if (!supportedPluginKeys().count(k)) unsupported.push_back(k);
  if (!unsupported.empty()) {
    std::string list;
    for (auto& k : unsupported) list += (list.empty() ? "" : ", ") + k;
    return Status(StatusCode::PLUGIN_CONFIG_UNSUPPORTED_KEY, list);
  }
  auto parseCount = [](const std::string& v, uint32_t* out) {
    try {
      size_t pos = 0;
      long n = std::stol(v, &pos);
      if (pos != v.size() || n < 0 || n > 1024) return false;
      *out = static_cast<uint32_t>(n);
      return true;
    } catch (...) {
      return false;
    }
  };
  uint32_t s = 1;
  auto hint = pc.find("PERFORMANCE_HINT");
  if (hint != pc.end()) {
    if (hint->second == "THROUGHPUT" || hint->second == "CUMULATIVE_THROUGHPUT")
      s = cores();
    else if (hint->second != "LATENCY")
      return Status(StatusCode::PLUGIN_CONFIG_WRONG_FORMAT, "PERFORMANCE_HINT must be LATENCY or THROUGHPUT");
  }
  for (const char* key : {"NUM_STREAMS", "CPU_THROUGHPUT_STREAMS"}) {
    auto it = pc.find(key);
    if (it == pc.end()) continue;
    const auto& v = it->second;
    if (v == "AUTO" || v == "CPU_THROUGHPUT_AUTO" || v == "-1") {
      s = std::max(1u, cores() / 2);
    } else if (v == "CPU_THROUGHPUT_NUMA") {
      s = 1;
    } else if (!parseCount(v, &s)) {
      return Status(StatusCode::PLUGIN_CONFIG_WRONG_FORMAT, std::string(key) + " value is invalid: " + v);
    }
    if (s == 0) s = 1;
  }
  int t = 0;
  for (const char* key : {"INFERENCE_NUM_THREADS", "CPU_THREADS_NUM"}) {
    auto it = pc.find(key);
    if (it == pc.end()) continue;
    uint32_t n = 0;
    if (!parseCount(it->second, &n))
      return Status(StatusCode::PLUGIN_CONFIG_WRONG_FORMAT, std::string(key) + " value is invalid: " + it->second);
    t = static_cast<int>(n);
  }
  if (t == 0) t = static_cast<int>(std::max(1u, cores() / s));
  *streams = s;
  *threads = t;
  return StatusCode::OK;
}

// Checks that the devices of target_device exist and picks the one the engine runs on:
// "CPU"; "MULTI:a,b" / "HETERO:a,b" / "AUTO:a,b" (the present ones, the first of them runs; the
// absent ones are named in a warning, so "HETERO:GPU,CPU" on a CPU-only host serves on CPU as
// OpenVINO's fallback does); "AUTO" (the best present device: GPU before CPU). A plain device that
// is absent, or a list with no present device, fails to load (CANNOT_COMPILE_MODEL_INTO_TARGET_DEVICE).
// Devices map to ONNX Runtime execution providers: CPU -> the CPU provider, GPU -> CUDA when
// ONNX Runtime lists it (docs/model-options.md).
Status checkDevice(const std::string& target, std::string* resolved) {
  auto present = engine::availableDevices();
  auto has = [&](const std::string& d) { return std::find(present.begin(), present.end(), d) != present.end(); };
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& d : v) out += (out.empty() ? "" : ", ") + d;
    return out;
  };
  std::vector<std::string> wanted;
  std::string t = target.empty() ? "AUTO" : target;
  bool is_list = false;
  for (const char* prefix : {"MULTI:", "HETERO:", "AUTO:"}) {
    if (t.rfind(prefix, 0) == 0) {
      std::stringstream ss(t.substr(std::string(prefix).size()));
      for (std::string d; std::getline(ss, d, ',');)
        if (!d.empty()) wanted.push_back(d);
      is_list = true;
      t.clear();
    }
  }
  if (t == "AUTO") {
    *resolved = has("GPU") ? "GPU" : "CPU";
    return StatusCode::OK;
  }
  if (!t.empty()) wanted.push_back(t);
  std::vector<std::string> used, missing;
  for (auto& d : wanted) {
    std::string base = d.substr(0, d.find('.'));
    if (has(base)) {
      if (std::find(used.begin(), used.end(), base) == used.end()) used.push_back(base);
    } else {
      missing.push_back(d);
    }
  }
  if (!used.empty() && (missing.empty() || is_list)) {
    if (!missing.empty())
      MODEL_LOG(warn, "Target device {}: device(s) {} not available on this host; using {}", target, join(missing),
                join(used));
    *resolved = used.front();
    return StatusCode::OK;
  }
  MODEL_LOG(err, "Target device {} is not available. Available devices: {}", target, join(present));
  return Status(StatusCode::CANNOT_COMPILE_MODEL_INTO_TARGET_DEVICE, "available devices: " + join(present));
}

}  // namespace ovms::serving
