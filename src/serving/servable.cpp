#include "serving/servable.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "common/logging.h"
#include "engine/graph_edit.h"
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

// Checks that the devices of target_device exist and picks the one the engine runs on:
// "CPU"; "MULTI:a,b" (all must exist); "HETERO:a,b" / "AUTO:a,b" (the first present one); "AUTO"
// (the best present device: GPU before CPU).
Status checkDevice(const std::string& target, std::string* resolved) {
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
  if (t == "AUTO") {
    *resolved = has("GPU") ? "GPU" : "CPU";
    return StatusCode::OK;
  }
  if (!t.empty()) wanted.push_back(t);
  bool ok = !wanted.empty();
  std::string first_present;
  for (auto& d : wanted) {
    std::string base = d.substr(0, d.find('.'));
    if (has(base)) {
      if (first_present.empty()) first_present = base;
    } else {
      ok = false;
    }
  }
  if (ok || (any_of && !first_present.empty())) {
    *resolved = first_present;
    return StatusCode::OK;
  }
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


Status readFileBytes(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return StatusCode::FILE_INVALID;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return StatusCode::OK;
}

// The model options (shape, batch_size, layout) resolved against the model's real tensor names.
struct EditPlan {
  struct Input {
    std::optional<std::vector<int64_t>> perm;  // model-from-client transpose
    std::optional<Dims> dims;                  // requested client dims
    std::optional<size_t> batch_index;
    std::optional<std::string> layout;         // configured client layout
  };
  std::map<std::string, Input> inputs;                           // by real name
  std::map<std::string, std::vector<int64_t>> output_perms;      // by real name
  bool empty() const {
    for (auto& [n, i] : inputs)
      if (i.perm || i.dims) return false;
    return output_perms.empty();
  }
};

// Finds which real tensor a config key names, honouring mapping_config.json (mapped names must be used).
enum class KeyKind { INPUT, OUTPUT, MAPPED_REAL_NAME, MISSING };
KeyKind resolveKey(const std::string& key, const std::vector<std::string>& ins, const std::vector<std::string>& outs,
                   const std::map<std::string, std::string>& in_map, const std::map<std::string, std::string>& out_map,
                   std::string* real) {
  auto exposed = [](const std::string& n, const std::map<std::string, std::string>& m) {
    auto it = m.find(n);
    return it == m.end() ? n : it->second;
  };
  for (const auto& n : ins)
    if (exposed(n, in_map) == key) return *real = n, KeyKind::INPUT;
  for (const auto& n : outs)
    if (exposed(n, out_map) == key) return *real = n, KeyKind::OUTPUT;
  for (const auto& n : ins)
    if (n == key) return KeyKind::MAPPED_REAL_NAME;
  for (const auto& n : outs)
    if (n == key) return KeyKind::MAPPED_REAL_NAME;
  return KeyKind::MISSING;
}

Status planEdits(const ModelConfig& config, const engine::GraphEditor& g, const std::map<std::string, std::string>& in_map,
                 const std::map<std::string, std::string>& out_map, EditPlan* plan) {
  ShapeConfig shape;
  BatchConfig batch;
  LayoutConfig layout;
  if (config.shape) {
    Status st = parseShapeConfig(*config.shape, &shape);
    if (!st.ok()) return st;
  }
  bool use_batch = false;
  if (config.batch_size) {
    Status st = parseBatchSize(*config.batch_size, &batch);
    if (!st.ok()) return st;
    use_batch = !batch.unset;
    if (use_batch && !shape.empty()) {
      MODEL_LOG(warn, "Both shape and batch_size are set for model {}; batch_size is ignored", config.name);
      use_batch = false;
    }
  }
  if (config.layout) {
    Status st = parseLayoutConfig(*config.layout, &layout);
    if (!st.ok()) return st;
  }
  auto ins = g.inputNames();
  auto outs = g.outputNames();
  std::map<std::string, LayoutValue> in_layouts, out_layouts;
  if (layout.anonymous) {
    if (ins.size() != 1) return StatusCode::ANONYMOUS_FIXED_LAYOUT_NOT_ALLOWED;
    in_layouts[ins[0]] = *layout.anonymous;
  }
  for (const auto& [key, lv] : layout.named) {
    std::string real;
    switch (resolveKey(key, ins, outs, in_map, out_map, &real)) {
      case KeyKind::INPUT: in_layouts[real] = lv; break;
      case KeyKind::OUTPUT: out_layouts[real] = lv; break;
      case KeyKind::MAPPED_REAL_NAME: return Status(StatusCode::CONFIG_LAYOUT_MAPPED_BUT_USED_REAL_NAME, key);
      case KeyKind::MISSING: return Status(StatusCode::CONFIG_LAYOUT_IS_NOT_IN_MODEL, key);
    }
  }
  auto rankMatches = [](const LayoutValue& lv, size_t rank) {
    return lv.client.find("...") != std::string::npos ? lv.client.size() - 3 <= rank : lv.client.size() == rank;
  };
  EditPlan p;
  std::map<std::string, Dims> current;  // client-layout dims of every input
  for (const auto& n : ins) {
    auto dims = g.inputShape(n).value_or(std::vector<int64_t>{});
    auto& in = p.inputs[n];
    auto it = in_layouts.find(n);
    LayoutValue lv = it != in_layouts.end() ? it->second : LayoutValue{"N...", "N..."};
    if (it != in_layouts.end()) in.layout = lv.client;
    if (!rankMatches(lv, dims.size()))
      return Status(StatusCode::LAYOUT_WRONG_FORMAT,
                    "layout " + lv.client + " does not fit input " + n + " of rank " + std::to_string(dims.size()));
    if (lv.needsTranspose()) {
      in.perm = lv.modelFromClientPerm();
      std::vector<int64_t> client(dims.size());
      for (size_t i = 0; i < dims.size(); ++i) client[(*in.perm)[i]] = dims[i];
      dims = client;
    }
    in.batch_index = lv.batchIndex(dims.size());
    current[n] = dimsFromShape(dims);
  }
  for (const auto& [n, lv] : out_layouts) {
    auto dims = g.outputShape(n).value_or(std::vector<int64_t>{});
    if (!rankMatches(lv, dims.size()))
      return Status(StatusCode::LAYOUT_WRONG_FORMAT,
                    "layout " + lv.client + " does not fit output " + n + " of rank " + std::to_string(dims.size()));
    if (lv.needsTranspose()) p.output_perms[n] = LayoutValue{lv.model, lv.client}.modelFromClientPerm();
  }
  auto setDims = [&](const std::string& n, const ShapeValue& v) -> Status {
    auto& in = p.inputs[n];
    if (v.is_auto) {
      in.dims = Dims(current[n].size(), Dimension::any());
      return StatusCode::OK;
    }
    if (v.dims.size() != current[n].size())
      return Status(StatusCode::RESHAPE_ERROR, "input " + n + " has rank " + std::to_string(current[n].size()) +
                                                   ", requested shape " + dimsToString(v.dims));
    in.dims = v.dims;
    return StatusCode::OK;
  };
  if (shape.anonymous) {
    if (shape.anonymous->is_auto) {
      for (const auto& n : ins) setDims(n, *shape.anonymous);
    } else {
      if (ins.size() != 1) return StatusCode::ANONYMOUS_FIXED_SHAPE_NOT_ALLOWED;
      Status st = setDims(ins[0], *shape.anonymous);
      if (!st.ok()) return st;
    }
  }
  for (const auto& [key, v] : shape.named) {
    std::string real;
    switch (resolveKey(key, ins, outs, in_map, out_map, &real)) {
      case KeyKind::INPUT: {
        Status st = setDims(real, v);
        if (!st.ok()) return st;
        break;
      }
      case KeyKind::OUTPUT:
        MODEL_LOG(warn, "Shape for output {} of model {} is ignored", key, config.name);
        break;
      case KeyKind::MAPPED_REAL_NAME: return Status(StatusCode::CONFIG_SHAPE_MAPPED_BUT_USED_REAL_NAME, key);
      case KeyKind::MISSING: return Status(StatusCode::CONFIG_SHAPE_IS_NOT_IN_MODEL, key);
    }
  }
  if (use_batch) {
    for (const auto& n : ins) {
      auto& in = p.inputs[n];
      if (!in.batch_index) continue;
      Dims d = current[n];
      d[*in.batch_index] = batch.is_auto ? Dimension::any() : batch.dim;
      in.dims = d;
    }
  }
  *plan = std::move(p);
  return StatusCode::OK;
}

std::vector<int64_t> graphDims(const Dims& d) {
  std::vector<int64_t> v;
  for (const auto& x : d) v.push_back(x.graphValue());
  return v;
}

Status applyPlan(const EditPlan& plan, engine::GraphEditor* g) {
  std::string error;
  for (const auto& [n, in] : plan.inputs) {
    if (in.perm && !g->transposeInput(n, *in.perm, &error)) return Status(StatusCode::RESHAPE_ERROR, error);
    if (in.dims && !g->setInputShape(n, graphDims(*in.dims), &error)) return Status(StatusCode::RESHAPE_ERROR, error);
  }
  for (const auto& [n, perm] : plan.output_perms)
    if (!g->transposeOutput(n, perm, &error)) return Status(StatusCode::RESHAPE_ERROR, error);
  return StatusCode::OK;
}

// FNV-1a, two seeds: a 128-bit content key for cache file names.
std::string contentKey(std::string_view a, std::string_view b) {
  auto fnv = [&](uint64_t h) {
    for (std::string_view s : {a, std::string_view("\0", 1), b})
      for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return h;
  };
  char buf[33];
  snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(fnv(14695981039346656037ULL)),
           static_cast<unsigned long long>(fnv(0x9e3779b97f4a7c15ULL)));
  return buf;
}

