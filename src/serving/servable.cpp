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
#include "serving/edit_plan.h"
#include "serving/engine_options.h"
#include "serving/model_cache.h"
#include "serving/model_files.h"
#include "engine/ir/ir_model.h"

namespace ovms::serving {
namespace fs = std::filesystem;
using engine::Precision;
using engine::shapeToString;

namespace {

std::string detail(const std::string& expected, const std::string& actual, const std::string& name) {
  return "Expected: " + expected + "; Actual: " + actual + "; input name: " + name;
}


// Runs the engine once on zero inputs when every input shape is fixed; true when it runs (or
// when the shapes are not all fixed, so no trial is possible).
bool trialRunOnZeros(const engine::OnnxModel& model, std::string* error) {
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<engine::TensorView> ins;
  for (const auto& info : model.inputs()) {
    if (info.precision == Precision::STRING) return true;
    for (int64_t d : info.shape)
      if (d <= 0) return true;
    uint64_t bytes = 0;
    if (!engine::denseByteSize(info.shape, info.precision, uint64_t{1} << 30, &bytes)) return true;
    buffers.emplace_back(std::max<uint64_t>(bytes, 16), 0);
    engine::TensorView v;
    v.precision = info.precision;
    v.shape = info.shape;
    v.data = buffers.back().data();
    v.bytes = bytes;
    ins.push_back(std::move(v));
  }
  std::vector<engine::TensorView> outs;
  return model.infer(ins, &outs, error);
}

// Dynamic batching merges requests along dim 0: every input and output needs a batch dim at 0
// that takes any size up to max_batch_size, and no STRING data (its rows are not fixed-size).
Status checkBatchable(const Servable& s, const DynamicBatchingConfig& config) {
  auto refuse = [](const std::string& why) {
    return Status(StatusCode::MODEL_NOT_LOADED, "dynamic_batching: " + why);
  };
  const int64_t max_rows = config.max_batch_size;
  for (size_t i = 0; i < s.inputs().size(); ++i) {
    const auto& info = s.inputs()[i];
    const auto& dims = s.inputDims()[i];
    if (info.precision == Precision::STRING) return refuse("input " + info.name + " is a string tensor");
    if (dims.empty() || s.batchIndices()[i] != std::optional<size_t>(0))
      return refuse("input " + info.name + " has no batch dimension at position 0 (layout N...)");
    if (!dims[0].accepts(1) || !dims[0].accepts(max_rows))
      return refuse("dimension 0 of input " + info.name + " is " + dims[0].toString() + "; it must accept 1 to " +
                    std::to_string(max_rows) + " (a dynamic batch: \"batch_size\": \"-1\" or -1 in \"shape\")");
  }
  for (const auto& info : s.outputs()) {
    if (info.precision == Precision::STRING) return refuse("output " + info.name + " is a string tensor");
    if (!info.shape.empty() && info.shape[0] > 0)
      return refuse("dimension 0 of output " + info.name + " is not dynamic (" + shapeToString(info.shape) + ")");
  }
  return StatusCode::OK;
}

bool isAutoOption(const std::optional<std::string>& value) {
  return value && value->find("auto") != std::string::npos;
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
    try {
      auto t = engine::ir::translateIrToOnnx(files.model, files.weights);
      s->model_info_ = t.model_info;
      bytes = std::move(t.onnx_model);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (bytes.empty()) {
      MODEL_LOG(err, "Error while loading model from {}: {}", files.model, error);
      return Status(StatusCode::MODEL_NOT_LOADED, error);
    }
  } else if (!readFileBytes(files.model, &bytes).ok()) {
    MODEL_LOG(err, "Cannot read model file {}", files.model);
    return StatusCode::FILE_INVALID;
  }

  // A shape or batch size the graph cannot take leaves the model at its original shape, with a
  // warning, as OVMS does (the layout edit is kept). Only one retry: the fallback has neither.
  const bool reshaping = config.shape.has_value() || config.batch_size.has_value();
  auto fallBack = [&](const std::string& reason) {
    MODEL_LOG(warn, "Model {} could not be reshaped with requested {}: {}; it keeps its original shape", config.name,
              config.shape ? "shape " + *config.shape : "batch size " + *config.batch_size, reason);
    ModelConfig original = config;
    original.shape.reset();
    original.batch_size.reset();
    return load(version_dir, original, out);
  };

  // Model options → graph edits (shape, batch_size, layout), before the session exists.
  std::map<std::string, std::vector<int64_t>> original_shapes;  // by real name, model layout
  EditPlan plan;
  bool edited = false;
  if (config.shape || config.batch_size || config.layout) {
    auto g = engine::GraphEditor::parse(bytes, &error);
    if (!g) {
      MODEL_LOG(err, "Error while loading model from {}: {}", files.model, error);
      return Status(StatusCode::MODEL_NOT_LOADED, error);
    }
    for (const auto& n : g->inputNames())
      if (auto shape = g->inputShape(n)) original_shapes[n] = *shape;
    for (const auto& n : g->outputNames())
      if (auto shape = g->outputShape(n)) original_shapes[n] = *shape;
    st = planEdits(config, *g, in_map, out_map, &plan);
    if (!st.ok() && reshaping && st.code() == StatusCode::RESHAPE_ERROR) return fallBack(st.details());
    if (!st.ok()) {
      MODEL_LOG(err, "Model {}: {}", config.name, st.message());
      return st;
    }
    if (!plan.empty()) {
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
            return fallBack(e.what());
          }
          if (!g) return Status(StatusCode::MODEL_NOT_LOADED, error);
        }
      }
      st = applyPlan(plan, g.get());
      if (!st.ok() && reshaping) return fallBack(st.details());
      if (!st.ok()) {
        MODEL_LOG(err, "Model {} could not be reshaped: {}", config.name, st.details());
        return st;
      }
      bytes = g->serialize();
      edited = true;
    }
  }

  // IR ReadValue/Assign pairs are hidden from clients whether or not the model is stateful; a model
  // that is not stateful starts every request from the initial state (docs/stateful.md).
  bool ir_has_state = false;
  if (is_ir && !config.stateful) {
    std::string xml;
    ir_has_state = readFileBytes(files.model, &xml).ok() && xml.find("\"ReadValue\"") != std::string::npos;
  }
  if (config.stateful || ir_has_state) {
    st = extractStateVariables(&bytes, &s->states_);
    if (!st.ok()) {
      MODEL_LOG(err, "Error while loading stateful model from {}: {}", files.model, st.message());
      return st;
    }
    if (config.low_latency_transformation)
      MODEL_LOG(debug, "Model {}: low latency transformation requested; the state is already explicit (ReadValue/Assign "
                       "pairs are graph inputs and outputs), nothing to transform", config.name);
  }

  bool from_cache = false;
  s->engine_ = loadSession(bytes, eo, config.cache_dir, &s->cache_path_, &from_cache, &error);
  s->loaded_from_cache_ = from_cache;
  if (!s->engine_) {
    if (edited && reshaping) return fallBack(error);
    MODEL_LOG(err, "Error while loading model from {}: {}", files.model, error);
    if (edited) return Status(StatusCode::RESHAPE_ERROR, error);
    return Status(StatusCode::MODEL_NOT_LOADED, error);
  }
  s->inputs_ = s->engine_->inputs();
  s->outputs_ = s->engine_->outputs();
  if (!s->states_.empty()) {
    st = s->bindStateVariables();
    if (!st.ok()) {
      MODEL_LOG(err, "Error while loading stateful model from {}: {}", files.model, st.message());
      return st;
    }
  }
  if (config.stateful) {
    int64_t version = 0;
    try {
      version = std::stoll(fs::path(version_dir).filename().string());
    } catch (const std::exception&) {
    }
    s->sequences_ = std::make_shared<SequenceStore>(config.max_sequence_number, config.name, version);
    if (config.idle_sequence_cleanup) SequenceCleaner::instance().add(s->sequences_);
    MODEL_LOG(info, "Model {} version {} is stateful: {} state variable(s), at most {} sequences", config.name, version,
              s->states_.size(), config.max_sequence_number);
  }
  // A fixed requested shape that the graph accepts on paper may still fail inside it (a Reshape
  // with constant dims): one run on zeros at load finds out before clients do.
  if (edited && reshaping) {
    std::string trial_error;
    if (!trialRunOnZeros(*s->engine_, &trial_error)) return fallBack(trial_error);
  }
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
  s->auto_shapes_ = isAutoOption(config.batch_size) || isAutoOption(config.shape);
  if (s->auto_shapes_) {
    // Until a request changes it, metadata shows the model's own shape (in the client's layout).
    auto original = [&](const engine::TensorInfo& info, const std::vector<int64_t>* perm) {
      engine::TensorInfo out = info;
      auto it = original_shapes.find(info.name);
      if (it == original_shapes.end() || it->second.size() != info.shape.size()) return out;
      for (size_t i = 0; i < it->second.size(); ++i) {
        size_t client = perm && i < perm->size() ? static_cast<size_t>((*perm)[i]) : i;
        if (client < out.shape.size()) out.shape[client] = it->second[i] > 0 ? it->second[i] : -1;
      }
      return out;
    };
    for (const auto& info : s->inputs_) {
      auto p = plan.inputs.find(info.name);
      s->reported_inputs_.push_back(original(info, p != plan.inputs.end() && p->second.perm ? &*p->second.perm : nullptr));
    }
    for (const auto& info : s->outputs_) {
      auto p = plan.output_perms.find(info.name);
      s->reported_outputs_.push_back(original(info, p != plan.output_perms.end() ? &p->second : nullptr));
    }
  }
  for (auto* list : {&s->inputs_, &s->reported_inputs_})
    for (auto& i : *list)
      if (auto it = in_map.find(i.name); it != in_map.end()) i.name = it->second;
  for (auto* list : {&s->outputs_, &s->reported_outputs_})
    for (auto& o : *list)
      if (auto it = out_map.find(o.name); it != out_map.end()) o.name = it->second;
  s->streams_ = streams;
  s->nireq_ = config.nireq ? config.nireq : std::max<uint32_t>(streams, cores());
  s->slots_.setCapacity(s->nireq_);
  s->slots_.setMaxWaiting(config.max_queued_requests);
  if (config.dynamic_batching) {
    st = checkBatchable(*s, *config.dynamic_batching);
    if (!st.ok()) {
      MODEL_LOG(err, "Model {}: {}", config.name, st.details());
      return st;
    }
    const engine::OnnxModel* engine = s->engine_.get();
    s->batcher_ = std::make_unique<DynamicBatcher>(
        *config.dynamic_batching, s->slots_,
        [engine](const std::vector<engine::TensorView>& ins, std::vector<engine::TensorView>* outs, std::string* error) {
          return engine->infer(ins, outs, error);
        });
    MODEL_LOG(info, "Model {}: dynamic batching {}", config.name, describeDynamicBatching(config.dynamic_batching));
  }
  *out = std::move(s);
  return StatusCode::OK;
}

