#include "serving/pipeline/pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <thread>

#include "common/cpu.h"
#include "../../custom_nodes/custom_node_interface.h"
#include "common/logging.h"
#include "serving/model_manager.h"

namespace ovms::serving::pipeline {

using engine::Precision;
using engine::Shape;
using engine::TensorInfo;
using engine::TensorView;

namespace {

// Largest dynamic demultiplication OVMS accepts (the schema's maximum for demultiply_count).
constexpr int64_t kMaxDemultiplyCount = 10000;

CustomNodeTensorPrecision toAbi(Precision p) {
  switch (p) {
    case Precision::FP32: return FP32;
    case Precision::FP16: return FP16;
    case Precision::U8: return U8;
    case Precision::I8: return I8;
    case Precision::I16: return I16;
    case Precision::U16: return U16;
    case Precision::I32: return I32;
    case Precision::FP64: return FP64;
    case Precision::I64: return I64;
    default: return UNSPECIFIED;
  }
}

Precision fromAbi(int p) {
  switch (p) {
    case FP32: return Precision::FP32;
    case FP16: return Precision::FP16;
    case U8: return Precision::U8;
    case I8: return Precision::I8;
    case I16: return Precision::I16;
    case U16: return Precision::U16;
    case I32: return Precision::I32;
    case FP64: return Precision::FP64;
    case I64: return Precision::I64;
    default: return Precision::UNDEFINED;
  }
}

// OVMS's Dimension::partiallyFitsInto for static/dynamic dims: equal, or either is dynamic.
bool shapesMatch(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) return false;
  return true;
}

std::string detail(const std::string& expected, const std::string& actual, const std::string& name) {
  return "Expected: " + expected + "; Actual: " + actual + "; input name: " + name;
}

std::string contextString(const std::vector<int64_t>& ctx) {
  std::string s;
  for (int64_t i : ctx) s += (s.empty() ? "" : ".") + std::to_string(i);
  return s.empty() ? "-" : s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Custom node resources: the library plus this node's initialize() handle and params.

class CustomNodeResources {
 public:
  CustomNodeResources(std::shared_ptr<const NodeLibrary> library, const std::map<std::string, std::string>& params)
      : library_(std::move(library)), storage_(params.begin(), params.end()) {
    for (const auto& [k, v] : storage_) params_.push_back(CustomNodeParam{k.c_str(), v.c_str()});
  }
  ~CustomNodeResources() {
    if (initialized_ && library_->deinitialize(manager_) != 0)
      MODEL_LOG(err, "Custom node library {} deinitialize failed", library_->name());
  }
  Status initialize() {
    int rc = library_->initialize(&manager_, paramsData(), paramsCount());
    if (rc != 0) {
      MODEL_LOG(err, "Initialization of library {} failed with return code: {}", library_->name(), rc);
      return StatusCode::NODE_LIBRARY_INITIALIZE_FAILED;
    }
    initialized_ = true;
    return StatusCode::OK;
  }
  const NodeLibrary& library() const { return *library_; }
  void* manager() const { return manager_; }
  const CustomNodeParam* paramsData() const { return params_.empty() ? nullptr : params_.data(); }
  int paramsCount() const { return static_cast<int>(params_.size()); }

  // getInputsInfo / getOutputsInfo → tensor infos by name (dims of 0 are dynamic: -1). Every
  // pointer the library handed out is released, also on failure.
  Status metadata(bool inputs, std::map<std::string, TensorInfo>* out) const {
    CustomNodeTensorInfo* info = nullptr;
    int count = 0;
    auto fn = inputs ? library_->getInputsInfo : library_->getOutputsInfo;
    int rc = fn(&info, &count, paramsData(), paramsCount(), manager_);
    if (rc != 0) {
      MODEL_LOG(err, "Metadata call to custom node library {} failed with return code: {}", library_->name(), rc);
      return StatusCode::NODE_LIBRARY_METADATA_FAILED;
    }
    if (info == nullptr) return StatusCode::NODE_LIBRARY_OUTPUTS_CORRUPTED;
    if (count <= 0) {
      library_->release(info, manager_);
      return StatusCode::NODE_LIBRARY_OUTPUTS_CORRUPTED_COUNT;
    }
    for (int i = 0; i < count; ++i) {
      if (info[i].name == nullptr) continue;
      TensorInfo t;
      t.name = info[i].name;
      t.precision = fromAbi(info[i].precision);
      for (uint64_t d = 0; d < info[i].dimsCount && info[i].dims; ++d)
        t.shape.push_back(info[i].dims[d] == 0 ? -1 : static_cast<int64_t>(info[i].dims[d]));
      if (info[i].dims) library_->release(info[i].dims, manager_);
      (*out)[t.name] = std::move(t);
    }
    library_->release(info, manager_);
    return StatusCode::OK;
  }

 private:
  std::shared_ptr<const NodeLibrary> library_;
  std::vector<std::pair<std::string, std::string>> storage_;
  std::vector<CustomNodeParam> params_;
  void* manager_ = nullptr;
  bool initialized_ = false;
};

// ---------------------------------------------------------------------------------------------
// The plan.

struct Pipeline::Node {
  enum class Kind { ENTRY, DL, CUSTOM, EXIT } kind = Kind::DL;
  std::string name;
  std::string model_name;
  int64_t model_version = 0;
  std::shared_ptr<CustomNodeResources> custom;
  std::map<std::string, std::string> output_aliases;  // alias -> real output name
  struct Input {
    std::string name;      // node input name (exit: pipeline output alias)
    size_t source = 0;     // index of the source node
    std::string alias;     // data_item as written in the config
    std::string real;      // source's real output name
  };
  std::vector<Input> inputs;
  std::vector<size_t> sources;     // distinct, in first-use order
  std::vector<size_t> dependents;  // distinct
  std::optional<int32_t> demultiply;
  std::optional<std::string> gather_from;
  std::vector<size_t> stack;       // enclosing demultiplexers while this node runs (outermost first)
  size_t gather_levels = 0;        // levels of its sources' output stack it gathers
  std::map<std::string, TensorInfo> in_info, out_info;  // by real name (DL / custom)
  std::map<std::string, std::string> in_layout;         // DL: client-side layout of each input

  bool isDemultiplexer() const { return demultiply.has_value(); }
  std::vector<size_t> outStack(size_t self) const {
    auto s = stack;
    if (isDemultiplexer()) s.push_back(self);
    return s;
  }
};

namespace {

using Node = Pipeline::Node;

// Builds and validates; mirrors OVMS's validation order (validateNodes → cycles → LIFO order).
class Builder {
 public:
  Builder(const PipelineConfig& config, const ModelManager& models, const NodeLibraryRegistry& libraries)
      : config_(config), models_(models), libraries_(libraries) {}

  std::vector<std::unique_ptr<Node>> nodes;

  Status build() {
    createNodes();
    Status st = validateNodes();
    if (!st.ok()) return st;
    st = validateCycles();
    if (!st.ok()) return st;
    return computeStacks();
  }

  // Pipeline signature (after build()).
  Status signature(std::vector<TensorInfo>* inputs, std::vector<TensorInfo>* outputs, std::vector<std::string>* layouts) {
    const Node& entry = *nodes.front();
    std::map<std::string, TensorInfo> merged;
    for (const auto& name : config_.inputs) {
      TensorInfo info{name, Precision::UNDEFINED, {}};
      bool known = false;
      std::optional<std::string> layout;
      for (const auto& n : nodes) {
        if (n->kind != Node::Kind::DL && n->kind != Node::Kind::CUSTOM) continue;
        for (const auto& in : n->inputs) {
          if (in.source != 0 || in.alias != name) continue;
          TensorInfo t = n->in_info.at(in.name);
          if (!layout && n->kind == Node::Kind::DL && n->in_layout.count(in.name)) layout = n->in_layout.at(in.name);
          if (!known) {
            info.precision = t.precision;
            info.shape = t.shape;
            known = true;
            continue;
          }
          if (t.precision != info.precision || !shapesMatch(t.shape, info.shape)) {
            MODEL_LOG(err, "Validation of pipeline: {} definition failed. Pipeline input: {} is connected to nodes that require different tensor metadata",
                      config_.name, name);
            return StatusCode::PIPELINE_INPUTS_AMBIGUOUS_METADATA;
          }
          for (size_t d = 0; d < t.shape.size(); ++d)
            if (info.shape[d] < 0) info.shape[d] = t.shape[d];
        }
      }
      if (known && entry.isDemultiplexer()) info.shape.insert(info.shape.begin(), *entry.demultiply);
      merged[name] = info;
      inputs->push_back(info);
      layouts->push_back(layout.value_or("..."));
    }
    const Node& exit = *nodes.back();
    for (const auto& out : exit.inputs) {
      const Node& src = *nodes[out.source];
      TensorInfo info{out.name, Precision::UNDEFINED, {}};
      if (src.kind == Node::Kind::ENTRY) {
        info.precision = merged[out.alias].precision;
        info.shape = merged[out.alias].shape;
      } else {
        const TensorInfo& t = src.out_info.at(out.real);
        info.precision = t.precision;
        info.shape = t.shape;
        auto levels = src.outStack(out.source);
        if (src.isDemultiplexer() && !info.shape.empty()) info.shape.erase(info.shape.begin());
        for (auto it = levels.rbegin(); it != levels.rend(); ++it) {
          int32_t count = *nodes[*it]->demultiply;
          info.shape.insert(info.shape.begin(), count);
        }
      }
      outputs->push_back(info);
    }
    return StatusCode::OK;
  }

 private:
  void createNodes() {
    auto entry = std::make_unique<Node>();
    entry->kind = Node::Kind::ENTRY;
    entry->name = kEntryNodeName;
    entry->demultiply = config_.demultiply_count;
    for (const auto& in : config_.inputs) entry->output_aliases[in] = in;
    nodes.push_back(std::move(entry));
    std::set<std::string> gathered;
    for (const auto& nc : config_.nodes) {
      auto n = std::make_unique<Node>();
      n->kind = nc.kind == NodeConfig::Kind::CUSTOM ? Node::Kind::CUSTOM : Node::Kind::DL;
      n->name = nc.name;
      n->model_name = nc.model_name;
      n->model_version = nc.version.value_or(0);
      for (const auto& [alias, real] : nc.outputs) n->output_aliases[alias] = real;
      n->demultiply = nc.demultiply_count;
      n->gather_from = nc.gather_from_node;
      if (nc.gather_from_node) gathered.insert(*nc.gather_from_node);
      nodes.push_back(std::move(n));
    }
    auto exit = std::make_unique<Node>();
    exit->kind = Node::Kind::EXIT;
    exit->name = kExitNodeName;
    nodes.push_back(std::move(exit));
    exit_gathers_ = {};
    for (const auto& n : nodes)
      if (n->isDemultiplexer() && !gathered.count(n->name)) exit_gathers_.insert(n->name);
  }

  const std::vector<Connection>& connectionsOf(size_t idx) const {
    if (idx == nodes.size() - 1) return config_.outputs;
    static const std::vector<Connection> none;
    if (idx == 0) return none;
    return config_.nodes[idx - 1].inputs;
  }

  std::optional<size_t> findNode(const std::string& name) const {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i]->name == name) return i;
    return std::nullopt;
  }

  // Signature of a DL or custom node (cached in the node).
  Status fetchMetadata(size_t idx) {
    Node& n = *nodes[idx];
    if (fetched_.count(idx)) return fetched_[idx];
    Status st = StatusCode::OK;
    if (n.kind == Node::Kind::DL) {
      std::shared_ptr<const Servable> servable;
      int64_t resolved = 0;
      if (!models_.acquire(n.model_name, n.model_version, &servable, &resolved, false).ok()) {
        MODEL_LOG(err, "Validation of pipeline: {} definition failed. Missing model: {}; version: {}", config_.name,
                  n.model_name, n.model_version);
        st = StatusCode::PIPELINE_NODE_REFERING_TO_MISSING_MODEL;
      } else {
        for (size_t i = 0; i < servable->inputs().size(); ++i) {
          const auto& t = servable->inputs()[i];
          n.in_info[t.name] = t;
          if (i < servable->inputLayouts().size()) n.in_layout[t.name] = servable->inputLayouts()[i];
        }
        for (const auto& t : servable->outputs()) n.out_info[t.name] = t;
      }
    } else if (n.kind == Node::Kind::CUSTOM) {
      st = n.custom->metadata(true, &n.in_info);
      if (st.ok()) st = n.custom->metadata(false, &n.out_info);
    }
    fetched_[idx] = st;
    return st;
  }

  Status validateShapeWithDemultiplexer(const Shape& shape, const Node& demux) const {
    if (!demux.isDemultiplexer()) return StatusCode::OK;
    if (shape.size() < 3) {
      MODEL_LOG(err, "Validation of pipeline: {} definition failed. Node: {} demultiply cannot occur due to not enough shape dimensions: {}",
                config_.name, demux.name, shape.size());
      return StatusCode::PIPELINE_NOT_ENOUGH_SHAPE_DIMENSIONS_TO_DEMULTIPLY;
    }
    if (*demux.demultiply != -1 && shape[0] >= 0 && shape[0] != *demux.demultiply) {
      MODEL_LOG(err, "Validation of pipeline: {} definition failed. Demultiply count: {} of node: {} does not match tensor first dimension value: {}",
                config_.name, *demux.demultiply, demux.name, shape[0]);
      return StatusCode::PIPELINE_DEMULTIPLY_COUNT_DOES_NOT_MATCH_TENSOR_SHARD_COUNT;
    }
    return StatusCode::OK;
  }

  Status validateNodes() {
    // The dynamic count of one demultiplexer cannot be combined with other demultiplexers (OVMS).
    size_t demuxers = 0;
    bool dynamic = false;
    for (const auto& n : nodes)
      if (n->isDemultiplexer()) {
        ++demuxers;
        dynamic = dynamic || *n->demultiply == -1;
      }
    if (dynamic && demuxers > 1) {
      MODEL_LOG(err, "Validation of pipeline: {} definition failed. Dynamic demultiplexer combined with other demultiplexers is not supported",
                config_.name);
      return StatusCode::NOT_IMPLEMENTED;
    }
    for (size_t idx = 0; idx < nodes.size(); ++idx) {
      Node& n = *nodes[idx];
      size_t same = 0;
      for (const auto& m : nodes) same += m->name == n.name;
      if (same > 1) {
        MODEL_LOG(err, "Validation of pipeline: {} definition failed. Node name: {} used multiple times", config_.name, n.name);
        return StatusCode::PIPELINE_NODE_NAME_DUPLICATE;
      }
      Status st = validateNode(idx);
      if (!st.ok()) return st;
    }
    return StatusCode::OK;
  }

  Status validateNode(size_t idx) {
    Node& n = *nodes[idx];
    std::set<std::string> unconnected;
    if (n.kind == Node::Kind::DL) {
      Status st = fetchMetadata(idx);
      if (!st.ok()) return st;
      std::shared_ptr<Model> model;
      if (models_.findModel(n.model_name, &model).ok()) {
        ModelConfig mc = model->config();
        bool batch_auto = mc.batch_size && *mc.batch_size == "auto";
        bool shape_auto = mc.shape && mc.shape->find("auto") != std::string::npos;
        if (batch_auto || shape_auto) {
          MODEL_LOG(err, "Validation of pipeline: {} definition failed. Node name: {} used model name: {} with batch/shape parameter set to 'auto' which is forbidden. Use dynamic shape.",
                    config_.name, n.name, n.model_name);
          return StatusCode::FORBIDDEN_MODEL_DYNAMIC_PARAMETER;
        }
      }
      for (const auto& [name, _] : n.in_info) unconnected.insert(name);
    }
    if (n.kind == Node::Kind::CUSTOM) {
      const NodeConfig& nc = config_.nodes[idx - 1];
      auto lib = libraries_.find(nc.library_name);
      if (!lib) {
        MODEL_LOG(err, "Pipeline: {} node: {} refers to incorrect library", config_.name, n.name);
        return StatusCode::PIPELINE_DEFINITION_INVALID_NODE_LIBRARY;
      }
      if (!n.custom) {  // a custom source validated earlier already initialized it
        n.custom = std::make_shared<CustomNodeResources>(lib, nc.params);
        Status ist = n.custom->initialize();
        if (!ist.ok()) {
          n.custom.reset();
          return ist;
        }
      }
      Status st = fetchMetadata(idx);
      if (!st.ok()) return st;
      for (const auto& [name, _] : n.in_info) unconnected.insert(name);
    }
    if (n.kind == Node::Kind::DL || n.kind == Node::Kind::CUSTOM) {
      for (const auto& [name, info] : n.out_info) {
        Status st = validateShapeWithDemultiplexer(info.shape, n);
        if (!st.ok()) return st;
      }
    }
    if (n.gather_from) {
      auto g = findNode(*n.gather_from);
      if (!g) {
        MODEL_LOG(err, "Validation of pipeline: {} definition failed. Node name: {}, have gather_from: {} which does not exist in pipeline",
                  config_.name, n.name, *n.gather_from);
        return StatusCode::PIPELINE_NODE_GATHER_FROM_NOT_EXISTING_NODE;
      }
      if (!nodes[*g]->isDemultiplexer()) {
        MODEL_LOG(err, "Validation of pipeline: {} definition failed. Node name: {}, have gather_from: {} which is not demultiplexer node",
                  config_.name, n.name, *n.gather_from);
        return StatusCode::PIPELINE_NODE_GATHER_FROM_NOT_DEMULTIPLEXER;
      }
    }
    // Connections, grouped by source node in order of first appearance (OVMS validates per
    // dependency node).
    const auto& conns = connectionsOf(idx);
    std::vector<std::string> source_order;
    for (const auto& c : conns)
      if (std::find(source_order.begin(), source_order.end(), c.source_node) == source_order.end())
        source_order.push_back(c.source_node);
    for (const auto& source_name : source_order) {
      auto s = findNode(source_name);
      if (!s) {
        MODEL_LOG(err, "Validation of pipeline: {} definition failed. Node (name: {}) is connected to missing dependency node (name: {})",
                  config_.name, n.name, source_name);
        return StatusCode::PIPELINE_NODE_REFERING_TO_MISSING_NODE;
      }
      Node& src = *nodes[*s];
      if (src.kind == Node::Kind::EXIT) {
        MODEL_LOG(err, "Validation of pipeline: {} definition failed. Exit node used as dependency node", config_.name);
        return StatusCode::PIPELINE_EXIT_USED_AS_NODE_DEPENDENCY;
      }
      if (src.kind == Node::Kind::DL || src.kind == Node::Kind::CUSTOM) {
        // A custom source not validated yet (declared later) still needs its resources.
        if (src.kind == Node::Kind::CUSTOM && !src.custom) {
          auto lib = libraries_.find(config_.nodes[*s - 1].library_name);
          if (!lib) return StatusCode::PIPELINE_DEFINITION_INVALID_NODE_LIBRARY;
          src.custom = std::make_shared<CustomNodeResources>(lib, config_.nodes[*s - 1].params);
          Status ist = src.custom->initialize();
          if (!ist.ok()) {
            src.custom.reset();
            return ist;
          }
        }
        Status st = fetchMetadata(*s);
        if (!st.ok()) return st;
      }
      for (const auto& c : conns) {
        if (c.source_node != source_name) continue;
        if (n.kind == Node::Kind::DL || n.kind == Node::Kind::CUSTOM) {
          if (!n.in_info.count(c.input)) {
            MODEL_LOG(err, "Validation of pipeline: {} definition failed. Node: {} has no input with name: {}", config_.name,
                      n.name, c.input);
            return StatusCode::PIPELINE_CONNECTION_TO_MISSING_MODEL_INPUT;
          }
          if (!unconnected.erase(c.input)) {
            MODEL_LOG(err, "Validation of pipeline: {} definition failed. Node: {} input name: {} is connected to more than one data source",
                      config_.name, n.name, c.input);
            return StatusCode::PIPELINE_MODEL_INPUT_CONNECTED_TO_MULTIPLE_DATA_SOURCES;
          }
        }
        auto alias = src.output_aliases.find(c.data_item);
        if (alias == src.output_aliases.end()) {
          MODEL_LOG(err, "Validation of pipeline: {} definition failed. Missing dependency node: {} data item: {} for dependent node: {}",
                    config_.name, src.name, c.data_item, n.name);
          return StatusCode::PIPELINE_NODE_REFERING_TO_MISSING_DATA_SOURCE;
        }
        if ((src.kind == Node::Kind::DL || src.kind == Node::Kind::CUSTOM) && !src.out_info.count(alias->second)) {
          MODEL_LOG(err, "Validation of pipeline: {} definition failed. Missing output: {} of dependency node: {}; data source: {}",
                    config_.name, alias->second, src.name, c.data_item);
          return StatusCode::PIPELINE_NODE_REFERING_TO_MISSING_MODEL_OUTPUT;
        }
        if ((n.kind == Node::Kind::DL || n.kind == Node::Kind::CUSTOM) &&
            (src.kind == Node::Kind::DL || src.kind == Node::Kind::CUSTOM)) {
          Status st = checkMetadata(n, c.input, src, alias->second);
          if (!st.ok()) return st;
        }
        n.inputs.push_back({c.input, *s, c.data_item, alias->second});
        if (std::find(n.sources.begin(), n.sources.end(), *s) == n.sources.end()) n.sources.push_back(*s);
        if (std::find(src.dependents.begin(), src.dependents.end(), idx) == src.dependents.end())
          src.dependents.push_back(idx);
      }
    }
    if (!unconnected.empty()) {
      std::string list;
      for (const auto& i : unconnected) list += i + ", ";
      MODEL_LOG(err, "Validation of pipeline: {} definition failed. Node: {} has inputs:: {} not connected to any source",
                config_.name, n.name, list);
      return StatusCode::PIPELINE_NOT_ALL_INPUTS_CONNECTED;
    }
    return StatusCode::OK;
  }

  Status checkMetadata(const Node& n, const std::string& input, const Node& src, const std::string& output) {
    const TensorInfo& in = n.in_info.at(input);
    const TensorInfo& out = src.out_info.at(output);
    Shape in_shape = in.shape, out_shape = out.shape;
    if (src.isDemultiplexer()) {
      Status st = validateShapeWithDemultiplexer(out_shape, src);
      if (!st.ok()) return st;
      out_shape.erase(out_shape.begin());
    }
    if (n.gather_from) {
      auto g = findNode(*n.gather_from);
      if (!g) return StatusCode::PIPELINE_NODE_REFERING_TO_MISSING_NODE;
      Status st = validateShapeWithDemultiplexer(in_shape, *nodes[*g]);
      if (!st.ok()) return st;
      in_shape.erase(in_shape.begin());
    }
    if (!shapesMatch(in_shape, out_shape)) {
      MODEL_LOG(err, "Validation of pipeline: {} definition failed. Shape mismatch between: dependent node: {}; input: {}; shape: {} vs dependency node: {}; output: {}; shape: {}",
                config_.name, n.name, input, engine::shapeToString(in_shape), src.name, output, engine::shapeToString(out_shape));
      return StatusCode::INVALID_SHAPE;
    }
    if (in.precision != out.precision) {
      MODEL_LOG(err, "Validation of pipeline: {} definition failed. Precision mismatch between: dependent node: {}; input: {}; precision: {} vs dependency node: {}; output: {}; precision: {}",
                config_.name, n.name, input, engine::precisionName(in.precision), src.name, output,
                engine::precisionName(out.precision));
      return StatusCode::INVALID_PRECISION;
    }
    return StatusCode::OK;
  }

  // Depth-first from the response over dependencies: a back edge is a cycle; a node never reached
  // contributes nothing to the response.
  Status validateCycles() {
    std::vector<int> color(nodes.size(), 0);  // 0 new, 1 on path, 2 done
    std::function<bool(size_t)> visit = [&](size_t i) {
      color[i] = 1;
      for (size_t s : nodes[i]->sources) {
        if (color[s] == 1) return false;
        if (color[s] == 0 && !visit(s)) return false;
      }
      color[i] = 2;
      return true;
    };
    if (!visit(nodes.size() - 1)) {
      MODEL_LOG(err, "Validation of pipeline: {} definition failed. Cycle found", config_.name);
      return StatusCode::PIPELINE_CYCLE_FOUND;
    }
    if (std::count(color.begin(), color.end(), 2) != static_cast<long>(nodes.size())) {
      MODEL_LOG(err, "Validation of pipeline: {} definition failed. Pipeline has unconnected nodes", config_.name);
      return StatusCode::PIPELINE_CONTAINS_UNCONNECTED_NODES;
    }
    return StatusCode::OK;
  }

  // Demultiplexer/gather stacks in topological order; every source of a node must agree on the
  // stack it runs in (LIFO order).
  Status computeStacks() {
    std::vector<size_t> order;
    std::vector<int> state(nodes.size(), 0);
    std::function<void(size_t)> topo = [&](size_t i) {
      if (state[i]) return;
      state[i] = 1;
      for (size_t s : nodes[i]->sources) topo(s);
      order.push_back(i);
    };
    topo(nodes.size() - 1);
    auto wrong = [&](const Node& n) {
      MODEL_LOG(err, "Validation of pipeline: {} definition failed. Demultiplexer and gather nodes are not in LIFO order (node: {})",
                config_.name, n.name);
      return Status(StatusCode::PIPELINE_WRONG_DEMULTIPLEXER_GATHER_NODES_ORDER);
    };
    for (size_t i : order) {
      Node& n = *nodes[i];
      if (n.kind == Node::Kind::ENTRY) continue;
      std::optional<std::vector<size_t>> agreed;  // for the response: the full stack it gathers
      size_t levels = 0;
      for (size_t s : n.sources) {
        auto out = nodes[s]->outStack(s);
        std::vector<size_t> mine = out;
        if (n.kind == Node::Kind::EXIT) {
          for (size_t level : out)
            if (!exit_gathers_.count(nodes[level]->name)) return wrong(n);
          mine.clear();
        } else if (n.gather_from) {
          if (out.empty() || nodes[out.back()]->name != *n.gather_from) return wrong(n);
          mine.pop_back();
        }
        const auto& key = n.kind == Node::Kind::EXIT ? out : mine;
        if (agreed && *agreed != key) return wrong(n);
        agreed = key;
        levels = out.size() - mine.size();
        if (n.kind != Node::Kind::EXIT && levels != (n.gather_from ? 1u : 0u)) return wrong(n);
      }
      n.stack = n.kind == Node::Kind::EXIT ? std::vector<size_t>{} : agreed.value_or(std::vector<size_t>{});
      n.gather_levels = levels;
    }
    return StatusCode::OK;
  }

  const PipelineConfig& config_;
  const ModelManager& models_;
  const NodeLibraryRegistry& libraries_;
  std::map<size_t, Status> fetched_;
  std::set<std::string> exit_gathers_;
};

}  // namespace

