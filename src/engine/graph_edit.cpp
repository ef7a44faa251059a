#include "engine/graph_edit.h"

#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <set>

namespace ovms::engine {

struct GraphEditor::Impl {
  onnx::ModelProto model;

  onnx::GraphProto& graph() { return *model.mutable_graph(); }
  const onnx::GraphProto& graph() const { return model.graph(); }

  std::set<std::string> initializerNames() const {
    std::set<std::string> s;
    for (const auto& t : graph().initializer()) s.insert(t.name());
    for (const auto& t : graph().sparse_initializer()) s.insert(t.values().name());
    return s;
  }

  onnx::ValueInfoProto* findInput(const std::string& name) {
    auto inits = initializerNames();
    for (auto& vi : *graph().mutable_input())
      if (vi.name() == name && !inits.count(name)) return &vi;
    return nullptr;
  }
  onnx::ValueInfoProto* findOutput(const std::string& name) {
    for (auto& vi : *graph().mutable_output())
      if (vi.name() == name) return &vi;
    return nullptr;
  }

  static std::optional<std::vector<int64_t>> dimsOf(const onnx::ValueInfoProto& vi) {
    if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) return std::nullopt;
    std::vector<int64_t> d;
    for (const auto& dim : vi.type().tensor_type().shape().dim())
      d.push_back(dim.has_dim_value() && dim.dim_value() >= 0 ? dim.dim_value() : -1);
    return d;
  }

  // Replaces reads of `from` by `to` in every node, including nested subgraphs (If/Loop/Scan bodies
  // read outer-scope values by name).
  static void renameUses(onnx::GraphProto* g, const std::string& from, const std::string& to) {
    for (auto& node : *g->mutable_node()) {
      for (auto& in : *node.mutable_input())
        if (in == from) in = to;
      for (auto& attr : *node.mutable_attribute()) {
        if (attr.has_g()) renameUses(attr.mutable_g(), from, to);
        for (auto& sub : *attr.mutable_graphs()) renameUses(&sub, from, to);
      }
    }
  }

  void ensureDefaultOpset() {
    for (const auto& op : model.opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") return;
    auto* op = model.add_opset_import();
    op->set_domain("");
    op->set_version(13);
  }

  std::string uniqueName(const std::string& base) const {
    std::set<std::string> used;
    for (const auto& n : graph().node())
      for (const auto& o : n.output()) used.insert(o);
    for (const auto& i : graph().input()) used.insert(i.name());
    for (const auto& i : graph().initializer()) used.insert(i.name());
    std::string name = base;
    for (int k = 1; used.count(name); ++k) name = base + "_" + std::to_string(k);
    return name;
  }

  static onnx::NodeProto makeTranspose(const std::string& in, const std::string& out, const std::vector<int64_t>& perm) {
    onnx::NodeProto n;
    n.set_op_type("Transpose");
    n.set_name(out + "_transpose");
    n.add_input(in);
    n.add_output(out);
    auto* a = n.add_attribute();
    a->set_name("perm");
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t p : perm) a->add_ints(p);
    return n;
  }

  static bool validPerm(const std::vector<int64_t>& perm) {
    std::vector<bool> seen(perm.size(), false);
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[p]) return false;
      seen[p] = true;
    }
    return true;
  }
};

GraphEditor::GraphEditor() : impl_(std::make_unique<Impl>()) {}
GraphEditor::~GraphEditor() = default;

std::unique_ptr<GraphEditor> GraphEditor::parse(std::string_view bytes, std::string* error) {
  std::unique_ptr<GraphEditor> e(new GraphEditor());
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !e->impl_->model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || !e->impl_->model.has_graph()) {
    *error = "the model file is not a valid ONNX model";
    return nullptr;
  }
  return e;
}

std::vector<std::string> GraphEditor::inputNames() const {
  auto inits = impl_->initializerNames();
  std::vector<std::string> names;
  for (const auto& vi : impl_->graph().input())
    if (!inits.count(vi.name())) names.push_back(vi.name());
  return names;
}

std::vector<std::string> GraphEditor::outputNames() const {
  std::vector<std::string> names;
  for (const auto& vi : impl_->graph().output()) names.push_back(vi.name());
  return names;
}

std::optional<std::vector<int64_t>> GraphEditor::inputShape(const std::string& name) const {
  auto* vi = impl_->findInput(name);
  return vi ? Impl::dimsOf(*vi) : std::nullopt;
}

std::optional<std::vector<int64_t>> GraphEditor::outputShape(const std::string& name) const {
  auto* vi = impl_->findOutput(name);
  return vi ? Impl::dimsOf(*vi) : std::nullopt;
}

bool GraphEditor::setInputShape(const std::string& name, const std::vector<int64_t>& dims, std::string* error) {
  auto* vi = impl_->findInput(name);
  if (!vi) {
    *error = "no input named " + name;
    return false;
  }
  if (!vi->type().has_tensor_type()) {
    *error = "input " + name + " is not a tensor";
    return false;
  }
  auto* shape = vi->mutable_type()->mutable_tensor_type()->mutable_shape();
  if (shape->dim_size() != static_cast<int>(dims.size())) {
    *error = "input " + name + " has rank " + std::to_string(shape->dim_size()) + ", the requested shape has rank " +
             std::to_string(dims.size());
    return false;
  }
  for (size_t i = 0; i < dims.size(); ++i) {
    auto* d = shape->mutable_dim(static_cast<int>(i));
    if (dims[i] >= 0) {
      if (d->has_dim_value() && d->dim_value() == dims[i]) continue;
      d->set_dim_value(dims[i]);
    } else {
      if (d->has_dim_param() && !d->dim_param().empty()) continue;
      d->set_dim_param("ovms_" + name + "_d" + std::to_string(i));
    }
    changed_ = true;
  }
  return true;
}

