// Recurrent sequences: LSTMSequence (v5), GRUSequence (v5), RNNSequence (v5) -> ONNX LSTM / GRU / RNN; and the
// stateful ReadValue/Assign (v3, v6), whose variable becomes an explicit graph input / output pair
// (serving/stateful.h): ReadValue of variable `v` reads graph input `v_state` (its constant initial value is
// that input's initializer, absent = zeros), Assign writes graph output `v_state_out`. A server that keeps
// the state per sequence (a stateful model) feeds the one and stores the other.
//
// Differences handled here:
//  * layouts: OpenVINO X is [batch, seq, input], states [batch, num_directions, hidden], Y
//    [batch, num_directions, seq, hidden]; ONNX (layout 0) uses [seq, batch, input], [num_directions, batch, hidden]
//    and [seq, num_directions, batch, hidden].
//  * LSTM gate order: OpenVINO f, i, c, o; ONNX i, o, f, c. GRU gates are z, r, h in both.
//  * biases: OpenVINO has one bias per gate (GRU with linear_before_reset has a 4th, the recurrent bias of h);
//    ONNX takes [Wb, Rb] concatenated.
#include <algorithm>

#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

std::string transpose(NodeContext& c, const std::string& x, std::vector<int64_t> perm) {
  return c.g.node("Transpose", {x}).attr("perm", perm).out();
}

std::vector<std::string> splitGates(NodeContext& c, const std::string& x, int n) {
  auto s = c.g.node("Split", {x}, n);
  s.attr("axis", int64_t{1});
  std::vector<std::string> r;
  for (int k = 0; k < n; ++k) r.push_back(s.out(k));
  return r;
}

std::string concat1(NodeContext& c, const std::vector<std::string>& parts) { return c.g.node("Concat", parts).attr("axis", int64_t{1}).out(); }

std::string zerosLike(NodeContext& c, const std::string& x, int32_t t) {
  // ConstantOfShape defaults to float zeros; the graph computes in the input's float type.
  return c.g.cast(c.g.op("ConstantOfShape", {c.g.op("Shape", {x})}), TP::FLOAT, t);
}

std::string onnxActivation(NodeContext& c, std::string a) {
  for (auto& ch : a) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (a == "sigmoid") return "Sigmoid";
  if (a == "tanh") return "Tanh";
  if (a == "relu") return "Relu";
  c.fail("unsupported activation '" + a + "'");
}

std::vector<std::string> listAttr(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (ch != ' ') {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

enum class Cell { lstm, gru, rnn };

std::vector<Value> sequence(NodeContext& c, Cell cell) {
  const bool lstm = cell == Cell::lstm;
  // LSTM: X, H0, C0, seq_len, W, R, B; GRU/RNN: X, H0, seq_len, W, R, B
  c.requireInputs(lstm ? 7 : 6, lstm ? 7 : 6);
  const Value& x = c.in(0);
  if (!isFloatOnnx(x.type)) c.fail("only floating point inputs are supported");
  int32_t t = x.type;
  size_t iw = lstm ? 4 : 3;
  int64_t hidden = c.iReq("hidden_size");
  std::string dir = c.str("direction", "forward");
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional") c.fail("unsupported direction '" + dir + "'");
  int64_t nd = dir == "bidirectional" ? 2 : 1;
  std::vector<std::string> defaults = cell == Cell::lstm ? std::vector<std::string>{"sigmoid", "tanh", "tanh"}
                                     : cell == Cell::gru ? std::vector<std::string>{"sigmoid", "tanh"}
                                                         : std::vector<std::string>{"tanh"};
  auto acts = c.has("activations") ? listAttr(c.str("activations", "")) : defaults;
  if (acts.size() != defaults.size()) c.fail("expects " + std::to_string(defaults.size()) + " activations");
  auto alpha = c.floats("activations_alpha"), beta = c.floats("activations_beta");
  if (!alpha.empty() || !beta.empty()) c.fail("activations_alpha/activations_beta are not supported");
  std::vector<std::string> onnx_acts;
  for (int64_t d = 0; d < nd; ++d)
    for (const auto& a : acts) onnx_acts.push_back(onnxActivation(c, a));
  double clip = c.f("clip", 0.0);

  std::string W = castTo(c.g, c.in(iw), t), R = castTo(c.g, c.in(iw + 1), t), B = castTo(c.g, c.in(iw + 2), t);
  std::string Bfull;
  if (cell == Cell::lstm) {
    auto reorder = [&](const std::string& m) {
      auto g = splitGates(c, m, 4);  // f, i, c, o
      return concat1(c, {g[1], g[3], g[0], g[2]});  // i, o, f, c
    };
    W = reorder(W);
    R = reorder(R);
    B = reorder(B);
    Bfull = concat1(c, {B, zerosLike(c, B, t)});
  } else if (cell == Cell::gru) {
    if (c.b("linear_before_reset", false)) {
      auto g = splitGates(c, B, 4);  // bz, br, Wbh, Rbh
      std::string z = zerosLike(c, g[0], t);
      Bfull = concat1(c, {g[0], g[1], g[2], z, z, g[3]});
    } else {
      Bfull = concat1(c, {B, zerosLike(c, B, t)});
    }
  } else {
    Bfull = concat1(c, {B, zerosLike(c, B, t)});
  }
  std::string X = transpose(c, x.name, {1, 0, 2});
  std::string H0 = transpose(c, castTo(c.g, c.in(1), t), {1, 0, 2});
  std::string seq = castTo(c.g, c.in(lstm ? 3 : 2), TP::INT32);
  std::vector<std::string> ins{X, W, R, Bfull, seq, H0};
  if (lstm) ins.push_back(transpose(c, castTo(c.g, c.in(2), t), {1, 0, 2}));
  const char* op = cell == Cell::lstm ? "LSTM" : cell == Cell::gru ? "GRU" : "RNN";
  auto n = c.g.node(op, ins, lstm ? 3 : 2);
  n.attr("hidden_size", hidden).attr("direction", dir);
  {  // NodeBuilder has no string-list attribute; add it directly.
    auto* a = n.proto()->add_attribute();
    a->set_name("activations");
    a->set_type(onnx::AttributeProto::STRINGS);
    for (const auto& s : onnx_acts) a->add_strings(s);
  }
  if (clip > 0) n.attr("clip", static_cast<float>(clip));
  if (cell == Cell::gru && c.b("linear_before_reset", false)) n.attr("linear_before_reset", int64_t{1});
  std::vector<Value> outs;
  Value y = c.out(transpose(c, n.out(0), {2, 1, 0, 3}), t, 0);
  y.ir_type = x.ir_type;
  outs.push_back(y);
  for (int k = 1; k < (lstm ? 3 : 2); ++k) {
    Value h = c.out(transpose(c, n.out(k), {1, 0, 2}), t, static_cast<size_t>(k));
    h.ir_type = x.ir_type;
    outs.push_back(h);
  }
  return outs;
}

// `rank` < 0: unknown shape.
void declareTensor(onnx::ValueInfoProto* vi, const std::string& name, int32_t type, int64_t rank,
                   const std::vector<int64_t>& dims) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(type);
  if (rank < 0) return;
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) {
    auto* dim = shape->add_dim();
    if (d >= 0) dim->set_dim_value(d);
  }
}