Status Servable::bindStateVariables() {
  std::vector<engine::TensorInfo> ins, outs;
  for (const auto& info : inputs_) {
    auto it = std::find_if(states_.begin(), states_.end(), [&](const auto& v) { return v.input == info.name; });
    if (it == states_.end()) {
      engine_input_source_.push_back(static_cast<int>(ins.size()));
      ins.push_back(info);
      continue;
    }
    if (info.precision != it->initial.precision)
      return Status(StatusCode::MODEL_NOT_LOADED, "state input " + info.name + " has an unexpected type");
    engine_input_source_.push_back(-static_cast<int>(it - states_.begin()) - 1);
  }
  for (const auto& info : outputs_) {
    auto it = std::find_if(states_.begin(), states_.end(), [&](const auto& v) { return v.output == info.name; });
    if (it == states_.end()) {
      engine_output_target_.push_back(static_cast<int>(outs.size()));
      outs.push_back(info);
      continue;
    }
    if (info.precision != it->initial.precision)
      return Status(StatusCode::MODEL_NOT_LOADED,
                    "state output " + info.name + " has another type than its input " + it->input);
    engine_output_target_.push_back(-static_cast<int>(it - states_.begin()) - 1);
  }
  if (engine_input_source_.size() != inputs_.size() || engine_output_target_.size() != outputs_.size())
    return Status(StatusCode::MODEL_NOT_LOADED, "state variables do not match the session's signature");
  inputs_ = std::move(ins);
  outputs_ = std::move(outs);
  return StatusCode::OK;
}