bool GraphEditor::transposeInput(const std::string& name, const std::vector<int64_t>& perm, std::string* error) {
  auto* vi = impl_->findInput(name);
  auto dims = vi ? Impl::dimsOf(*vi) : std::nullopt;
  if (!dims) {
    *error = vi ? "input " + name + " has no shape" : "no input named " + name;
    return false;
  }
  if (dims->size() != perm.size() || !Impl::validPerm(perm)) {
    *error = "layout of input " + name + " does not match its rank " + std::to_string(dims->size());
    return false;
  }
  // Client dims: client[perm[i]] = model[i].
  auto* shape = vi->mutable_type()->mutable_tensor_type()->mutable_shape();
  onnx::TensorShapeProto model_shape = *shape;
  for (size_t i = 0; i < perm.size(); ++i) *shape->mutable_dim(static_cast<int>(perm[i])) = model_shape.dim(static_cast<int>(i));
  std::string internal = impl_->uniqueName(name + "_ovms_model_layout");
  Impl::renameUses(&impl_->graph(), name, internal);
  auto* nodes = impl_->graph().mutable_node();
  *nodes->Add() = Impl::makeTranspose(name, internal, perm);
  for (int i = nodes->size() - 1; i > 0; --i) nodes->SwapElements(i, i - 1);
  impl_->ensureDefaultOpset();
  changed_ = true;
  return true;
}

bool GraphEditor::transposeOutput(const std::string& name, const std::vector<int64_t>& perm, std::string* error) {
  auto* vo = impl_->findOutput(name);
  auto dims = vo ? Impl::dimsOf(*vo) : std::nullopt;
  if (!dims) {
    *error = vo ? "output " + name + " has no shape" : "no output named " + name;
    return false;
  }
  if (dims->size() != perm.size() || !Impl::validPerm(perm)) {
    *error = "layout of output " + name + " does not match its rank " + std::to_string(dims->size());
    return false;
  }
  onnx::NodeProto* producer = nullptr;
  int producer_slot = -1;
  for (auto& node : *impl_->graph().mutable_node())
    for (int k = 0; k < node.output_size(); ++k)
      if (node.output(k) == name) {
        producer = &node;
        producer_slot = k;
      }
  if (!producer) {
    *error = "output " + name + " is not produced by a node";
    return false;
  }
  std::string internal = impl_->uniqueName(name + "_ovms_model_layout");
  producer->set_output(producer_slot, internal);
  Impl::renameUses(&impl_->graph(), name, internal);
  *impl_->graph().add_node() = Impl::makeTranspose(internal, name, perm);
  auto* shape = vo->mutable_type()->mutable_tensor_type()->mutable_shape();
  onnx::TensorShapeProto model_shape = *shape;
  for (size_t i = 0; i < perm.size(); ++i) *shape->mutable_dim(static_cast<int>(i)) = model_shape.dim(static_cast<int>(perm[i]));
  impl_->ensureDefaultOpset();
  changed_ = true;
  return true;
}

std::string GraphEditor::serialize() {
  auto& g = impl_->graph();
  if (changed_) {
    // Intermediate shapes recorded for the old input shapes would contradict the new ones.
    g.clear_value_info();
    std::vector<std::optional<onnx::TensorShapeProto>> declared;
    for (auto& out : *g.mutable_output()) {
      if (out.type().has_tensor_type() && out.type().tensor_type().has_shape()) {
        declared.push_back(out.type().tensor_type().shape());
        out.mutable_type()->mutable_tensor_type()->clear_shape();
      } else {
        declared.push_back(std::nullopt);
      }
    }
    try {
      onnx::ShapeInferenceOptions opts;
      opts.check_type = false;
      opts.error_mode = 0;
      opts.enable_data_propagation = true;
      onnx::shape_inference::InferShapes(impl_->model, onnx::OpSchemaRegistry::Instance(), opts);
    } catch (const std::exception&) {
      // Shapes that could not be inferred fall back to dynamic dims below.
    }
    g.clear_value_info();
    for (int i = 0; i < g.output_size(); ++i) {
      auto* tt = g.mutable_output(i)->mutable_type()->mutable_tensor_type();
      if (!declared[i]) continue;
      bool usable = tt->has_shape() && tt->shape().dim_size() == declared[i]->dim_size();
      if (usable) continue;
      auto* shape = tt->mutable_shape();
      shape->Clear();
      for (int k = 0; k < declared[i]->dim_size(); ++k)
        shape->add_dim()->set_dim_param("ovms_" + g.output(i).name() + "_d" + std::to_string(k));
    }
  }
  return impl_->model.SerializeAsString();
}

}  // namespace ovms::engine
