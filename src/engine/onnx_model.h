#pragma once
// The ONNX Runtime backend: one session per model version, safe for concurrent infer() calls.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tensor.h"

namespace ovms::engine {

struct EngineOptions {
  int intra_op_threads = 0;        // 0 = ONNX Runtime default for the core count
  std::string device = "CPU";      // execution provider family
  std::string optimized_model_path;  // where ONNX Runtime saves the optimised graph ("" = don't)
  bool already_optimized = false;    // the bytes are a graph ONNX Runtime optimised before: skip optimisation
  // Giving ONNX Runtime's CPU memory arena back after bursts of large runs (the arena otherwise keeps
  // the buffers of the largest batch for the session's life). A run whose inputs total at least
  // `arena_shrink_min_input_bytes` is large; the first run that starts `arena_shrink_delay_ms` or
  // more after the last large run frees the arena's unused regions at its end. Shrinking at the end of
  // every large run (delay 0) costs each one a fresh allocation of all its buffers (docs/reliability.md:
  // up to 11x on a large batch of a small model), so a burst keeps its buffers until it is over.
  // UINT64_MAX = never shrink (ONNX Runtime's default).
  uint64_t arena_shrink_min_input_bytes = 1ull << 20;
  uint32_t arena_shrink_delay_ms = 1000;
};

// Devices this process can run on ("CPU", plus "GPU" when a CUDA provider and GPU are present).
std::vector<std::string> availableDevices();
std::string engineVersion();

class OnnxModel {
 public:
  ~OnnxModel();
  // Loads a serialized ONNX model. Returns nullptr and sets *error on failure.
  static std::unique_ptr<OnnxModel> load(std::string_view onnx_bytes, const EngineOptions& options, std::string* error);
  static std::unique_ptr<OnnxModel> loadFile(const std::string& path, const EngineOptions& options, std::string* error);

  const std::vector<TensorInfo>& inputs() const { return inputs_; }
  const std::vector<TensorInfo>& outputs() const { return outputs_; }

  // `inputs[i]` feeds inputs()[i]; every output comes back as a view owning its engine buffer.
  bool infer(const std::vector<TensorView>& inputs, std::vector<TensorView>* outputs, std::string* error) const;

 private:
  OnnxModel();
  static std::unique_ptr<OnnxModel> finish(std::unique_ptr<OnnxModel> m, std::string* error);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
};

}  // namespace ovms::engine