bool hasGraphInput(NodeContext& c, const std::string& name) {
  for (const auto& in : c.g.graph()->input())
    if (in.name() == name) return true;
  return false;
}

std::string variableId(NodeContext& c) {
  std::string id = c.strReq("variable_id");
  if (id.empty()) c.fail("empty variable_id");
  return id;
}

std::vector<Value> readValue(NodeContext& c) {
  c.requireInputs(c.layer.version == "opset6" ? 0 : 1, 1);
  const std::string input = variableId(c) + "_state";
  if (hasGraphInput(c, input)) c.fail("variable '" + variableId(c) + "' is read twice (or clashes with an input name)");
  int32_t type = 0;
  std::vector<int64_t> dims;
  if (c.numInputs() == 1) {
    const Value& init = c.in(0);
    type = init.type;
    if (!init.isConst())
      c.fail("the initial value of variable '" + variableId(c) +
             "' is computed at run time; only constant initial values (or none: zeros) are supported");
    dims = init.constant->dims;
    // The constant becomes the default value of the state input (ONNX: an initializer of an input's name).
    std::string tmp = c.g.initializer(*init.constant, "state_init");
    auto* inits = c.g.graph()->mutable_initializer();
    for (int i = inits->size() - 1; i >= 0; --i)
      if (inits->Get(i).name() == tmp) {
        inits->Mutable(i)->set_name(input);
        break;
      }
  } else {
    auto et = parseElemType(c.strReq("variable_type"));
    if (!et || *et == ElemType::undefined) c.fail("unsupported variable_type");
    type = computeOnnxType(*et);
    if (c.layer.outputs.empty()) c.fail("no output port");
    dims = c.layer.outputs[0].dims;
  }
  if (type == 0) c.fail("unknown element type of variable '" + variableId(c) + "'");
  declareTensor(c.g.graph()->add_input(), input, type, static_cast<int64_t>(dims.size()), dims);
  Value v = c.out(c.g.op("Identity", {input}), type, 0);
  v.rank = static_cast<int64_t>(dims.size());
  v.dims = dims;
  return {v};
}

std::vector<Value> assign(NodeContext& c) {
  c.requireInputs(1, 1);
  const std::string output = variableId(c) + "_state_out";
  for (const auto& o : c.g.graph()->output())
    if (o.name() == output) c.fail("variable '" + variableId(c) + "' is assigned twice");
  Value v = c.in(0);
  if (v.name.empty()) {
    if (!v.constant) c.fail("input 0 has no value");
    v.name = c.g.initializer(*v.constant, "assign_const");
  }
  auto* n = c.g.graph()->add_node();
  n->set_op_type("Identity");
  n->set_name(c.g.uniqueName("assign"));
  n->add_input(v.name);
  n->add_output(output);
  declareTensor(c.g.graph()->add_output(), output, v.type, v.rank, v.dims);
  std::vector<Value> outs;
  for (size_t k = 0; k < c.layer.outputs.size(); ++k) outs.push_back(v);
  return outs;
}

}  // namespace

void ovms_ir_register_recurrent(OpRegistry& r) {
  r.add("LSTMSequence", "opset5", [](NodeContext& c) { return sequence(c, Cell::lstm); });
  r.add("GRUSequence", "opset5", [](NodeContext& c) { return sequence(c, Cell::gru); });
  r.add("RNNSequence", "opset5", [](NodeContext& c) { return sequence(c, Cell::rnn); });
  for (const char* v : {"opset3", "opset6"}) {
    r.add("ReadValue", v, readValue);
    r.add("Assign", v, assign);
  }
}

}  // namespace ovms::engine::ir
