#pragma once
// Internal API of the IR -> ONNX translator: element types, constants, graph building, and the op registry.
//
// Adding an op family: create src/engine/ir/ops/<family>.cpp that defines
//     void ovms_ir_register_<family>(ovms::engine::ir::OpRegistry& r) { r.add("Type", "opset1", fn); ... }
// where <family> is the file name without extension. CMake generates the call list from the files in ops/,
// so no other file needs to change.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <onnx/onnx_pb.h>

#include "engine/ir/ir_model.h"

namespace ovms::engine::ir {

inline constexpr const char* kCustomDomain = "ovms.ir";
inline constexpr int64_t kOnnxOpset = 17;

// ---------------------------------------------------------------------------------------------------------
// Element types
enum class ElemType { undefined, f32, f16, bf16, f64, i4, i8, i16, i32, i64, u1, u4, u8, u16, u32, u64, boolean };

// Accepts IR element_type spellings ("f32", "i64", "boolean", ...) and port precisions ("FP32", "I64", "BOOL", ...).
std::optional<ElemType> parseElemType(std::string_view s);
const char* elemTypeName(ElemType t);
size_t elemBits(ElemType t);
// ONNX type used for computation in the translated graph (f16/bf16 compute as FLOAT; i4 -> INT8; u1/u4 -> UINT8).
int32_t computeOnnxType(ElemType t);
// ONNX type used on the public signature (f16 stays FLOAT16).
int32_t declaredOnnxType(ElemType t);
std::optional<ElemType> elemTypeFromOnnx(int32_t onnx_type);
size_t onnxTypeSize(int32_t onnx_type);
bool isFloatOnnx(int32_t t);
bool isIntegerOnnx(int32_t t);
const char* onnxTypeName(int32_t t);

// ---------------------------------------------------------------------------------------------------------
// Compile-time constant data, stored in its ONNX compute type.
struct ConstData {
  int32_t onnx_type = 0;
  std::vector<int64_t> dims;
  std::string_view bytes;                    // little-endian raw data (view into `owned` or the mapped .bin)
  std::shared_ptr<const std::string> owned;  // set when the data had to be converted

  int64_t numel() const;
  std::vector<int64_t> toInt64() const;
  std::vector<double> toDouble() const;
  static std::shared_ptr<ConstData> fromDoubles(int32_t onnx_type, std::vector<int64_t> dims, const std::vector<double>& v);
  static std::shared_ptr<ConstData> fromInt64(int32_t onnx_type, std::vector<int64_t> dims, const std::vector<int64_t>& v);
};

// A tensor in the ONNX graph under construction.
struct Value {
  std::string name;
  int32_t type = 0;          // ONNX element type in the graph
  ElemType ir_type = ElemType::undefined;  // element type the IR declares
  int64_t rank = -1;         // -1 = unknown
  std::vector<int64_t> dims; // size == rank when rank >= 0; -1 = unknown dim
  std::shared_ptr<const ConstData> constant;  // set when known at translation time
  bool isConst() const { return constant != nullptr; }
  bool staticShape() const;
};

// ---------------------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------------------
struct IrPort {
  int64_t id = 0;
  std::string precision;
  bool has_dims = false;          // false when the port lists no <dim> (scalar or unknown)
  std::vector<int64_t> dims;      // -1 = dynamic
  std::vector<std::string> names; // tensor names from the `names` attribute
};

struct IrLayer {
  int64_t id = 0;
  std::string name, type, version;
  std::map<std::string, std::string> attrs;
  std::vector<IrPort> inputs, outputs;
  std::string describe() const;   // "layer 'name' (type T, id N)"
};

class NodeContext {
 public:
  NodeContext(const IrLayer& l, GraphBuilder& gb, std::vector<Value> in, bool shapes_trusted)
      : layer(l), g(gb), inputs(std::move(in)), shapes_trusted_(shapes_trusted) {}

  const IrLayer& layer;
  GraphBuilder& g;
  std::vector<Value> inputs;
  std::vector<bool> output_used;  // per <output> port: consumed by another layer
  bool outputUsed(size_t i) const { return i >= output_used.size() || output_used[i]; }

  [[noreturn]] void fail(const std::string& reason) const;
  const Value& in(size_t i) const;
  size_t numInputs() const { return inputs.size(); }
  void requireInputs(size_t min, size_t max) const;

  bool has(const std::string& name) const;
  std::string str(const std::string& name, const std::string& def) const;
  std::string strReq(const std::string& name) const;
  int64_t i(const std::string& name, int64_t def) const;
  int64_t iReq(const std::string& name) const;
  double f(const std::string& name, double def) const;
  bool b(const std::string& name, bool def) const;
  // Comma separated list; empty string -> empty list.
  std::vector<int64_t> ints(const std::string& name, const std::vector<int64_t>& def = {}) const;
  std::vector<float> floats(const std::string& name, const std::vector<float>& def = {}) const;

  // Values of a constant input (fails if not constant).
  std::vector<int64_t> constInts(size_t input) const;
  std::vector<double> constDoubles(size_t input) const;
  // Rank of input i (from the value, falling back to the XML port); fails when unknown.
  int64_t rankOf(size_t input) const;

  // Builds the Value for output `index` (order of the layer's <output> ports): rank/dims from the XML port,
  // IR type from its precision when present, else from `type`.
  Value out(const std::string& name, int32_t type, size_t index = 0) const;
  ElemType outIrType(size_t index, int32_t fallback_onnx) const;

 private:
  bool shapes_trusted_;
};

using Translator = std::function<std::vector<Value>(NodeContext&)>;

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
