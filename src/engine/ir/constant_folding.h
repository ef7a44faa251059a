#pragma once
// Load-time evaluation of the small arithmetic OpenVINO models apply to shapes (ShapeOf -> StridedSlice / Gather /
// Concat / Squeeze / Reshape / Add ... -> PriorBox sizes, reduction axes, Reshape targets). Run on every layer
// before its translator: when all inputs are constants the output becomes a constant too, so ops that need their
// sizes or axes at load time (PriorBox, ReduceMin/ReduceMax axes, ...) see them.
#include <optional>
#include <vector>

#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {

// Largest constant (in elements) the folding produces; bigger results stay ONNX nodes (ORT folds those itself).
inline constexpr int64_t kMaxFoldedElements = 1 << 16;

// The layer's outputs as constants, or nullopt when the layer is not one handled here, an input is not a
// constant, or the inputs are unusual (the translator then builds ONNX nodes and reports any error).
std::optional<std::vector<Value>> foldConstantLayer(const IrLayer& layer, const std::vector<Value>& inputs);

}  // namespace ovms::engine::ir