Status Pipeline::build(const PipelineConfig& config, const ModelManager& models, const NodeLibraryRegistry& libraries,
                       std::shared_ptr<const Pipeline>* out) {
  Builder b(config, models, libraries);
  Status st = b.build();
  std::vector<TensorInfo> ins, outs;
  std::vector<std::string> layouts;
  if (st.ok()) st = b.signature(&ins, &outs, &layouts);
  if (!st.ok()) return st;
  std::shared_ptr<Pipeline> p(new Pipeline());
  p->name_ = config.name;
  p->models_ = &models;
  p->nodes_ = std::move(b.nodes);
  p->inputs_ = std::move(ins);
  p->outputs_ = std::move(outs);
  p->input_layouts_ = std::move(layouts);
  *out = std::move(p);
  return StatusCode::OK;
}

Fingerprint Pipeline::fingerprintOf(const PipelineConfig& config, const ModelManager& models,
                                    const NodeLibraryRegistry& libraries) {
  // The servable of every model node and the library of every custom node, in config order.
  Fingerprint fp;
  for (const auto& n : config.nodes) {
    if (n.kind == NodeConfig::Kind::DL_MODEL) {
      std::shared_ptr<const Servable> s;
      int64_t v = 0;
      fp.push_back(models.acquire(n.model_name, n.version.value_or(0), &s, &v, false).ok() ? s.get() : nullptr);
    } else {
      fp.push_back(libraries.find(n.library_name).get());
    }
  }
  return fp;
}

