#include "engine/onnx_model.h"

#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>

#include "engine/ir/custom_ops.h"
#include "serving/packed_strings.h"  // header-only: the one codec of the packed STRING layout

namespace ovms::engine {
namespace {

Ort::Env& env() {
  static Ort::Env e(ORT_LOGGING_LEVEL_ERROR, "ovms");
  return e;
}


std::vector<TensorInfo> describe(Ort::Session& s, bool inputs, std::string* error) {
  Ort::AllocatorWithDefaultOptions alloc;
  std::vector<TensorInfo> infos;
  size_t n = inputs ? s.GetInputCount() : s.GetOutputCount();
  for (size_t i = 0; i < n; ++i) {
    TensorInfo info;
    info.name = (inputs ? s.GetInputNameAllocated(i, alloc) : s.GetOutputNameAllocated(i, alloc)).get();
    Ort::TypeInfo ti = inputs ? s.GetInputTypeInfo(i) : s.GetOutputTypeInfo(i);
    if (ti.GetONNXType() != ONNX_TYPE_TENSOR) {
      *error = "non-tensor " + std::string(inputs ? "input" : "output") + " '" + info.name + "' is not supported";
      return {};
    }
    auto tsi = ti.GetTensorTypeAndShapeInfo();
    auto p = fromOnnxElementType(static_cast<int>(tsi.GetElementType()));
    if (!p) {
      *error = "tensor '" + info.name + "' has an unsupported element type " + std::to_string(tsi.GetElementType());
      return {};
    }
    info.precision = *p;
    info.shape = tsi.GetShape();
    for (auto& d : info.shape)
      if (d < 0) d = -1;
    infos.push_back(std::move(info));
  }
  return infos;
}

// ONNX Runtime keeps string tensors as std::string elements, not as one buffer, so a STRING
// input (packed layout, see serving/packed_strings.h) is copied element by element. The
// resized-buffer call keeps embedded NUL bytes, which FillStringTensor (C strings) would cut.
bool stringTensorFromPacked(const TensorView& in, Ort::Value* value, std::string* error) {
  std::vector<std::string_view> elements;
  if (!serving::unpackStrings(in.data, in.bytes, &elements)) {
    *error = "malformed packed string tensor";
    return false;
  }
  const int64_t count = elementCount(in.shape);
  if (count < 0 || static_cast<uint64_t>(count) != elements.size()) {
    *error = "string tensor of shape " + shapeToString(in.shape) + " holds " + std::to_string(elements.size()) +
             " elements";
    return false;
  }
  Ort::AllocatorWithDefaultOptions alloc;
  *value = Ort::Value::CreateTensor(alloc, in.shape.data(), in.shape.size(), ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING);
  for (size_t i = 0; i < elements.size(); ++i) {
    char* dst = value->GetResizedStringTensorElementBuffer(i, elements[i].size());
    if (!elements[i].empty()) std::memcpy(dst, elements[i].data(), elements[i].size());
  }
  return true;
}

// A STRING output leaves the engine in the packed layout, in a buffer the view owns.
TensorView packedFromStringTensor(const Ort::Value& value, Shape shape, size_t count) {
  const size_t chars = value.GetStringTensorDataLength();
  std::string content(chars, '\0');
  std::vector<size_t> offsets(count);
  if (count > 0) value.GetStringTensorContent(content.data(), chars, offsets.data(), count);
  std::vector<std::string_view> elements;
  elements.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const size_t end = i + 1 < count ? offsets[i + 1] : chars;
    elements.emplace_back(content.data() + offsets[i], end - offsets[i]);
  }
  auto packed = std::make_shared<std::vector<uint8_t>>();
  serving::packStrings(elements, packed.get());
  TensorView v;
  v.precision = Precision::STRING;
  v.shape = std::move(shape);
  v.data = packed->data();
  v.bytes = packed->size();
  v.owner = std::shared_ptr<const void>(packed, packed->data());
  return v;
}

int64_t steadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct OnnxModel::Impl {
  std::unique_ptr<Ort::Session> session;
  std::vector<const char*> input_names;
  std::vector<const char*> output_names;
  Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  uint64_t shrink_min_input_bytes = UINT64_MAX;
  int64_t shrink_delay_ns = 0;
  // steady_clock ns when the last large run ended; 0 = no shrink pending.
  std::atomic<int64_t> last_large_run_ns{0};

  // Whether this run frees the arena's unused regions at its end: one run (the first to claim it)
  // starting at least the delay after the last large run; with no delay, every large run.
  bool shrinkDue(bool large) {
    if (shrink_min_input_bytes == UINT64_MAX) return false;
    if (shrink_delay_ns == 0) return large;
    int64_t last = last_large_run_ns.load();
    if (last == 0 || steadyNs() - last < shrink_delay_ns) return false;
    return last_large_run_ns.compare_exchange_strong(last, 0);
  }
  // Run options of large runs: free the arena's extensions this run allocated (see EngineOptions).
  Ort::RunOptions shrink_arena = [] {
    Ort::RunOptions o;
    o.AddConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
    return o;
  }();
};

OnnxModel::OnnxModel() : impl_(std::make_unique<Impl>()) {}
OnnxModel::~OnnxModel() = default;

std::vector<std::string> availableDevices() {
  std::vector<std::string> devices{"CPU"};
  for (const auto& p : Ort::GetAvailableProviders())
    if (p == "CUDAExecutionProvider") devices.push_back("GPU");
  return devices;
}

std::string engineVersion() { return Ort::GetVersionString(); }


static Ort::SessionOptions makeOptions(const EngineOptions& options) {
  Ort::SessionOptions so;
  so.SetGraphOptimizationLevel(options.already_optimized ? GraphOptimizationLevel::ORT_DISABLE_ALL
                                                          : GraphOptimizationLevel::ORT_ENABLE_ALL);
  so.SetExecutionMode(ExecutionMode::ORT_SEQUENTIAL);
  if (options.intra_op_threads > 0) so.SetIntraOpNumThreads(options.intra_op_threads);
  so.SetInterOpNumThreads(1);
  // A spinning pool steals the cores from concurrent requests and the server's I/O threads.
  so.AddConfigEntry("session.intra_op.allow_spinning", "0");
  so.AddConfigEntry("session.inter_op.allow_spinning", "0");
  // ONNX Runtime would quantize the float weights of a Conv between DequantizeLinear and QuantizeLinear per tensor
  // (lossy against per-channel INT8 weights); the IR translation emits exact int8 weights itself where they exist.
  so.AddConfigEntry("optimization.disable_specified_optimizers", "WeightBiasQuantization");
  if (!options.optimized_model_path.empty()) so.SetOptimizedModelFilePath(options.optimized_model_path.c_str());
  // Translated IR models use operators of our own (DetectionOutput, NonMaxSuppression, ...).
  ir::registerIrCustomOps(so);
  return so;
}

// Sessions share one custom-op domain (ir::registerIrCustomOps), and ONNX Runtime registers a session's
// custom domains into a shared schema map without a lock: two sessions built at once fail with "domain is
// already exist". Models load concurrently, so session construction is serialised here.
std::mutex& sessionBuildMutex() {
  static std::mutex mu;
  return mu;
}

std::unique_ptr<OnnxModel> OnnxModel::load(std::string_view bytes, const EngineOptions& options, std::string* error) {
  std::unique_ptr<OnnxModel> m(new OnnxModel());
  try {
    auto so = makeOptions(options);
    std::lock_guard build(sessionBuildMutex());
    m->impl_->session = std::make_unique<Ort::Session>(env(), bytes.data(), bytes.size(), so);
  } catch (const std::exception& e) {
    *error = e.what();
    return nullptr;
  }
  m->impl_->shrink_min_input_bytes = options.arena_shrink_min_input_bytes;
  m->impl_->shrink_delay_ns = int64_t{options.arena_shrink_delay_ms} * 1000000;
  return finish(std::move(m), error);
}

std::unique_ptr<OnnxModel> OnnxModel::loadFile(const std::string& path, const EngineOptions& options, std::string* error) {
  std::unique_ptr<OnnxModel> m(new OnnxModel());
  try {
    auto so = makeOptions(options);
    std::lock_guard build(sessionBuildMutex());
    m->impl_->session = std::make_unique<Ort::Session>(env(), path.c_str(), so);
  } catch (const std::exception& e) {
    *error = e.what();
    return nullptr;
  }
  m->impl_->shrink_min_input_bytes = options.arena_shrink_min_input_bytes;
  m->impl_->shrink_delay_ns = int64_t{options.arena_shrink_delay_ms} * 1000000;
  return finish(std::move(m), error);
}

std::unique_ptr<OnnxModel> OnnxModel::finish(std::unique_ptr<OnnxModel> m, std::string* error) {
  try {
    auto& s = *m->impl_->session;
    auto ins = describe(s, true, error);
    if (!error->empty()) return nullptr;
    auto outs = describe(s, false, error);
    if (!error->empty()) return nullptr;
    m->inputs_ = std::move(ins);
    m->outputs_ = std::move(outs);
    for (auto& i : m->inputs_) m->impl_->input_names.push_back(i.name.c_str());
    for (auto& o : m->outputs_) m->impl_->output_names.push_back(o.name.c_str());
  } catch (const std::exception& e) {
    *error = e.what();
    return nullptr;
  }
  return m;
}

bool OnnxModel::infer(const std::vector<TensorView>& inputs, std::vector<TensorView>* outputs, std::string* error) const {
  try {
    std::vector<Ort::Value> values;
    values.reserve(inputs.size());
    uint64_t input_bytes = 0;
    for (const auto& in : inputs) input_bytes += in.bytes;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto& in = inputs[i];
      if (in.precision == Precision::STRING) {
        Ort::Value v{nullptr};
        if (!stringTensorFromPacked(in, &v, error)) return false;
        values.push_back(std::move(v));
        continue;
      }
      auto type = static_cast<ONNXTensorElementDataType>(onnxElementType(in.precision));
      // ONNX Runtime only reads inputs; the const_cast lets it view the request's bytes in place.
      values.push_back(Ort::Value::CreateTensor(impl_->cpu, const_cast<void*>(in.data), in.bytes, in.shape.data(),
                                                in.shape.size(), type));
    }
    static const Ort::RunOptions kDefaultRun{nullptr};
    const bool large = input_bytes >= impl_->shrink_min_input_bytes;
    const bool shrink = impl_->shrinkDue(large);
    const Ort::RunOptions& run_options = shrink ? impl_->shrink_arena : kDefaultRun;
    auto results = impl_->session->Run(run_options, impl_->input_names.data(), values.data(), values.size(),
                                       impl_->output_names.data(), impl_->output_names.size());
    if (large) impl_->last_large_run_ns.store(std::max<int64_t>(1, steadyNs()));
    outputs->clear();
    outputs->reserve(results.size());
    for (size_t i = 0; i < results.size(); ++i) {
      auto info = results[i].GetTensorTypeAndShapeInfo();
      if (info.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING) {
        outputs->push_back(packedFromStringTensor(results[i], info.GetShape(), info.GetElementCount()));
        continue;
      }
      auto owned = std::make_shared<Ort::Value>(std::move(results[i]));
      TensorView v;
      auto p = fromOnnxElementType(static_cast<int>(info.GetElementType()));
      v.precision = p ? *p : Precision::UNDEFINED;
      v.shape = info.GetShape();
      v.bytes = info.GetElementCount() * elementSize(v.precision);
      v.data = owned->GetTensorRawData();
      v.owner = std::shared_ptr<const void>(owned, owned.get());
      outputs->push_back(std::move(v));
    }
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
  return true;
}

}  // namespace ovms::engine
