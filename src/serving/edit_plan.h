#pragma once
// The model options shape, batch_size and layout, resolved against a model's real tensor names
// (honouring mapping_config.json) into graph edits, planned before the engine session exists.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/graph_edit.h"
#include "serving/model_config.h"
#include "serving/shape_config.h"

namespace ovms::serving {

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

// Plans the edits `config` asks for on graph `g` (in_map/out_map: mapping_config.json renames).
Status planEdits(const ModelConfig& config, const engine::GraphEditor& g, const std::map<std::string, std::string>& in_map,
                 const std::map<std::string, std::string>& out_map, EditPlan* plan);
// Dims as the graph takes them (-1 for dynamic and range dims).
std::vector<int64_t> graphDims(const Dims& d);
// Applies the plan (transposes, shapes) to `g`; RESHAPE_ERROR when the graph refuses.
Status applyPlan(const EditPlan& plan, engine::GraphEditor* g);

}  // namespace ovms::serving