Pipeline::~Pipeline() = default;

// ---------------------------------------------------------------------------------------------
// Execution.

namespace {
using Context = std::vector<int64_t>;
using Key = std::pair<size_t, Context>;
using TensorMap = std::map<std::string, TensorView>;

// Shard `i` of a tensor along dim 0, as a view into it.
TensorView shardOf(const TensorView& t, int64_t i, int64_t count) {
  TensorView v;
  v.precision = t.precision;
  v.shape.assign(t.shape.begin() + 1, t.shape.end());
  size_t shard_bytes = count > 0 ? t.bytes / static_cast<size_t>(count) : 0;
  v.data = static_cast<const uint8_t*>(t.data) + shard_bytes * static_cast<size_t>(i);
  v.bytes = shard_bytes;
  v.owner = t.owner;
  return v;
}
}  // namespace

struct Pipeline::Run {
  const Pipeline& p;
  const InferenceRequest& request;
  std::mutex m;
  std::condition_variable cv;
  std::map<Key, TensorMap> done;
  std::map<Key, int64_t> shards;  // demultiplexer instance -> shard count
  std::set<Key> created;
  std::deque<Key> ready;
  size_t running = 0;
  Status error = StatusCode::OK;
  std::vector<std::thread> workers;
  size_t max_workers = 1;

