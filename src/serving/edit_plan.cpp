#include "serving/edit_plan.h"

#include <algorithm>

#include "common/logging.h"

namespace ovms::serving {
namespace {

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

}  // namespace

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

}  // namespace ovms::serving
