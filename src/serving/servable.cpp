#include "serving/servable.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "common/logging.h"
#ifdef OVMS_HAVE_IR
#include "engine/ir/ir_model.h"
#endif

namespace ovms::serving {
namespace fs = std::filesystem;
using engine::Precision;
using engine::shapeToString;

namespace {

unsigned cores() { return std::max(1u, std::thread::hardware_concurrency()); }

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

// Streams and threads per inference from plugin_config, as OVMS's CPU plugin would pick them.
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

Status checkDevice(const std::string& target) {
  auto present = engine::availableDevices();
  auto has = [&](const std::string& d) { return std::find(present.begin(), present.end(), d) != present.end(); };
  std::vector<std::string> wanted;
  std::string t = target.empty() ? "AUTO" : target;
  bool any_of = false;
  for (const char* prefix : {"MULTI:", "HETERO:", "AUTO:"}) {
    if (t.rfind(prefix, 0) == 0) {
      std::stringstream ss(t.substr(std::string(prefix).size()));
      for (std::string d; std::getline(ss, d, ',');) wanted.push_back(d);
      any_of = std::string(prefix) != "MULTI:";
      t.clear();
    }
  }
  if (t == "AUTO") return StatusCode::OK;
  if (!t.empty()) wanted.push_back(t);
  bool ok = !wanted.empty();
  bool any = false;
  for (auto& d : wanted) {
    std::string base = d.substr(0, d.find('.'));
    if (has(base))
      any = true;
    else
      ok = false;
  }
  if (ok || (any_of && any)) return StatusCode::OK;
  std::string list;
  for (auto& d : present) list += (list.empty() ? "" : ", ") + d;
  MODEL_LOG(err, "Target device {} is not available. Available devices: {}", target, list);
  return Status(StatusCode::CANNOT_COMPILE_MODEL_INTO_TARGET_DEVICE, "available devices: " + list);
}

struct ModelFiles {
  enum class Kind { NONE, IR, ONNX } kind = Kind::NONE;
  std::string model, weights;
};

ModelFiles findModelFiles(const std::string& dir) {
  ModelFiles f;
  std::string xml, bin, onnx;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec)) continue;
    auto ext = e.path().extension().string();
    if (ext == ".xml" && xml.empty()) xml = e.path().string();
    if (ext == ".bin" && bin.empty()) bin = e.path().string();
    if (ext == ".onnx" && onnx.empty()) onnx = e.path().string();
  }
  if (!xml.empty() && !bin.empty()) {
    f.kind = ModelFiles::Kind::IR;
    f.model = xml;
    f.weights = bin;
  } else if (!onnx.empty()) {
    f.kind = ModelFiles::Kind::ONNX;
    f.model = onnx;
  }
  return f;
}

// mapping_config.json renames inputs and outputs (§2.3).
Status readMapping(const std::string& dir, std::map<std::string, std::string>* inputs,
                   std::map<std::string, std::string>* outputs) {
  fs::path p = fs::path(dir) / "mapping_config.json";
  std::error_code ec;
  if (!fs::exists(p, ec)) return StatusCode::OK;
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    MODEL_LOG(warn, "Couldn't load mapping config file {}: not valid json", p.string());
    return StatusCode::JSON_INVALID;
  }
  for (auto& [k, v] : j.items()) {
    if ((k != "inputs" && k != "outputs") || !v.is_object()) {
      MODEL_LOG(warn, "Mapping config file {} has an invalid structure", p.string());
      return StatusCode::JSON_INVALID;
    }
    for (auto& [from, to] : v.items()) {
      if (!to.is_string()) return StatusCode::JSON_INVALID;
      (k == "inputs" ? *inputs : *outputs)[from] = to.get<std::string>();
    }
  }
  return StatusCode::OK;
}

std::string detail(const std::string& expected, const std::string& actual, const std::string& name) {
  return "Expected: " + expected + "; Actual: " + actual + "; input name: " + name;
}

}  // namespace

Status Servable::load(const std::string& version_dir, const ModelConfig& config, std::unique_ptr<Servable>* out) {
  auto files = findModelFiles(version_dir);
  if (files.kind == ModelFiles::Kind::NONE) {
    MODEL_LOG(err, "No model file found in {} (expected .xml + .bin or .onnx)", version_dir);
    return StatusCode::FILE_INVALID;
  }
  Status st = checkDevice(config.target_device);
  if (!st.ok()) return st;
  uint32_t streams = 1;
  int threads = 0;
  st = threadingFromPluginConfig(config.plugin_config, &streams, &threads);
  if (!st.ok()) {
    MODEL_LOG(err, "{}", st.message());
    return st;
  }
  if (config.nireq > 100000) return StatusCode::INVALID_NIREQ;

  std::map<std::string, std::string> in_map, out_map;
  st = readMapping(version_dir, &in_map, &out_map);
  if (!st.ok()) return st;

  auto s = std::unique_ptr<Servable>(new Servable());
  engine::EngineOptions eo;
  eo.intra_op_threads = threads;
  eo.device = config.target_device;
  std::string error;
  std::vector<std::string> ir_inputs, ir_outputs;
  if (files.kind == ModelFiles::Kind::IR) {
#ifdef OVMS_HAVE_IR
    try {
      auto t = engine::ir::translateIrToOnnx(files.model, files.weights);
      s->model_info_ = t.model_info;
      s->engine_ = engine::OnnxModel::load(t.onnx_model, eo, &error);
    } catch (const std::exception& e) {
      error = e.what();
    }
#else
    error = "OpenVINO IR support is not built in";
#endif
  } else {
    s->engine_ = engine::OnnxModel::loadFile(files.model, eo, &error);
  }
  if (!s->engine_) {
    MODEL_LOG(err, "Error while loading model from {}: {}", files.model, error);
    return Status(StatusCode::MODEL_NOT_LOADED, error);
  }
  s->inputs_ = s->engine_->inputs();
  s->outputs_ = s->engine_->outputs();
  for (auto& i : s->inputs_)
    if (auto it = in_map.find(i.name); it != in_map.end()) i.name = it->second;
  for (auto& o : s->outputs_)
    if (auto it = out_map.find(o.name); it != out_map.end()) o.name = it->second;
  s->streams_ = streams;
  s->nireq_ = config.nireq ? config.nireq : std::max<uint32_t>(streams, cores());
  *out = std::move(s);
  return StatusCode::OK;
}