  Run(const Pipeline& pipeline, const InferenceRequest& req) : p(pipeline), request(req) {
    max_workers = std::clamp<size_t>(usableCores(), 2, 8);
  }

  const Node& node(size_t i) const { return *p.nodes_[i]; }

  // Context of source `s`'s instance that feeds `ctx` directly (no gathering).
  static Context sourceContext(const Node& src, const Context& ctx) {
    if (!src.isDemultiplexer()) return ctx;
    return Context(ctx.begin(), ctx.end() - 1);
  }

  // All instances of `s` below `cur` done (m held).
  bool allDone(size_t s, const std::vector<size_t>& out_stack, const Context& cur) const {
    const Node& src = node(s);
    if (cur.size() == out_stack.size()) return done.count({s, sourceContext(src, cur)}) > 0;
    auto it = shards.find({out_stack[cur.size()], cur});
    if (it == shards.end()) return false;
    Context next = cur;
    next.push_back(0);
    for (int64_t i = 0; i < it->second; ++i) {
      next.back() = i;
      if (!allDone(s, out_stack, next)) return false;
    }
    return true;
  }

  bool isReady(size_t x, const Context& ctx) const {
    const Node& n = node(x);
    for (size_t s : n.sources) {
      const Node& src = node(s);
      if (n.gather_levels == 0) {
        if (!done.count({s, sourceContext(src, ctx)})) return false;
      } else if (!allDone(s, src.outStack(s), ctx)) {
        return false;
      }
    }
    return true;
  }

