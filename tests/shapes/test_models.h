#pragma once
// Small ONNX models built with the ONNX protobuf classes, for the shape/layout tests.
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include "engine/onnx_model.h"

namespace shapes_test {

// A dim is a number or a symbolic name.
using Dim = std::variant<int64_t, std::string>;

inline void setType(onnx::ValueInfoProto* vi, const std::string& name, const std::vector<Dim>& dims) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tt->mutable_shape();
  for (const auto& d : dims) {
    if (std::holds_alternative<int64_t>(d))
      shape->add_dim()->set_dim_value(std::get<int64_t>(d));
    else
      shape->add_dim()->set_dim_param(std::get<std::string>(d));
  }
}

inline onnx::ModelProto baseModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  m.mutable_graph()->set_name("test");
  return m;
}

// y = x * scale (scalar constant): any shape works.
inline std::string mulModel(const std::vector<Dim>& dims, float scale = 2.0f, const std::string& in = "x",
                            const std::string& out = "y") {
  auto m = baseModel();
  auto* g = m.mutable_graph();
  auto* c = g->add_initializer();
  c->set_name("scale");
  c->set_data_type(onnx::TensorProto::FLOAT);
  c->add_float_data(scale);
  auto* n = g->add_node();
  n->set_op_type("Mul");
  n->add_input(in);
  n->add_input("scale");
  n->add_output(out);
  setType(g->add_input(), in, dims);
  setType(g->add_output(), out, dims);
  return m.SerializeAsString();
}

// y = x + c where c has a fixed shape: the input cannot take an incompatible static shape.
inline std::string addFixedModel(const std::vector<int64_t>& cshape) {
  auto m = baseModel();
  auto* g = m.mutable_graph();
  auto* c = g->add_initializer();
  c->set_name("c");
  c->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (auto d : cshape) {
    c->add_dims(d);
    n *= d;
  }
  for (int64_t i = 0; i < n; ++i) c->add_float_data(1.0f);
  auto* node = g->add_node();
  node->set_op_type("Add");
  node->add_input("x");
  node->add_input("c");
  node->add_output("y");
  std::vector<Dim> dims(cshape.begin(), cshape.end());
  setType(g->add_input(), "x", dims);
  setType(g->add_output(), "y", dims);
  return m.SerializeAsString();
}

// sum = a + b, two inputs of [n, 2].
inline std::string twoInputModel() {
  auto m = baseModel();
  auto* g = m.mutable_graph();
  auto* node = g->add_node();
  node->set_op_type("Add");
  node->add_input("a");
  node->add_input("b");
  node->add_output("sum");
  setType(g->add_input(), "a", {std::string("n"), int64_t{2}});
  setType(g->add_input(), "b", {std::string("n"), int64_t{2}});
  setType(g->add_output(), "sum", {std::string("n"), int64_t{2}});
  return m.SerializeAsString();
}

inline std::string writeModelDir(const std::filesystem::path& root, const std::string& bytes, int version = 1) {
  auto dir = root / std::to_string(version);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "model.onnx", std::ios::binary) << bytes;
  return dir.string();
}

inline ovms::engine::TensorView floatView(const std::vector<float>& data, const std::vector<int64_t>& shape) {
  ovms::engine::TensorView v;
  v.precision = ovms::engine::Precision::FP32;
  v.shape = shape;
  v.data = data.data();
  v.bytes = data.size() * sizeof(float);
  return v;
}

inline std::vector<float> floats(const ovms::engine::TensorView& v) {
  const float* p = static_cast<const float*>(v.data);
  return std::vector<float>(p, p + v.bytes / sizeof(float));
}

}  // namespace shapes_test