Status Servable::validate(const InferenceRequest& request) const {
  size_t expected_inputs = inputs_.size();
  if (sequences_) {
    // OVMS reads the special inputs first; they are not counted as model inputs.
    SequenceSpec spec;
    Status st = readSequenceSpec(request, &spec);
    if (!st.ok()) return st;
    for (const auto& in : request.inputs)
      if (isSpecialInput(in.name)) ++expected_inputs;
  }
  if (request.inputs.size() != expected_inputs)
    return Status(StatusCode::INVALID_NO_OF_INPUTS,
                  "Expected: " + std::to_string(expected_inputs) + "; Actual: " + std::to_string(request.inputs.size()));
  for (size_t idx = 0; idx < inputs_.size(); ++idx) {
    const auto& info = inputs_[idx];
    const InferenceInput* in = request.find(info.name);
    if (!in) return Status(StatusCode::INVALID_MISSING_INPUT, "Required input: " + info.name);
    const auto& t = in->tensor;
    for (int64_t d : t.shape)
      if (d < 0)
        return Status(StatusCode::INVALID_SHAPE, "Negative or zero dimension size is not acceptable: " +
                                                     shapeToString(t.shape) + "; input name: " + info.name);
    if (t.precision != info.precision)  // OVMS prints the datatype as the client sent it, when the wire has one
      return Status(StatusCode::INVALID_PRECISION,
                    detail(engine::precisionName(info.precision),
                           in->client_datatype.empty() ? engine::precisionName(t.precision) : in->client_datatype,
                           info.name));
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
  return run(request, response, /*bounded=*/true, queue_wait_us, inference_us);
}

Status Servable::inferAdmitted(const InferenceRequest& request, InferenceResponse* response) const {
  return run(request, response, /*bounded=*/false, nullptr, nullptr);
}

Status Servable::runStateful(const InferenceRequest& request, InferenceResponse* response, bool bounded,
                             uint64_t* queue_wait_us, uint64_t* inference_us) const {
  Status st = validate(request);
  if (!st.ok()) return st;
  SequenceSpec spec;
  // Holds the sequence (its requests run one at a time) until the response is built.
  SequenceStore::Lease lease;
  static const std::vector<engine::TensorView> kInitialState;
  if (sequences_) {
    st = readSequenceSpec(request, &spec);
    if (!st.ok()) return st;
    st = sequences_->acquire(spec.id, spec.control, &lease);
    if (!st.ok()) return st;
  }
  const std::vector<engine::TensorView>& state = sequences_ ? lease.state() : kInitialState;
  std::vector<engine::TensorView> ins;
  ins.reserve(engine_input_source_.size());
  static const uint8_t kEmpty[16] = {};
  for (int source : engine_input_source_) {
    engine::TensorView v;
    if (source >= 0) {
      v = request.find(inputs_[static_cast<size_t>(source)].name)->tensor;
    } else {
      const size_t k = static_cast<size_t>(-source - 1);
      v = k < state.size() ? state[k] : states_[k].initial.view();
    }
    if (v.data == nullptr) v.data = kEmpty;
    ins.push_back(std::move(v));
  }
  std::vector<engine::TensorView> outs;
  std::string error;
  bool ok = false;
  {
    std::optional<InferSlots::Slot> slot = bounded ? slots_.tryTake(queue_wait_us) : slots_.take(queue_wait_us);
    if (!slot) return queueFullStatus();
    auto run_start = std::chrono::steady_clock::now();
    ok = engine_->infer(ins, &outs, &error);
    if (inference_us)
      *inference_us = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - run_start).count());
  }
  if (!ok || outs.size() != engine_output_target_.size()) {
    MODEL_LOG(err, "Inference failed: {}", error);
    return Status(StatusCode::OV_INTERNAL_INFERENCE_ERROR, error);
  }
  std::vector<engine::TensorView> next(states_.size());
  response->outputs.assign(outputs_.size(), InferenceOutput{});
  for (size_t e = 0; e < outs.size(); ++e) {
    const int target = engine_output_target_[e];
    if (target >= 0) {
      response->outputs[static_cast<size_t>(target)] = {outputs_[static_cast<size_t>(target)].name, std::move(outs[e])};
      continue;
    }
    const size_t k = static_cast<size_t>(-target - 1);
    const auto& initial = states_[k].initial;
    if (outs[e].precision != initial.precision || outs[e].shape != initial.shape || outs[e].bytes != initial.bytes.size())
      return Status(StatusCode::OV_INTERNAL_INFERENCE_ERROR, "state output " + states_[k].output + " has shape " +
                                                                 shapeToString(outs[e].shape) + ", its state " +
                                                                 shapeToString(initial.shape));
    next[k] = std::move(outs[e]);
  }
  if (auto_shapes_) {  // only without `stateful` (auto is refused for stateful models)
    std::lock_guard lock(reported_mutex_);
    for (size_t i = 0; i < inputs_.size() && i < reported_inputs_.size(); ++i)
      reported_inputs_[i].shape = request.find(inputs_[i].name)->tensor.shape;
    for (size_t i = 0; i < response->outputs.size() && i < reported_outputs_.size(); ++i)
      reported_outputs_[i].shape = response->outputs[i].tensor.shape;
  }
  if (!sequences_) return StatusCode::OK;  // not stateful: every request starts from the initial state
  if (spec.control != kSequenceEnd) lease.keep(std::move(next));
  // OVMS appends the sequence's id to every response.
  auto id = std::make_shared<uint64_t>(lease.id());
  InferenceOutput sequence_id;
  sequence_id.name = kSequenceIdInput;
  sequence_id.tensor = engine::TensorView{Precision::U64, {1}, id.get(), sizeof(uint64_t), id};
  sequence_id.sequence_id = true;
  response->outputs.push_back(std::move(sequence_id));
  return StatusCode::OK;
}