  void tryCreate(size_t x, const Context& ctx) {
    Key k{x, ctx};
    if (created.count(k) || !isReady(x, ctx)) return;
    created.insert(k);
    ready.push_back(std::move(k));
  }

  // m held. Records outputs of a finished instance and queues what became ready.
  void complete(const Key& k, TensorMap outputs) {
    const Node& n = node(k.first);
    int64_t count = -1;
    if (n.isDemultiplexer()) {
      Status st = shardCount(n, outputs, &count);
      if (!st.ok()) {
        if (error.ok()) error = st;
        return;
      }
      shards[k] = count;
    }
    done[k] = std::move(outputs);
    for (size_t x : n.dependents) {
      const Node& d = node(x);
      if (d.gather_levels > 0) {
        tryCreate(x, Context(k.second.begin(), k.second.begin() + static_cast<long>(d.stack.size())));
      } else if (n.isDemultiplexer()) {
        Context c = k.second;
        c.push_back(0);
        for (int64_t i = 0; i < count; ++i) {
          c.back() = i;
          tryCreate(x, c);
        }
      } else {
        tryCreate(x, k.second);
      }
    }
  }

  Status shardCount(const Node& n, const TensorMap& outputs, int64_t* count) const {
    int64_t c = -1;
    for (const auto& [name, t] : outputs) {
      if (t.shape.empty()) {
        MODEL_LOG(debug, "Pipeline: {}; node: {}; output {} has no dimension to demultiply", p.name_, n.name, name);
        return StatusCode::PIPELINE_WRONG_NUMBER_OF_DIMENSIONS_TO_DEMULTIPLY;
      }
      int64_t d0 = t.shape[0];
      if (*n.demultiply == -1 && d0 > kMaxDemultiplyCount) return StatusCode::PIPELINE_TOO_LARGE_DIMENSION_SIZE_TO_DEMULTIPLY;
      if (*n.demultiply != -1 && d0 != *n.demultiply) {
        return Status(StatusCode::PIPELINE_WRONG_DIMENSION_SIZE_TO_DEMULTIPLY,
                      "Expected: " + std::to_string(*n.demultiply) + "; Actual: " + std::to_string(d0));
      }
      if (c >= 0 && d0 != c) return StatusCode::PIPELINE_WRONG_DIMENSION_SIZE_TO_DEMULTIPLY;
      c = d0;
    }
    if (c == 0) {
      MODEL_LOG(debug, "Pipeline: {}; node: {} demultiplexer produced no results", p.name_, n.name);
      return StatusCode::PIPELINE_DEMULTIPLEXER_NO_RESULTS;
    }
    *count = std::max<int64_t>(c, 0);
    return StatusCode::OK;
  }