Status Servable::validate(const InferenceRequest& request) const {
  if (request.inputs.size() != inputs_.size())
    return Status(StatusCode::INVALID_NO_OF_INPUTS,
                  "Expected: " + std::to_string(inputs_.size()) + "; Actual: " + std::to_string(request.inputs.size()));
  for (const auto& info : inputs_) {
    const InferenceInput* in = request.find(info.name);
    if (!in) return Status(StatusCode::INVALID_MISSING_INPUT, "Required input: " + info.name);
    const auto& t = in->tensor;
    for (int64_t d : t.shape)
      if (d < 0)
        return Status(StatusCode::INVALID_SHAPE, "Negative or zero dimension size is not acceptable: " +
                                                     shapeToString(t.shape) + "; input name: " + info.name);
    if (t.precision != info.precision)
      return Status(StatusCode::INVALID_PRECISION,
                    detail(engine::precisionName(info.precision), engine::precisionName(t.precision), info.name));
    if (t.shape.size() != info.shape.size())
      return Status(StatusCode::INVALID_NO_OF_SHAPE_DIMENSIONS,
                    detail(shapeToString(info.shape), shapeToString(t.shape), info.name));
    if (!info.shape.empty() && info.shape[0] >= 0 && info.shape[0] != t.shape[0])
      return Status(StatusCode::INVALID_BATCH_SIZE,
                    detail(std::to_string(info.shape[0]), std::to_string(t.shape[0]), info.name));
    for (size_t d = 1; d < info.shape.size(); ++d)
      if (info.shape[d] >= 0 && info.shape[d] != t.shape[d])
        return Status(StatusCode::INVALID_SHAPE, detail(shapeToString(info.shape), shapeToString(t.shape), info.name));
    // Never trust a declared shape to size an allocation: compare with what actually arrived.
    uint64_t expected = 0;
    bool fits = engine::denseByteSize(t.shape, t.precision, UINT64_MAX / 2, &expected);
    if (in->typed_values) {
      int64_t count = engine::elementCount(t.shape);
      if (!fits || count != in->value_count)
        return Status(StatusCode::INVALID_VALUE_COUNT,
                      "Expected: " + (fits ? std::to_string(count) : std::string("too many")) +
                          "; Actual: " + std::to_string(in->value_count) + "; input name: " + info.name);
    } else if (!fits || expected != t.bytes) {
      return Status(StatusCode::INVALID_CONTENT_SIZE,
                    "Expected: " + (fits ? std::to_string(expected) : std::string("too many")) + " bytes; Actual: " +
                        std::to_string(t.bytes) + " bytes; input name: " + info.name);
    }
  }
  return StatusCode::OK;
}

Status Servable::infer(const InferenceRequest& request, InferenceResponse* response) const {
  Status st = validate(request);
  if (!st.ok()) return st;
  std::vector<engine::TensorView> ins;
  ins.reserve(inputs_.size());
  static const uint8_t kEmpty[16] = {};
  for (const auto& info : inputs_) {
    engine::TensorView v = request.find(info.name)->tensor;
    if (v.data == nullptr) v.data = kEmpty;  // zero-element tensors still need an address
    ins.push_back(std::move(v));
  }
  {
    std::unique_lock lock(slots_mutex_);
    slots_cv_.wait(lock, [&] { return slots_in_use_ < nireq_; });
    ++slots_in_use_;
  }
  std::vector<engine::TensorView> outs;
  std::string error;
  bool ok = engine_->infer(ins, &outs, &error);
  {
    std::lock_guard lock(slots_mutex_);
    --slots_in_use_;
  }
  slots_cv_.notify_one();
  if (!ok) {
    MODEL_LOG(err, "Inference failed: {}", error);
    return Status(StatusCode::OV_INTERNAL_INFERENCE_ERROR, error);
  }
  response->outputs.clear();
  for (size_t i = 0; i < outs.size(); ++i) response->outputs.push_back({outputs_[i].name, std::move(outs[i])});
  return StatusCode::OK;
}

}  // namespace ovms::serving
