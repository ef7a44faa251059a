#pragma once
// One IR layer as parsed from the XML (IrLayer) and what a translator sees of it (NodeContext): attributes,
// inputs, and the Values of its outputs.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/ir/graph_builder.h"

namespace ovms::engine::ir {

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

}  // namespace ovms::engine::ir
