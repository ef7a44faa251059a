#include "engine/ir/graph_builder.h"

namespace ovms::engine::ir {

using TP = onnx::TensorProto;

bool Value::staticShape() const {
  if (rank < 0) return false;
  for (auto d : dims)
    if (d < 0) return false;
  return true;
}

NodeBuilder& NodeBuilder::attr(const std::string& name, int64_t v) {
  auto* a = p_->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
  return *this;
}
NodeBuilder& NodeBuilder::attr(const std::string& name, float v) {
  auto* a = p_->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
  return *this;
}
NodeBuilder& NodeBuilder::attr(const std::string& name, const std::vector<int64_t>& v) {
  auto* a = p_->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
  return *this;
}
NodeBuilder& NodeBuilder::attr(const std::string& name, const std::vector<float>& v) {
  auto* a = p_->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOATS);
  for (auto x : v) a->add_floats(x);
  return *this;
}
NodeBuilder& NodeBuilder::attr(const std::string& name, const std::string& v) {
  auto* a = p_->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
  return *this;
}

std::string GraphBuilder::uniqueName(std::string_view hint) {
  std::string s = "t";
  s += std::to_string(counter_++);
  s += "_";
  s.append(hint.substr(0, 48));
  return s;
}

NodeBuilder GraphBuilder::node(std::string_view op, const std::vector<std::string>& inputs, int num_outputs,
                               std::string_view domain) {
  auto* n = g_->add_node();
  n->set_op_type(std::string(op));
  if (!domain.empty()) n->set_domain(std::string(domain));
  std::string base = hint_.empty() ? std::string(op) : hint_ + "/" + std::string(op);
  n->set_name(uniqueName(base));
  for (const auto& i : inputs) n->add_input(i);
  for (int k = 0; k < num_outputs; ++k) n->add_output(uniqueName(base));
  return NodeBuilder(n);
}

std::string GraphBuilder::initializer(const ConstData& c, std::string_view hint) {
  auto* t = g_->add_initializer();
  std::string name = uniqueName(hint);
  t->set_name(name);
  t->set_data_type(c.onnx_type);
  for (auto d : c.dims) t->add_dims(d);
  t->set_raw_data(c.bytes.data(), c.bytes.size());
  return name;
}

std::string GraphBuilder::constI64(const std::vector<int64_t>& v, bool scalar) {
  auto c = ConstData::fromInt64(TP::INT64, scalar ? std::vector<int64_t>{} : std::vector<int64_t>{static_cast<int64_t>(v.size())}, v);
  return initializer(*c, "i64");
}

std::string GraphBuilder::constF32(const std::vector<float>& v, bool scalar) {
  std::vector<double> d(v.begin(), v.end());
  auto c = ConstData::fromDoubles(TP::FLOAT, scalar ? std::vector<int64_t>{} : std::vector<int64_t>{static_cast<int64_t>(v.size())}, d);
  return initializer(*c, "f32");
}

std::string GraphBuilder::constScalar(int32_t t, double v) {
  auto c = ConstData::fromDoubles(t, {}, {v});
  return initializer(*c, "scalar");
}

std::string GraphBuilder::cast(const std::string& x, int32_t from, int32_t to) {
  if (from == to) return x;
  return node("Cast", {x}).attr("to", static_cast<int64_t>(to)).out();
}

}  // namespace ovms::engine::ir