  // m held: the views an instance consumes (shards are views); gathered inputs are listed as the
  // ordered shard views to join.
  struct PendingInput {
    std::string name;
    TensorView view;                    // direct input
    std::vector<TensorView> parts;      // gathered shards, in order
    Shape gathered_dims;                // leading dims of the gathered shape
    bool gathered = false;
  };

  Status collectShards(size_t s, const std::vector<size_t>& out_stack, const Context& cur, const std::string& real,
                       std::vector<TensorView>* parts, Shape* dims, size_t depth) const {
    const Node& src = node(s);
    if (cur.size() == out_stack.size()) {
      const TensorMap& outs = done.at({s, sourceContext(src, cur)});
      auto it = outs.find(real);
      if (it == outs.end()) return StatusCode::NODE_LIBRARY_MISSING_OUTPUT;
      parts->push_back(src.isDemultiplexer() ? shardOf(it->second, cur.back(), shards.at({s, sourceContext(src, cur)}))
                                             : it->second);
      return StatusCode::OK;
    }
    int64_t n = shards.at({out_stack[cur.size()], cur});
    if (dims->size() <= depth) dims->push_back(n);
    else if ((*dims)[depth] != n) return StatusCode::PIPELINE_INCONSISTENT_SHARD_DIMENSIONS;
    Context next = cur;
    next.push_back(0);
    for (int64_t i = 0; i < n; ++i) {
      next.back() = i;
      Status st = collectShards(s, out_stack, next, real, parts, dims, depth + 1);
      if (!st.ok()) return st;
    }
    return StatusCode::OK;
  }

  Status collectInputs(const Key& k, std::vector<PendingInput>* out) const {
    const Node& n = node(k.first);
    for (const auto& in : n.inputs) {
      const Node& src = node(in.source);
      PendingInput pi;
      pi.name = in.name;
      if (n.gather_levels == 0) {
        Context sc = sourceContext(src, k.second);
        const TensorMap& outs = done.at({in.source, sc});
        auto it = outs.find(in.real);
        if (it == outs.end()) {
          MODEL_LOG(err, "Pipeline: {}; node: {} did not produce output: {}", p.name_, src.name, in.real);
          return StatusCode::NODE_LIBRARY_MISSING_OUTPUT;
        }
        pi.view = src.isDemultiplexer() ? shardOf(it->second, k.second.back(), shards.at({in.source, sc})) : it->second;
      } else {
        pi.gathered = true;
        Status st = collectShards(in.source, src.outStack(in.source), k.second, in.real, &pi.parts, &pi.gathered_dims,
                                  0);
        if (!st.ok()) return st;
      }
      out->push_back(std::move(pi));
    }
    return StatusCode::OK;
  }

  // Joins shards into one tensor: the one copy of the pipeline, since shards live in separate
  // buffers.
  static Status join(PendingInput& pi, TensorView* out) {
    if (pi.parts.empty()) return StatusCode::PIPELINE_INCONSISTENT_SHARD_DIMENSIONS;
    const TensorView& first = pi.parts.front();
    size_t total = 0;
    for (const auto& part : pi.parts) {
      if (part.shape != first.shape || part.precision != first.precision || part.bytes != first.bytes)
        return StatusCode::PIPELINE_INCONSISTENT_SHARD_DIMENSIONS;
      total += part.bytes;
    }
    auto buffer = std::make_shared<std::vector<uint8_t>>(total);
    size_t off = 0;
    for (const auto& part : pi.parts) {
      if (part.bytes) std::memcpy(buffer->data() + off, part.data, part.bytes);
      off += part.bytes;
    }
    out->precision = first.precision;
    out->shape = pi.gathered_dims;
    out->shape.insert(out->shape.end(), first.shape.begin(), first.shape.end());
    out->data = buffer->data();
    out->bytes = total;
    out->owner = std::shared_ptr<const void>(buffer, buffer->data());
    return StatusCode::OK;
  }

  Status executeDL(const Node& n, const Key& k, std::vector<std::pair<std::string, TensorView>>& inputs,
                   TensorMap* outputs) const {
    std::shared_ptr<const Servable> servable;
    int64_t version = 0;
    Status st = p.models_->acquire(n.model_name, n.model_version, &servable, &version);
    if (!st.ok()) return st;
    InferenceRequest req;
    for (auto& [name, view] : inputs) {
      InferenceInput in;
      in.name = name;
      in.tensor = std::move(view);
      req.inputs.push_back(std::move(in));
    }
    InferenceResponse resp;
    st = servable->inferAdmitted(req, &resp);  // the pipeline was admitted: never refused half-way
    if (!st.ok()) {
      MODEL_LOG(debug, "Pipeline: {}; node: {}; session: {} failed: {}", p.name_, n.name, contextString(k.second),
                st.message());
      return st;
    }
    for (auto& o : resp.outputs) {
      // Output views from the engine must keep their buffers alive beyond this call.
      (*outputs)[o.name] = std::move(o.tensor);
    }
    return StatusCode::OK;
  }