// Creates the session, through the optimised-model cache when `cache_dir` is set: a valid entry
// (its checksum file matches) is loaded without re-optimising; a missing or corrupt one is
// (re)written from the original bytes.
std::unique_ptr<engine::OnnxModel> loadSession(const std::string& bytes, const engine::EngineOptions& eo,
                                               const std::string& cache_dir, std::string* cache_path,
                                               bool* from_cache, std::string* error) {
  *from_cache = false;
  cache_path->clear();
  if (cache_dir.empty()) return engine::OnnxModel::load(bytes, eo, error);
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (!fs::is_directory(cache_dir, ec)) {
    MODEL_LOG(warn, "Cache directory {} cannot be used; the model cache is off", cache_dir);
    return engine::OnnxModel::load(bytes, eo, error);
  }
  std::string options = "ovms-ort-cache-v1;ort=" + engine::engineVersion() + ";device=" + eo.device +
                        ";cores=" + std::to_string(std::thread::hardware_concurrency());
  std::string path = (fs::path(cache_dir) / ("ovms_" + contentKey(bytes, options) + ".onnx")).string();
  std::string sum_path = path + ".sum";
  *cache_path = path;
  if (fs::exists(path, ec)) {
    std::string cached, sum;
    bool valid = readFileBytes(path, &cached).ok() && readFileBytes(sum_path, &sum).ok() && !cached.empty() &&
                 sum == contentKey(cached, "");
    if (valid) {
      engine::EngineOptions ceo = eo;
      ceo.already_optimized = true;
      std::string cache_error;
      auto m = engine::OnnxModel::load(cached, ceo, &cache_error);
      if (m) {
        MODEL_LOG(info, "Loaded model from cache {}", path);
        *from_cache = true;
        return m;
      }
      MODEL_LOG(warn, "Cached model {} cannot be loaded ({}); it is rebuilt", path, cache_error);
    } else {
      MODEL_LOG(warn, "Cached model {} is corrupt; it is rebuilt", path);
    }
    fs::remove(path, ec);
    fs::remove(sum_path, ec);
  }
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  engine::EngineOptions seo = eo;
  seo.optimized_model_path = tmp;
  std::string save_error;
  auto m = engine::OnnxModel::load(bytes, seo, &save_error);
  std::string saved;
  if (m && readFileBytes(tmp, &saved).ok() && !saved.empty()) {
    std::ofstream(tmp + ".sum", std::ios::binary) << contentKey(saved, "");
    fs::rename(tmp + ".sum", sum_path, ec);
    if (!ec) fs::rename(tmp, path, ec);
    if (ec) MODEL_LOG(warn, "Cannot write model cache {}: {}", path, ec.message());
    else MODEL_LOG(info, "Saved optimized model to cache {}", path);
  }
  fs::remove(tmp, ec);
  fs::remove(tmp + ".sum", ec);
  if (m) return m;
  // Saving may be what failed (read-only cache): load without the cache.
  cache_path->clear();
  return engine::OnnxModel::load(bytes, eo, error);
}

}  // namespace

