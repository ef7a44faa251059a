#pragma once
// Building the translated ONNX graph: the tensors (Value), nodes and initializers.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <onnx/onnx_pb.h>

#include "engine/ir/const_data.h"
#include "engine/ir/element_types.h"

namespace ovms::engine::ir {

inline constexpr const char* kCustomDomain = "ovms.ir";
inline constexpr int64_t kOnnxOpset = 17;

// A tensor in the ONNX graph under construction.
struct Value {
  std::string name;
  int32_t type = 0;          // ONNX element type in the graph
  ElemType ir_type = ElemType::undefined;  // element type the IR declares
  int64_t rank = -1;         // -1 = unknown
  std::vector<int64_t> dims; // size == rank when rank >= 0; -1 = unknown dim
  std::shared_ptr<const ConstData> constant;  // set when known at translation time
  // The XML's port dims for this tensor are upper bounds, not its shape: it is (or depends on) a data-dependent
  // output such as NonMaxSuppression's selected boxes, so `dims` holds -1 where the size is only known at run time.
  bool dims_are_bounds = false;
  bool isConst() const { return constant != nullptr; }
  bool staticShape() const;
};

class NodeBuilder {
 public:
  explicit NodeBuilder(onnx::NodeProto* p) : p_(p) {}
  NodeBuilder& attr(const std::string& name, int64_t v);
  NodeBuilder& attr(const std::string& name, int v) { return attr(name, static_cast<int64_t>(v)); }
  NodeBuilder& attr(const std::string& name, float v);
  NodeBuilder& attr(const std::string& name, const std::vector<int64_t>& v);
  NodeBuilder& attr(const std::string& name, const std::vector<float>& v);
  NodeBuilder& attr(const std::string& name, const std::string& v);
  NodeBuilder& attr(const std::string& name, const char* v) { return attr(name, std::string(v)); }
  const std::string& out(int i = 0) const { return p_->output(i); }
  onnx::NodeProto* proto() { return p_; }

 private:
  onnx::NodeProto* p_;
};

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* g) : g_(g) {}
  std::string uniqueName(std::string_view hint);
  // Adds a node with `num_outputs` freshly named outputs.
  NodeBuilder node(std::string_view op, const std::vector<std::string>& inputs, int num_outputs = 1,
                   std::string_view domain = "");
  // Convenience: single-output node, returns the output name.
  std::string op(std::string_view op, const std::vector<std::string>& inputs) { return node(op, inputs).out(); }
  std::string initializer(const ConstData& c, std::string_view hint = "const");
  std::string constI64(const std::vector<int64_t>& v, bool scalar = false);
  std::string constF32(const std::vector<float>& v, bool scalar = false);
  std::string constScalar(int32_t onnx_type, double v);
  std::string cast(const std::string& x, int32_t from, int32_t to);
  onnx::GraphProto* graph() { return g_; }
  void setLayerHint(std::string h) { hint_ = std::move(h); }

 private:
  onnx::GraphProto* g_;
  uint64_t counter_ = 0;
  std::string hint_;
};

}  // namespace ovms::engine::ir