  Status executeCustom(const Node& n, const Key& k, const std::vector<std::pair<std::string, TensorView>>& inputs,
                       TensorMap* outputs) const {
    const CustomNodeResources& res = *n.custom;
    const NodeLibrary& lib = res.library();
    std::vector<std::vector<uint64_t>> dims(inputs.size());
    std::vector<CustomNodeTensor> tensors(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const TensorView& t = inputs[i].second;
      for (int64_t d : t.shape) dims[i].push_back(static_cast<uint64_t>(d));
      tensors[i].name = inputs[i].first.c_str();
      // The ABI has no const: nodes must not write to inputs (they may be shared views).
      tensors[i].data = const_cast<uint8_t*>(static_cast<const uint8_t*>(t.data));
      tensors[i].dataBytes = t.bytes;
      tensors[i].dims = dims[i].data();
      tensors[i].dimsCount = dims[i].size();
      tensors[i].precision = toAbi(t.precision);
    }
    CustomNodeTensor* outs = nullptr;
    int count = 0;
    // Custom nodes run in the server process: if one crashes, this is the last line in the log.
    MODEL_LOG(debug, "Pipeline: {}; node: {}; session: {}; executing custom node library: {}", p.name_, n.name,
              contextString(k.second), lib.name());
    int rc = lib.execute(tensors.empty() ? nullptr : tensors.data(), static_cast<int>(tensors.size()), &outs, &count,
                         res.paramsData(), res.paramsCount(), res.manager());
    if (rc != 0) {
      // On failure the library cleans up after itself (ABI rule).
      MODEL_LOG(err, "Node {}; session: {}; has failed custom node execution with return code: {}", n.name,
                contextString(k.second), rc);
      return StatusCode::NODE_LIBRARY_EXECUTION_FAILED;
    }
    if (outs == nullptr) {
      MODEL_LOG(err, "Node {}; session: {}; has corrupted outputs handle", n.name, contextString(k.second));
      return StatusCode::NODE_LIBRARY_OUTPUTS_CORRUPTED;
    }
    if (count <= 0) {
      MODEL_LOG(err, "Node {}; session: {}; has corrupted number of outputs", n.name, contextString(k.second));
      lib.release(outs, res.manager());
      return StatusCode::NODE_LIBRARY_OUTPUTS_CORRUPTED_COUNT;
    }
    // Every output is converted or released, whatever fails on the way.
    Status status = StatusCode::OK;
    auto keep = n.custom;  // the data's deleter needs the library and its manager alive
    for (int i = 0; i < count; ++i) {
      CustomNodeTensor& o = outs[i];
      std::shared_ptr<const void> data_owner;
      if (o.data) {
        uint8_t* data = o.data;
        data_owner = std::shared_ptr<const void>(data, [keep](const void* ptr) {
          keep->library().release(const_cast<void*>(ptr), keep->manager());
        });
      }
      Shape shape;
      for (uint64_t d = 0; d < o.dimsCount && o.dims; ++d) shape.push_back(static_cast<int64_t>(o.dims[d]));
      if (o.dims) lib.release(o.dims, res.manager());
      if (o.name == nullptr) {
        MODEL_LOG(err, "Node {}; session: {}; failed tensor conversion - missing output name", n.name, contextString(k.second));
        status = StatusCode::NODE_LIBRARY_OUTPUT_MISSING_NAME;
        continue;
      }
      Precision prec = fromAbi(o.precision);
      if (prec == Precision::UNDEFINED) {
        MODEL_LOG(err, "Node {}; session: {}; Unspecified output precision from custom node tensor: {}", n.name,
                  contextString(k.second), o.name);
        if (status.ok()) status = StatusCode::NODE_LIBRARY_INVALID_PRECISION;
        continue;
      }
      uint64_t expected = 0;
      if (!o.data || !engine::denseByteSize(shape, prec, UINT64_MAX / 2, &expected) || expected != o.dataBytes) {
        MODEL_LOG(err, "Node {}; session: {}; error: {}", n.name, contextString(k.second),
                  o.data ? "not expected data length: expected: " + std::to_string(expected) + " vs " + std::to_string(o.dataBytes)
                         : std::string("data handle is null"));
        if (status.ok()) status = StatusCode::NODE_LIBRARY_INVALID_CONTENT_SIZE;
        continue;
      }
      TensorView v;
      v.precision = prec;
      v.shape = std::move(shape);
      v.data = o.data;
      v.bytes = o.dataBytes;
      v.owner = std::move(data_owner);
      (*outputs)[o.name] = std::move(v);
    }
    lib.release(outs, res.manager());
    return status;
  }

  // Runs one instance (m not held).
  Status execute(const Key& k, std::vector<PendingInput>& pending, TensorMap* outputs) const {
    const Node& n = node(k.first);
    std::vector<std::pair<std::string, TensorView>> inputs;
    for (auto& pi : pending) {
      TensorView v;
      if (pi.gathered) {
        Status st = join(pi, &v);
        if (!st.ok()) return st;
      } else {
        v = std::move(pi.view);
      }
      inputs.emplace_back(pi.name, std::move(v));
    }
    switch (n.kind) {
      case Node::Kind::EXIT:
        for (auto& [name, v] : inputs) (*outputs)[name] = std::move(v);
        return StatusCode::OK;
      case Node::Kind::DL:
        return executeDL(n, k, inputs, outputs);
      case Node::Kind::CUSTOM:
        return executeCustom(n, k, inputs, outputs);
      case Node::Kind::ENTRY:
        break;
    }
    return StatusCode::INTERNAL_ERROR;
  }

  void work() {
    std::unique_lock lk(m);
    while (error.ok()) {
      if (ready.empty()) {
        if (running == 0) break;
        cv.wait(lk);
        continue;
      }
      Key k = std::move(ready.front());
      ready.pop_front();
      ++running;
      // More ready work than workers: another worker takes it (independent branches run
      // concurrently).
      if (!ready.empty() && workers.size() + 1 < max_workers) workers.emplace_back([this] { work(); });
      std::vector<PendingInput> pending;
      Status st = collectInputs(k, &pending);
      lk.unlock();
      TensorMap outputs;
      if (st.ok()) st = execute(k, pending, &outputs);
      pending.clear();
      lk.lock();
      --running;
      if (!st.ok()) {
        if (error.ok()) error = st;
      } else {
        complete(k, std::move(outputs));
      }
      cv.notify_all();
    }
    cv.notify_all();
  }
};