Status Servable::load(const std::string& version_dir, const ModelConfig& config, std::unique_ptr<Servable>* out) {
  auto files = findModelFiles(version_dir);
  if (files.kind == ModelFiles::Kind::NONE) {
    MODEL_LOG(err, "No model file found in {} (expected .xml + .bin or .onnx)", version_dir);
    return StatusCode::FILE_INVALID;
  }
  std::string device;
  Status st = checkDevice(config.target_device, &device);
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
  eo.device = device;
  std::string error;
  std::string bytes;
  bool is_ir = files.kind == ModelFiles::Kind::IR;
  if (is_ir) {
#ifdef OVMS_HAVE_IR
    try {
      auto t = engine::ir::translateIrToOnnx(files.model, files.weights);
      s->model_info_ = t.model_info;
      bytes = std::move(t.onnx_model);
    } catch (const std::exception& e) {
      error = e.what();
    }
#else
    error = "OpenVINO IR support is not built in";
#endif
    if (bytes.empty()) {
      MODEL_LOG(err, "Error while loading model from {}: {}", files.model, error);
      return Status(StatusCode::MODEL_NOT_LOADED, error);
    }
  } else if (!readFileBytes(files.model, &bytes).ok()) {
    MODEL_LOG(err, "Cannot read model file {}", files.model);
    return StatusCode::FILE_INVALID;
  }

  // Model options → graph edits (shape, batch_size, layout), before the session exists.
  EditPlan plan;
  bool edited = false;
  if (config.shape || config.batch_size || config.layout) {
    auto g = engine::GraphEditor::parse(bytes, &error);
    if (!g) {
      MODEL_LOG(err, "Error while loading model from {}: {}", files.model, error);
      return Status(StatusCode::MODEL_NOT_LOADED, error);
    }
    st = planEdits(config, *g, in_map, out_map, &plan);
    if (!st.ok()) {
      MODEL_LOG(err, "Model {}: {}", config.name, st.message());
      return st;
    }
    if (!plan.empty()) {
#ifdef OVMS_HAVE_IR
      if (is_ir) {
        // The IR translator folds shapes; give it the requested (model-layout) dims up front.
        engine::ir::IrOptions io;
        for (const auto& [n, in] : plan.inputs) {
          if (!in.dims) continue;
          auto client = graphDims(*in.dims);
          std::vector<int64_t> model(client.size());
          for (size_t i = 0; i < client.size(); ++i) model[i] = in.perm ? client[(*in.perm)[i]] : client[i];
          io.input_shapes[n] = model;
        }
        if (!io.input_shapes.empty()) {
          try {
            bytes = engine::ir::translateIrToOnnx(files.model, files.weights, io).onnx_model;
            g = engine::GraphEditor::parse(bytes, &error);
          } catch (const std::exception& e) {
            MODEL_LOG(err, "Model {} could not be reshaped: {}", config.name, e.what());
            return Status(StatusCode::RESHAPE_ERROR, e.what());
          }
          if (!g) return Status(StatusCode::MODEL_NOT_LOADED, error);
        }
      }
#endif
      st = applyPlan(plan, g.get());
      if (!st.ok()) {
        MODEL_LOG(err, "Model {} could not be reshaped: {}", config.name, st.details());
        return st;
      }
      bytes = g->serialize();
      edited = true;
    }
  }

  bool from_cache = false;
  s->engine_ = loadSession(bytes, eo, config.cache_dir, &s->cache_path_, &from_cache, &error);
  s->loaded_from_cache_ = from_cache;
  if (!s->engine_) {
    MODEL_LOG(err, "Error while loading model from {}: {}", files.model, error);
    if (edited) return Status(StatusCode::RESHAPE_ERROR, error);
    return Status(StatusCode::MODEL_NOT_LOADED, error);
  }
  s->inputs_ = s->engine_->inputs();
  s->outputs_ = s->engine_->outputs();
  for (const auto& info : s->inputs_) {
    auto it = plan.inputs.find(info.name);
    Dims dims = dimsFromShape(info.shape);
    std::optional<size_t> bi = info.shape.empty() ? std::nullopt : std::optional<size_t>(0);
    std::string layout = info.shape.empty() ? "..." : "N...";
    if (it != plan.inputs.end()) {
      if (it->second.dims && it->second.dims->size() == dims.size()) dims = *it->second.dims;
      bi = it->second.batch_index;
      if (it->second.layout) layout = *it->second.layout;
    }
    s->input_dims_.push_back(std::move(dims));
    s->batch_index_.push_back(bi);
    s->input_layouts_.push_back(std::move(layout));
  }
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
  for (size_t idx = 0; idx < inputs_.size(); ++idx) {
    const auto& info = inputs_[idx];
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
    const Dims& dims = input_dims_[idx];
    if (t.shape.size() != dims.size())
      return Status(StatusCode::INVALID_NO_OF_SHAPE_DIMENSIONS,
                    detail(dimsToString(dims), shapeToString(t.shape), info.name));
    auto bi = batch_index_[idx];
    if (bi && *bi < dims.size() && !dims[*bi].accepts(t.shape[*bi]))
      return Status(StatusCode::INVALID_BATCH_SIZE,
                    detail(dims[*bi].toString(), std::to_string(t.shape[*bi]), info.name));
    for (size_t d = 0; d < dims.size(); ++d)
      if ((!bi || d != *bi) && !dims[d].accepts(t.shape[d]))
        return Status(StatusCode::INVALID_SHAPE, detail(dimsToString(dims), shapeToString(t.shape), info.name));
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

Status Servable::infer(const InferenceRequest& request, InferenceResponse* response, uint64_t* queue_wait_us,
                       uint64_t* inference_us) const {
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
    auto wait_start = std::chrono::steady_clock::now();
    std::unique_lock lock(slots_mutex_);
    slots_cv_.wait(lock, [&] { return slots_in_use_ < nireq_; });
    ++slots_in_use_;
    if (queue_wait_us)
      *queue_wait_us = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - wait_start).count());
  }
  std::vector<engine::TensorView> outs;
  std::string error;
  auto run_start = std::chrono::steady_clock::now();
  bool ok = engine_->infer(ins, &outs, &error);
  if (inference_us)
    *inference_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - run_start).count());
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