Status Servable::run(const InferenceRequest& request, InferenceResponse* response, bool bounded,
                     uint64_t* queue_wait_us, uint64_t* inference_us) const {
  if (!states_.empty()) return runStateful(request, response, bounded, queue_wait_us, inference_us);
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
  std::vector<engine::TensorView> outs;
  std::string error;
  bool ok = false;
  if (batcher_ && bounded) {
    st = batcher_->infer(ins, &outs, queue_wait_us, inference_us);
    if (st.code() == StatusCode::INFER_QUEUE_FULL) return queueFullStatus();
    ok = st.ok();
    error = st.details();
  } else {
    std::optional<InferSlots::Slot> slot = bounded ? slots_.tryTake(queue_wait_us) : slots_.take(queue_wait_us);
    if (!slot) return queueFullStatus();
    auto run_start = std::chrono::steady_clock::now();
    ok = engine_->infer(ins, &outs, &error);
    if (inference_us)
      *inference_us = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - run_start).count());
  }
  if (!ok) {
    MODEL_LOG(err, "Inference failed: {}", error);
    return Status(StatusCode::OV_INTERNAL_INFERENCE_ERROR, error);
  }
  response->outputs.clear();
  for (size_t i = 0; i < outs.size(); ++i) response->outputs.push_back({outputs_[i].name, std::move(outs[i])});
  if (auto_shapes_) {
    std::lock_guard lock(reported_mutex_);
    for (size_t i = 0; i < inputs_.size() && i < reported_inputs_.size(); ++i)
      reported_inputs_[i].shape = request.find(inputs_[i].name)->tensor.shape;
    for (size_t i = 0; i < response->outputs.size() && i < reported_outputs_.size(); ++i)
      reported_outputs_[i].shape = response->outputs[i].tensor.shape;
  }
  return StatusCode::OK;
}

Status Servable::queueFullStatus() const {
  return Status(StatusCode::INFER_QUEUE_FULL, "nireq " + std::to_string(nireq_) + ", max_queued_requests " +
                                                   std::to_string(slots_.maxWaiting()) + "; retry later");
}

std::vector<engine::TensorInfo> Servable::reportedInputs() const {
  if (!auto_shapes_) return inputs_;
  std::lock_guard lock(reported_mutex_);
  return reported_inputs_;
}

std::vector<engine::TensorInfo> Servable::reportedOutputs() const {
  if (!auto_shapes_) return outputs_;
  std::lock_guard lock(reported_mutex_);
  return reported_outputs_;
}

}  // namespace ovms::serving
