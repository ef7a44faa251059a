#pragma once
// The registry of IR op translators, and helpers shared by translators. Includes the rest of the translator's
// internal API: element_types.h, const_data.h, graph_builder.h, node_context.h.
//
// Adding an op family: create src/engine/ir/ops/<family>.cpp that defines
//     void ovms_ir_register_<family>(ovms::engine::ir::OpRegistry& r) { r.add("Type", "opset1", fn); ... }
// where <family> is the file name without extension. CMake generates the call list from the files in ops/,
// so no other file needs to change.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/ir/const_data.h"
#include "engine/ir/element_types.h"
#include "engine/ir/graph_builder.h"
#include "engine/ir/ir_model.h"
#include "engine/ir/node_context.h"

namespace ovms::engine::ir {

class OpRegistry {
 public:
  // version: "opset1", "opset8", ... or "any".
  void add(const std::string& type, const std::string& version, Translator fn);
  const Translator* find(const std::string& type, const std::string& version) const;

 private:
  std::map<std::pair<std::string, std::string>, Translator> ops_;
};

// The process-wide registry with every family from ops/ registered.
const OpRegistry& registry();

// Shared helpers for translators -------------------------------------------------------------------------
// Casts `v` to `to` if needed.
std::string castTo(GraphBuilder& g, const Value& v, int32_t to);
// Types ORT's CPU arithmetic kernels (Add/Sub/Mul/Div/...) support natively.
bool ortArithmeticType(int32_t t);
// Type to compute in when `t` is not natively supported.
int32_t widenedType(int32_t t);
// Normalizes an axis in [-rank, rank) to [0, rank); fails otherwise.
int64_t normAxis(const NodeContext& ctx, int64_t axis, int64_t rank);

// Prior boxes computed at load time ([2, n] f32: the boxes row, then the variances row) as a
// constant output of the node being translated.
Value constantPriorBoxes(const NodeContext& c, const std::vector<float>& boxes_then_variances);

}  // namespace ovms::engine::ir