Status Pipeline::validateRequest(const InferenceRequest& request) const {
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
                                                     engine::shapeToString(t.shape) + "; input name: " + info.name);
    if (info.precision != Precision::UNDEFINED && t.precision != info.precision)
      return Status(StatusCode::INVALID_PRECISION,
                    detail(engine::precisionName(info.precision), engine::precisionName(t.precision), info.name));
    if (info.precision != Precision::UNDEFINED) {
      if (t.shape.size() != info.shape.size())
        return Status(StatusCode::INVALID_NO_OF_SHAPE_DIMENSIONS,
                      detail(engine::shapeToString(info.shape), engine::shapeToString(t.shape), info.name));
      if (!shapesMatch(t.shape, info.shape))
        return Status(StatusCode::INVALID_SHAPE,
                      detail(engine::shapeToString(info.shape), engine::shapeToString(t.shape), info.name));
    }
    uint64_t expected = 0;
    bool fits = t.precision != Precision::STRING && engine::denseByteSize(t.shape, t.precision, UINT64_MAX / 2, &expected);
    if (t.precision == Precision::STRING) continue;
    if (in->typed_values) {
      int64_t count = engine::elementCount(t.shape);
      if (!fits || count != in->value_count)
        return Status(StatusCode::INVALID_VALUE_COUNT, "Expected: " + (fits ? std::to_string(count) : std::string("too many")) +
                                                           "; Actual: " + std::to_string(in->value_count) +
                                                           "; input name: " + info.name);
    } else if (!fits || expected != t.bytes) {
      return Status(StatusCode::INVALID_CONTENT_SIZE, "Expected: " + (fits ? std::to_string(expected) : std::string("too many")) +
                                                          " bytes; Actual: " + std::to_string(t.bytes) +
                                                          " bytes; input name: " + info.name);
    }
  }
  return StatusCode::OK;
}

Status Pipeline::infer(const InferenceRequest& request, InferenceResponse* response, uint64_t* queue_wait_us,
                       uint64_t* inference_us) const {
  if (queue_wait_us) *queue_wait_us = 0;
  if (inference_us) *inference_us = 0;
  Status st = validateRequest(request);
  if (!st.ok()) return st;
  Run run(*this, request);
  {
    std::lock_guard lk(run.m);
    TensorMap entry;
    for (const auto& in : request.inputs) entry[in.name] = in.tensor;
    Key k{0, {}};
    run.created.insert(k);
    run.complete(k, std::move(entry));
    if (!run.error.ok()) return run.error;
  }
  run.work();
  // Workers may still be finishing an instance after an error; wait for all of them.
  for (;;) {
    std::thread t;
    {
      std::lock_guard lk(run.m);
      if (run.workers.empty()) break;
      t = std::move(run.workers.back());
      run.workers.pop_back();
    }
    t.join();
  }
  if (!run.error.ok()) return run.error;
  auto it = run.done.find({nodes_.size() - 1, {}});
  if (it == run.done.end()) return StatusCode::INTERNAL_ERROR;
  const Node& exit = *nodes_.back();
  response->outputs.clear();
  for (const auto& out : exit.inputs) {
    auto t = it->second.find(out.name);
    if (t == it->second.end()) return StatusCode::INTERNAL_ERROR;
    response->outputs.push_back(InferenceOutput{out.name, t->second});
  }
  return StatusCode::OK;
}

// ---------------------------------------------------------------------------------------------

PipelineDefinition::PipelineDefinition(PipelineConfig config) : name_(config.name), config_(std::move(config)) {}

PipelineConfig PipelineDefinition::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

Status PipelineDefinition::reload(const PipelineConfig& config, const ModelManager& models,
                                  const NodeLibraryRegistry& libraries, bool name_taken_by_model, bool retry_invalid) {
  {
    std::lock_guard lock(mutex_);
    if (name_taken_by_model) {
      MODEL_LOG(err, "Pipeline name: {} is already occupied by model.", name_);
      config_ = config;
      state_ = PipelineState::LOADING;
      status_ = StatusCode::PIPELINE_NAME_OCCUPIED;
      plan_.reset();
      fingerprint_.clear();
      return status_;
    }
    // Nothing it depends on changed: keep the plan (or the failure; an invalid pipeline is retried
    // on config reloads, and whenever one of its models or libraries changes).
    if (state_ != PipelineState::RETIRED && config_ == config && (state_ == PipelineState::AVAILABLE || !retry_invalid) &&
        fingerprint_ == Pipeline::fingerprintOf(config, models, libraries))
      return status_;
  }
  // Taken before validating: a model reloaded meanwhile leaves a stale fingerprint, which makes
  // the next reload validate again.
  Fingerprint before = Pipeline::fingerprintOf(config, models, libraries);
  std::shared_ptr<const Pipeline> plan;
  Status st = Pipeline::build(config, models, libraries, &plan);
  std::lock_guard lock(mutex_);
  config_ = config;
  if (!st.ok()) {
    MODEL_LOG(err, "Validation of pipeline: {} definition failed: {}", name_, st.message());
    if (state_ != PipelineState::LOADING || status_.code() != st.code())
      MODEL_LOG(info, "Pipeline: {} state changed to: LOADING after handling: ValidationFailedEvent", name_);
    state_ = PipelineState::LOADING;
    status_ = st;
    plan_.reset();
    fingerprint_ = std::move(before);
    return st;
  }
  if (state_ != PipelineState::AVAILABLE)
    MODEL_LOG(info, "Pipeline: {} state changed to: AVAILABLE after handling: ValidationPassedEvent", name_);
  state_ = PipelineState::AVAILABLE;
  status_ = StatusCode::OK;
  plan_ = plan;
  last_plan_ = plan;
  fingerprint_ = std::move(before);
  return StatusCode::OK;
}

void PipelineDefinition::retire() {
  std::lock_guard lock(mutex_);
  if (state_ == PipelineState::RETIRED) return;
  MODEL_LOG(info, "Pipeline: {} state changed to: RETIRED after handling: RetireEvent", name_);
  state_ = PipelineState::RETIRED;
  status_ = StatusCode::OK;
  plan_.reset();
  fingerprint_.clear();
}

PipelineState PipelineDefinition::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

VersionState PipelineDefinition::versionState() const {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case PipelineState::AVAILABLE: return VersionState::AVAILABLE;
    case PipelineState::RETIRED: return VersionState::END;
    case PipelineState::LOADING: break;
  }
  return VersionState::LOADING;
}

VersionError PipelineDefinition::versionError() const {
  std::lock_guard lock(mutex_);
  if (state_ == PipelineState::LOADING && status_.code() != StatusCode::PIPELINE_DEFINITION_NOT_LOADED_YET)
    return VersionError::FAILED_PRECONDITION;
  return VersionError::OK;
}

Status PipelineDefinition::validationStatus() const {
  std::lock_guard lock(mutex_);
  return status_;
}

Status PipelineDefinition::acquire(std::shared_ptr<const Pipeline>* out) const {
  std::lock_guard lock(mutex_);
  if (state_ == PipelineState::RETIRED) return StatusCode::PIPELINE_DEFINITION_NOT_LOADED_ANYMORE;
  if (!plan_) return StatusCode::PIPELINE_DEFINITION_NOT_LOADED_YET;
  *out = plan_;
  return StatusCode::OK;
}

std::shared_ptr<const Pipeline> PipelineDefinition::lastPlan() const {
  std::lock_guard lock(mutex_);
  return last_plan_;
}

}  // namespace ovms::serving::pipeline
