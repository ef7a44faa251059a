// QDQ rewrites of the translated graph (see qdq_rewrite.h). ONNX Runtime fuses DequantizeLinear -> Conv ->
// [Relu] -> QuantizeLinear into QLinearConv (u8 activations x s8 weights: VNNI/AMX kernels) only when
//  * the weights come from a DequantizeLinear of an int8 constant: IR weights arrive as Convert(i8) -> Subtract(zp)
//    -> Multiply(scale) (or as a constant FakeQuantize, which quantization.cpp already emits as DequantizeLinear);
//  * the Conv's bias is its third input (IR: a separate Add of a constant) as a DequantizeLinear of int32 with scale
//    s_x * s_w, and the Conv's only consumer is the QuantizeLinear (or a Relu made redundant by it);
//  * every input is a DequantizeLinear: OpenVINO puts FakeQuantize before MaxPool and Concat, so the
//    DequantizeLinear is moved past those (both commute with a per-tensor dequantization of positive scale).
// Constant DequantizeLinear nodes that end up with no integer consumer are folded back into float weights, so
// they are not recomputed on every request.
#include "engine/ir/qdq_rewrite.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

constexpr double kZeroPointTolerance = 1e-3;

std::optional<std::vector<double>> tensorValues(const TP& t) {
  int64_t n = 1;
  for (auto d : t.dims()) n *= d;
  if (n < 0 || n > (int64_t{1} << 31)) return std::nullopt;
  std::vector<double> v(static_cast<size_t>(n));
  const std::string& raw = t.raw_data();
  auto fromRaw = [&](auto sample) -> bool {
    using T = decltype(sample);
    if (raw.size() != v.size() * sizeof(T)) return false;
    for (size_t i = 0; i < v.size(); ++i) {
      T x;
      std::memcpy(&x, raw.data() + i * sizeof(T), sizeof(T));
      v[i] = static_cast<double>(x);
    }
    return true;
  };
  if (t.has_raw_data()) {
    bool ok = false;
    switch (t.data_type()) {
      case TP::FLOAT: ok = fromRaw(float{}); break;
      case TP::INT8: ok = fromRaw(int8_t{}); break;
      case TP::UINT8: ok = fromRaw(uint8_t{}); break;
      case TP::INT32: ok = fromRaw(int32_t{}); break;
      default: return std::nullopt;
    }
    if (!ok) return std::nullopt;
    return v;
  }
  if (t.data_type() == TP::FLOAT && t.float_data_size() == n) {
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = t.float_data(static_cast<int>(i));
    return v;
  }
  if ((t.data_type() == TP::INT8 || t.data_type() == TP::UINT8 || t.data_type() == TP::INT32) && t.int32_data_size() == n) {
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = t.int32_data(static_cast<int>(i));
    return v;
  }
  return std::nullopt;
}

std::vector<int64_t> dimsOf(const TP& t) { return {t.dims().begin(), t.dims().end()}; }

int64_t numel(const std::vector<int64_t>& d) {
  int64_t n = 1;
  for (auto x : d) n *= x;
  return n;
}

// The axis (in a tensor of rank `rank`) along which a constant of shape `s` varies: -1 when it has one element,
// nullopt when it varies along several axes or does not broadcast.
std::optional<int64_t> varyingAxis(const std::vector<int64_t>& s, int64_t rank, int64_t* channels) {
  int64_t axis = -1;
  *channels = 1;
  if (static_cast<int64_t>(s.size()) > rank) {
    for (size_t d = 0; d + static_cast<size_t>(rank) < s.size(); ++d)
      if (s[d] != 1) return std::nullopt;
  }
  for (size_t d = 0; d < s.size(); ++d) {
    if (s[d] == 1) continue;
    if (axis != -1) return std::nullopt;
    axis = rank - static_cast<int64_t>(s.size()) + static_cast<int64_t>(d);
    if (axis < 0) return std::nullopt;
    *channels = s[d];
  }
  return axis;
}

class Rewriter {
 public:
  explicit Rewriter(onnx::GraphProto& g) : g_(g) {}

  QdqRewriteStats run() {
    index();
    weightsToInt8();
    index();
    moveQuantizeBackward();
    index();
    moveDequantizeForward();
    index();
    foldConvBias();
    index();
    integerConvs();
    index();
    foldUnusedConstantDequantize();
    cleanup();
    return stats_;
  }

 private:
  onnx::GraphProto& g_;
  QdqRewriteStats stats_;
  std::map<std::string, int> init_;       // initializer name -> index
  std::map<std::string, int> producer_;   // tensor -> node index
  std::map<std::string, std::vector<int>> consumers_;  // tensor -> node indices (one per use)
  std::set<std::string> graph_outputs_;
  std::set<int> removed_;
  uint64_t counter_ = 0;

  void index() {
    init_.clear();
    producer_.clear();
    consumers_.clear();
    graph_outputs_.clear();
    for (int i = 0; i < g_.initializer_size(); ++i) init_[g_.initializer(i).name()] = i;
    for (int i = 0; i < g_.node_size(); ++i) {
      if (removed_.count(i)) continue;
      const auto& n = g_.node(i);
      for (const auto& o : n.output())
        if (!o.empty()) producer_[o] = i;
      for (const auto& in : n.input())
        if (!in.empty()) consumers_[in].push_back(i);
    }
    for (const auto& o : g_.output()) graph_outputs_.insert(o.name());
  }

  std::string fresh(const std::string& hint) { return "qdq" + std::to_string(counter_++) + "_" + hint.substr(0, 40); }

  const TP* initializer(const std::string& name) const {
    auto it = init_.find(name);
    return it == init_.end() ? nullptr : &g_.initializer(it->second);
  }

  const onnx::NodeProto* producer(const std::string& name, const char* op) const {
    auto it = producer_.find(name);
    if (it == producer_.end()) return nullptr;
    const auto& n = g_.node(it->second);
    return n.op_type() == op && n.domain().empty() ? &n : nullptr;
  }

  int uses(const std::string& name) const {
    auto it = consumers_.find(name);
    return (it == consumers_.end() ? 0 : static_cast<int>(it->second.size())) + (graph_outputs_.count(name) ? 1 : 0);
  }

  std::string addInitializer(int32_t type, const std::vector<int64_t>& dims, const std::vector<double>& v,
                             const std::string& hint) {
    auto* t = g_.add_initializer();
    std::string name = fresh(hint);
    t->set_name(name);
    t->set_data_type(type);
    for (auto d : dims) t->add_dims(d);
    std::string raw;
    auto put = [&](auto x) { raw.append(reinterpret_cast<const char*>(&x), sizeof(x)); };
    raw.reserve(v.size() * 4);
    for (double x : v) {
      switch (type) {
        case TP::FLOAT: put(static_cast<float>(x)); break;
        case TP::INT8: put(static_cast<int8_t>(x)); break;
        case TP::UINT8: put(static_cast<uint8_t>(x)); break;
        case TP::INT32: put(static_cast<int32_t>(x)); break;
        default: break;
      }
    }
    t->set_raw_data(raw);
    init_[name] = g_.initializer_size() - 1;
    return name;
  }

  onnx::NodeProto* addNode(const std::string& op, const std::vector<std::string>& inputs, const std::string& output) {
    auto* n = g_.add_node();
    n->set_op_type(op);
    n->set_name(fresh(op));
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(output);
    return n;
  }

  static int64_t intAttr(const onnx::NodeProto& n, const char* name, int64_t def) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return a.i();
    return def;
  }

  // Scale, zero point and axis of a DequantizeLinear whose parameters are constants.
  struct DqParams {
    std::vector<double> scale, zero;
    int64_t axis = 1;
    int32_t type = 0;  // type of the quantized input
    bool per_tensor() const { return scale.size() == 1; }
  };

  std::optional<DqParams> dqParams(const onnx::NodeProto& dq) const {
    if (dq.input_size() < 2) return std::nullopt;
    const TP* s = initializer(dq.input(1));
    if (!s) return std::nullopt;
    DqParams p;
    auto sv = tensorValues(*s);
    if (!sv) return std::nullopt;
    p.scale = *sv;
    if (dq.input_size() >= 3 && !dq.input(2).empty()) {
      const TP* z = initializer(dq.input(2));
      if (!z) return std::nullopt;
      auto zv = tensorValues(*z);
      if (!zv || zv->size() != p.scale.size()) return std::nullopt;
      p.zero = *zv;
      p.type = z->data_type();
    } else {
      p.zero.assign(p.scale.size(), 0.0);
    }
    if (const TP* x = initializer(dq.input(0))) p.type = x->data_type();
    p.axis = intAttr(dq, "axis", 1);
    return p;
  }

  bool sameParams(const onnx::NodeProto& a, const onnx::NodeProto& b) const {
    auto pa = dqParams(a), pb = dqParams(b);
    if (!pa || !pb || !pa->per_tensor() || !pb->per_tensor()) return false;
    if (pa->type != pb->type || pa->type == 0) return false;
    return static_cast<float>(pa->scale[0]) == static_cast<float>(pb->scale[0]) && pa->zero[0] == pb->zero[0];
  }

  // ---------------------------------------------------------------------------------------------------------
  // Multiply(Subtract(A, Z), S) or Multiply(A, S), A an integer-valued constant (a folded Convert of i8/u8),
  // feeding a Conv/MatMul/Gemm weight input -> DequantizeLinear(int8 A, S, Z).
  void weightsToInt8() {
    int n_nodes = g_.node_size();
    for (int i = 0; i < n_nodes; ++i) {
      auto* n = g_.mutable_node(i);
      if (!n->domain().empty()) continue;
      const std::string& op = n->op_type();
      if ((op != "Conv" && op != "MatMul" && op != "Gemm") || n->input_size() < 2) continue;
      std::string dq = weightChainToDq(n->input(1));
      if (!dq.empty()) {
        n->set_input(1, dq);
        ++stats_.weights_to_int8;
      }
    }
  }

  // `reshape_to`: the chain feeds a Reshape to these dims (grouped convolution weights [G, O/G, I, k..] ->
  // [O, I, k..]); the int8 constant takes them, which keeps per-channel axis 0 only when its size is unchanged.
  std::string weightChainToDq(const std::string& w, const std::vector<int64_t>* reshape_to = nullptr) {
    if (!reshape_to) {
      if (const onnx::NodeProto* rs = producer(w, "Reshape")) {
        if (rs->input_size() != 2) return "";
        const TP* shape = initializer(rs->input(1));
        if (!shape || shape->data_type() != TP::INT64) return "";
        std::vector<int64_t> dims(static_cast<size_t>(shape->raw_data().size() / 8));
        if (dims.empty() || shape->raw_data().size() != dims.size() * 8) return "";
        std::memcpy(dims.data(), shape->raw_data().data(), shape->raw_data().size());
        return weightChainToDq(rs->input(0), &dims);
      }
    }
    const onnx::NodeProto* mul = producer(w, "Mul");
    if (!mul || mul->input_size() != 2) return "";
    int si = initializer(mul->input(1)) ? 1 : (initializer(mul->input(0)) ? 0 : -1);
    if (si < 0) return "";
    const TP* scale = initializer(mul->input(si));
    const std::string& other = mul->input(1 - si);
    const TP* a = initializer(other);
    const TP* zp = nullptr;
    if (!a) {
      const onnx::NodeProto* sub = producer(other, "Sub");
      if (!sub || sub->input_size() != 2) return "";
      a = initializer(sub->input(0));
      zp = initializer(sub->input(1));
      if (!a || !zp) return "";
    }
    if (a->data_type() != TP::FLOAT || scale->data_type() != TP::FLOAT || (zp && zp->data_type() != TP::FLOAT)) return "";
    auto av = tensorValues(*a);
    auto sv = tensorValues(*scale);
    if (!av || !sv) return "";
    std::vector<int64_t> adims = dimsOf(*a);
    const int64_t rank = static_cast<int64_t>(adims.size());
    if (rank == 0) return "";
    int64_t s_ch = 1, z_ch = 1;
    auto s_axis = varyingAxis(dimsOf(*scale), rank, &s_ch);
    if (!s_axis) return "";
    std::vector<double> zv(1, 0.0);
    std::optional<int64_t> z_axis = -1;
    if (zp) {
      auto z = tensorValues(*zp);
      if (!z) return "";
      zv = *z;
      z_axis = varyingAxis(dimsOf(*zp), rank, &z_ch);
      if (!z_axis) return "";
    }
    int64_t axis = std::max(*s_axis, *z_axis);
    if ((*s_axis != -1 && *s_axis != axis) || (*z_axis != -1 && *z_axis != axis)) return "";
    int64_t channels = axis < 0 ? 1 : adims[static_cast<size_t>(axis)];
    if ((s_ch != 1 && s_ch != channels) || (z_ch != 1 && z_ch != channels)) return "";
    // the product must keep A's shape (scale/zero point broadcast into it)
    if (numel(dimsOf(*scale)) > channels || numel(zp ? dimsOf(*zp) : std::vector<int64_t>{}) > channels) return "";
    // integer values in int8 or uint8 range; uint8 is shifted to int8 (both values and zero point)
    double lo = std::numeric_limits<double>::max(), hi = std::numeric_limits<double>::lowest();
    for (double x : *av) {
      if (x != std::nearbyint(x)) return "";
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    double shift = 0;
    if (lo >= -128 && hi <= 127) shift = 0;
    else if (lo >= 0 && hi <= 255) shift = 128;
    else return "";
    std::vector<double> scales(static_cast<size_t>(channels)), zeros(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
      double s = (*sv)[sv->size() == 1 ? 0 : static_cast<size_t>(c)];
      double z = zv[zv.size() == 1 ? 0 : static_cast<size_t>(c)];
      double zr = std::nearbyint(z);
      if (!(s > 0) || !std::isfinite(s) || std::fabs(z - zr) > kZeroPointTolerance) return "";
      zr -= shift;
      if (zr < -128 || zr > 127) return "";
      scales[static_cast<size_t>(c)] = s;
      zeros[static_cast<size_t>(c)] = zr;
    }
    if (reshape_to) {
      std::vector<int64_t> nd = *reshape_to;
      int64_t total = numel(adims), known = 1, infer_at = -1;
      for (size_t d = 0; d < nd.size(); ++d) {
        if (nd[d] == 0 && d < adims.size()) nd[d] = adims[d];
        if (nd[d] == -1) {
          if (infer_at >= 0) return "";
          infer_at = static_cast<int64_t>(d);
        } else {
          if (nd[d] <= 0) return "";
          known *= nd[d];
        }
      }
      if (infer_at >= 0) {
        if (known <= 0 || total % known) return "";
        nd[static_cast<size_t>(infer_at)] = total / known;
      }
      if (numel(nd) != total) return "";
      if (axis > 0 || (axis == 0 && nd[0] != channels)) return "";
      adims = nd;
    }
    std::vector<double> q(av->size());
    for (size_t k = 0; k < q.size(); ++k) q[k] = (*av)[k] - shift;
    std::string qn = addInitializer(TP::INT8, adims, q, "wq");
    std::vector<int64_t> pdims;
    if (axis >= 0) pdims.push_back(channels);
    std::string sn = addInitializer(TP::FLOAT, pdims, scales, "ws");
    std::string zn = addInitializer(TP::INT8, pdims, zeros, "wz");
    std::string out = fresh("w");
    auto* dq = addNode("DequantizeLinear", {qn, sn, zn}, out);
    if (axis >= 0) {
      auto* at = dq->add_attribute();
      at->set_name("axis");
      at->set_type(onnx::AttributeProto::INT);
      at->set_i(axis);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------------------
  // MaxPool(DQ(q)) -> DQ(MaxPool(q)); Concat(DQ(q1), DQ(q2), ...) -> DQ(Concat(q1, q2, ...)) when the
  // dequantizations are per-tensor, identical and of positive scale. Repeated until nothing moves (chains).
  void moveDequantizeForward() {
    for (bool changed = true; changed;) {
      changed = false;
      int n_nodes = g_.node_size();
      for (int i = 0; i < n_nodes; ++i) {
        if (removed_.count(i)) continue;
        auto* n = g_.mutable_node(i);
        if (!n->domain().empty() || n->output_size() != 1) continue;
        bool pool = n->op_type() == "MaxPool";
        bool concat = n->op_type() == "Concat";
        if (!pool && !concat) continue;
        if (n->input_size() < 1) continue;
        std::vector<const onnx::NodeProto*> dqs;
        for (const auto& in : n->input()) {
          const onnx::NodeProto* dq = producer(in, "DequantizeLinear");
          if (!dq || uses(in) != 1) break;
          auto p = dqParams(*dq);
          if (!p || !p->per_tensor() || !(p->scale[0] > 0) || initializer(dq->input(0))) break;
          dqs.push_back(dq);
        }
        if (dqs.size() != static_cast<size_t>(n->input_size())) continue;
        if (pool && n->input_size() != 1) continue;
        bool same = true;
        for (size_t k = 1; k < dqs.size(); ++k) same = same && sameParams(*dqs[0], *dqs[k]);
        if (!same) continue;
        const onnx::NodeProto first = *dqs[0];
        for (int k = 0; k < n->input_size(); ++k) n->set_input(k, dqs[static_cast<size_t>(k)]->input(0));
        for (const auto* dq : dqs) removed_.insert(producer_.at(dq->output(0)));
        std::string out = n->output(0);
        std::string qout = fresh(n->op_type() + "_q");
        n->set_output(0, qout);
        std::vector<std::string> ins = {qout};
        for (int k = 1; k < first.input_size(); ++k) ins.push_back(first.input(k));
        addNode("DequantizeLinear", ins, out);
        ++stats_.dq_moved;
        changed = true;
        index();
        n_nodes = g_.node_size();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // MaxPool -> QuantizeLinear (MaxPool's only consumer, per-tensor, positive scale) -> QuantizeLinear -> MaxPool on
  // uint8: OpenVINO quantizes after the pooling of Conv -> ReLU -> MaxPool, where the Conv then has no
  // QuantizeLinear of its own.
  void moveQuantizeBackward() {
    for (bool changed = true; changed;) {
      changed = false;
      int n_nodes = g_.node_size();
      for (int i = 0; i < n_nodes && !changed; ++i) {
        if (removed_.count(i)) continue;
        const auto& q = g_.node(i);
        if (q.op_type() != "QuantizeLinear" || !q.domain().empty() || q.input_size() < 3) continue;
        auto pit = producer_.find(q.input(0));
        if (pit == producer_.end() || removed_.count(pit->second)) continue;
        const int pi = pit->second;
        const auto& prev = g_.node(pi);
        if (!prev.domain().empty() || prev.output_size() != 1 || uses(prev.output(0)) != 1) continue;
        auto p = dqParams(q);  // same layout of scale / zero point inputs as a DequantizeLinear
        if (!p || !p->per_tensor() || !(p->scale[0] > 0)) continue;
        if (prev.op_type() == "Relu" && p->type == TP::UINT8 && p->zero[0] == 0) {
          // uint8 with zero point 0 saturates negatives to 0 itself: Relu -> Q is Q
          g_.mutable_node(i)->set_input(0, prev.input(0));
          removed_.insert(pi);
        } else if (prev.op_type() == "MaxPool") {
          std::string qout = fresh("pool_q");
          std::vector<std::string> ins = {prev.input(0)};
          for (int k = 1; k < q.input_size(); ++k) ins.push_back(q.input(k));
          std::string q_out = q.output(0);
          addNode("QuantizeLinear", ins, qout);
          auto* mp = g_.mutable_node(pi);
          mp->set_input(0, qout);
          mp->set_output(0, q_out);
          removed_.insert(i);
        } else {
          continue;
        }
        ++stats_.q_moved;
        changed = true;
        index();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Conv(X, W) -> Add(., C) with C a constant of one value per output channel -> Conv(X, W, C).
  std::optional<int64_t> outputChannels(const std::string& w) const {
    if (const TP* t = initializer(w)) return t->dims_size() > 0 ? std::optional<int64_t>(t->dims(0)) : std::nullopt;
    if (const onnx::NodeProto* dq = producer(w, "DequantizeLinear"))
      if (const TP* t = initializer(dq->input(0))) return t->dims_size() > 0 ? std::optional<int64_t>(t->dims(0)) : std::nullopt;
    return std::nullopt;
  }

  void foldConvBias() {
    int n_nodes = g_.node_size();
    for (int i = 0; i < n_nodes; ++i) {
      if (removed_.count(i)) continue;
      auto* conv = g_.mutable_node(i);
      if (conv->op_type() != "Conv" || !conv->domain().empty() || conv->input_size() != 2 || conv->output_size() != 1) continue;
      const std::string& y = conv->output(0);
      if (uses(y) != 1 || graph_outputs_.count(y)) continue;
      auto cit = consumers_.find(y);
      if (cit == consumers_.end() || cit->second.size() != 1) continue;
      int add_idx = cit->second[0];
      auto* add = g_.mutable_node(add_idx);
      if (add->op_type() != "Add" || !add->domain().empty() || add->input_size() != 2) continue;
      const std::string& cname = add->input(0) == y ? add->input(1) : add->input(0);
      const TP* c = initializer(cname);
      if (!c || c->data_type() != TP::FLOAT) continue;
      auto k = outputChannels(conv->input(1));
      if (!k) continue;
      // C must broadcast as [1, K, 1, ...] against the Conv output (rank = weight rank), not change its shape
      std::vector<int64_t> cd = dimsOf(*c);
      int64_t rank = -1;
      if (const TP* t = initializer(conv->input(1))) rank = t->dims_size();
      else if (const onnx::NodeProto* dq = producer(conv->input(1), "DequantizeLinear")) rank = initializer(dq->input(0))->dims_size();
      int64_t ch = 1;
      auto axis = varyingAxis(cd, rank, &ch);
      if (!axis || static_cast<int64_t>(cd.size()) > rank) continue;
      if (*axis != -1 && (*axis != 1 || ch != *k)) continue;
      auto cv = tensorValues(*c);
      if (!cv) continue;
      std::vector<double> b(static_cast<size_t>(*k), (*cv)[0]);
      if (*axis == 1) b = *cv;
      conv->add_input(addInitializer(TP::FLOAT, {*k}, b, "bias"));
      conv->set_output(0, add->output(0));
      removed_.insert(add_idx);
      ++stats_.biases_folded;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // A Conv in QDQ form: DQ(u8, per-tensor) input, DQ(int8 constant) weights, sole consumer a QuantizeLinear
  // (directly or behind a Relu). Its float bias becomes DQ(int32, s_x * s_w).
  std::set<std::string> integer_weight_dqs_;  // outputs of constant DQs that an integer kernel consumes

  bool feedsQuantize(const std::string& y) const {
    if (graph_outputs_.count(y) || uses(y) != 1) return false;
    const auto& n = g_.node(consumers_.at(y)[0]);
    if (n.op_type() == "QuantizeLinear" && n.domain().empty()) return true;
    if (n.op_type() == "Relu" && n.domain().empty()) {
      const std::string& r = n.output(0);
      if (graph_outputs_.count(r) || uses(r) != 1) return false;
      const auto& q = g_.node(consumers_.at(r)[0]);
      return q.op_type() == "QuantizeLinear" && q.domain().empty();
    }
    return false;
  }

  // DequantizeLinear(int8, per output channel, zero point 0) of float weights W when every W[c] is an integer
  // multiple (|q| <= 127) of one scale; "" otherwise.
  std::string exactInt8Weights(const std::string& name) {
    const TP* w = initializer(name);
    if (!w || w->data_type() != TP::FLOAT || w->dims_size() < 2) return "";
    auto v = tensorValues(*w);
    if (!v || v->empty()) return "";
    std::vector<int64_t> dims = dimsOf(*w);
    const int64_t k = dims[0], per = static_cast<int64_t>(v->size()) / k;
    std::vector<double> q(v->size()), scales(static_cast<size_t>(k)), zeros(static_cast<size_t>(k), 0.0);
    for (int64_t c = 0; c < k; ++c) {
      double m = 0;
      for (int64_t i = 0; i < per; ++i) m = std::max(m, std::fabs((*v)[static_cast<size_t>(c * per + i)]));
      // W[c] = q * s with max|q| = j for some j <= 127: try j from 127 down (a wrong j fails on its first elements)
      bool found = m == 0;
      if (found) scales[static_cast<size_t>(c)] = 1.0;
      for (int j = 127; j >= 1 && !found; --j) {
        float s = static_cast<float>(m / j);
        bool ok = s > 0;
        for (int64_t i = 0; i < per && ok; ++i) {
          size_t at = static_cast<size_t>(c * per + i);
          double r = (*v)[at] / s, rr = std::nearbyint(r);
          ok = std::fabs(r - rr) <= kZeroPointTolerance && rr >= -127 && rr <= 127 &&
               std::fabs(static_cast<float>(rr) * s - (*v)[at]) <= 1e-6 * std::fabs((*v)[at]);
          q[at] = rr;
        }
        if (ok) {
          found = true;
          scales[static_cast<size_t>(c)] = s;
        }
      }
      if (!found) return "";
      if (m == 0)
        for (int64_t i = 0; i < per; ++i) q[static_cast<size_t>(c * per + i)] = 0;
    }
    std::string qn = addInitializer(TP::INT8, dims, q, "wq");
    std::string sn = addInitializer(TP::FLOAT, {k}, scales, "ws");
    std::string zn = addInitializer(TP::INT8, {k}, zeros, "wz");
    std::string out = fresh("w");
    auto* dq = addNode("DequantizeLinear", {qn, sn, zn}, out);
    auto* at = dq->add_attribute();
    at->set_name("axis");
    at->set_type(onnx::AttributeProto::INT);
    at->set_i(0);
    return out;
  }

  void integerConvs() {
    int n_nodes = g_.node_size();
    for (int i = 0; i < n_nodes; ++i) {
      if (removed_.count(i)) continue;
      auto* n = g_.mutable_node(i);
      if (!n->domain().empty()) continue;
      const std::string& op = n->op_type();
      if (op != "Conv" && op != "MatMul" && op != "Gemm") continue;
      if (n->input_size() < 2) continue;
      const onnx::NodeProto* xdq = producer(n->input(0), "DequantizeLinear");
      if (!xdq) continue;
      if (op == "Conv" && initializer(n->input(1)) && feedsQuantize(n->output(0))) {
        // float weights that are exactly per-channel int8 (a folded constant FakeQuantize, e.g. behind a grouped
        // convolution's reshape) get their DequantizeLinear back
        std::string dq = exactInt8Weights(n->input(1));
        if (!dq.empty()) {
          n = g_.mutable_node(i);
          n->set_input(1, dq);
          index();
        }
      }
      const onnx::NodeProto* wdq = producer(n->input(1), "DequantizeLinear");
      if (!wdq) continue;
      auto xp = dqParams(*xdq);
      auto wp = dqParams(*wdq);
      if (!xp || !wp || !xp->per_tensor() || xp->type != TP::UINT8 || wp->type != TP::INT8 || !initializer(wdq->input(0)))
        continue;
      if (op == "Conv") {
        if (!feedsQuantize(n->output(0))) continue;
        if (!wp->per_tensor() && wp->axis != 0) continue;
        if (n->input_size() >= 3 && !n->input(2).empty()) {
          const TP* b = initializer(n->input(2));
          if (!b) continue;
          auto bv = tensorValues(*b);
          if (!bv) continue;
          std::vector<double> bs(bv->size()), bq(bv->size());
          bool ok = true;
          for (size_t c = 0; c < bv->size() && ok; ++c) {
            float s = static_cast<float>(xp->scale[0]) * static_cast<float>(wp->scale[wp->per_tensor() ? 0 : c]);
            double q = std::nearbyint((*bv)[c] / static_cast<double>(s));
            ok = s > 0 && std::fabs(q) < 2147483647.0;
            bs[c] = s;
            bq[c] = q;
          }
          if (!ok) continue;
          int64_t k = static_cast<int64_t>(bv->size());
          std::string bqn = addInitializer(TP::INT32, {k}, bq, "bq");
          std::string bsn = addInitializer(TP::FLOAT, {k}, bs, "bs");
          std::string out = fresh("b");
          auto* dq = addNode("DequantizeLinear", {bqn, bsn}, out);
          auto* at = dq->add_attribute();
          at->set_name("axis");
          at->set_type(onnx::AttributeProto::INT);
          at->set_i(0);
          n = g_.mutable_node(i);
          n->set_input(2, out);
          integer_weight_dqs_.insert(out);
        }
        ++stats_.integer_convs;
      }
      integer_weight_dqs_.insert(n->input(1));
    }
  }

  // Constant DQs not consumed by an integer kernel -> float initializers.
  void foldUnusedConstantDequantize() {
    std::map<std::string, std::string> replace;  // dq output -> float initializer
    int n_nodes = g_.node_size();
    for (int i = 0; i < n_nodes; ++i) {
      if (removed_.count(i)) continue;
      const auto& n = g_.node(i);
      if (n.op_type() != "DequantizeLinear" || !n.domain().empty()) continue;
      if (integer_weight_dqs_.count(n.output(0)) && uses(n.output(0)) == 1) continue;
      const TP* q = initializer(n.input(0));
      if (!q) continue;
      auto qv = tensorValues(*q);
      auto p = dqParams(n);
      if (!qv || !p) continue;
      std::vector<int64_t> dims = dimsOf(*q);
      int64_t axis = p->axis < 0 ? p->axis + static_cast<int64_t>(dims.size()) : p->axis;
      int64_t inner = 1, ch = 1;
      if (!p->per_tensor()) {
        if (axis < 0 || axis >= static_cast<int64_t>(dims.size())) continue;
        ch = dims[static_cast<size_t>(axis)];
        if (ch != static_cast<int64_t>(p->scale.size())) continue;
        for (size_t d = static_cast<size_t>(axis) + 1; d < dims.size(); ++d) inner *= dims[d];
      }
      std::vector<double> f(qv->size());
      for (size_t k = 0; k < f.size(); ++k) {
        size_t c = p->per_tensor() ? 0 : static_cast<size_t>((static_cast<int64_t>(k) / inner) % ch);
        // as DequantizeLinear computes it: (q - zp) * scale in float
        f[k] = static_cast<float>(static_cast<float>((*qv)[k] - p->zero[c]) * static_cast<float>(p->scale[c]));
      }
      replace[n.output(0)] = addInitializer(TP::FLOAT, dims, f, "wf");
      removed_.insert(i);
      ++stats_.weights_back_to_float;
    }
    if (replace.empty()) return;
    for (int i = 0; i < g_.node_size(); ++i) {
      auto* n = g_.mutable_node(i);
      for (int k = 0; k < n->input_size(); ++k) {
        auto it = replace.find(n->input(k));
        if (it != replace.end()) n->set_input(k, it->second);
      }
    }
    for (const auto& [dq_out, init] : replace)
      if (graph_outputs_.count(dq_out)) {
        // keep the graph output's name: an Identity of the folded constant
        addNode("Identity", {init}, dq_out);
      }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Drops removed and dead nodes and unused initializers, and writes the nodes in topological order.
  void cleanup() {
    std::vector<onnx::NodeProto> nodes;
    for (int i = 0; i < g_.node_size(); ++i)
      if (!removed_.count(i)) nodes.push_back(g_.node(i));
    // dead nodes: outputs unused (repeat until stable)
    std::set<std::string> needed;
    for (const auto& o : g_.output()) needed.insert(o.name());
    std::vector<bool> live(nodes.size(), false);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t i = nodes.size(); i-- > 0;) {
        if (live[i]) continue;
        bool used = std::any_of(nodes[i].output().begin(), nodes[i].output().end(),
                                [&](const std::string& o) { return !o.empty() && needed.count(o); });
        if (!used) continue;
        live[i] = true;
        changed = true;
        for (const auto& in : nodes[i].input()) needed.insert(in);
      }
    }
    // topological order (Kahn, stable)
    std::map<std::string, size_t> prod;
    for (size_t i = 0; i < nodes.size(); ++i)
      if (live[i])
        for (const auto& o : nodes[i].output())
          if (!o.empty()) prod[o] = i;
    std::vector<int> indeg(nodes.size(), 0);
    std::vector<std::vector<size_t>> succ(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!live[i]) continue;
      for (const auto& in : nodes[i].input()) {
        auto it = prod.find(in);
        if (it == prod.end()) continue;
        succ[it->second].push_back(i);
        ++indeg[i];
      }
    }
    std::deque<size_t> ready;
    for (size_t i = 0; i < nodes.size(); ++i)
      if (live[i] && indeg[i] == 0) ready.push_back(i);
    std::vector<size_t> order;
    while (!ready.empty()) {
      size_t i = ready.front();
      ready.pop_front();
      order.push_back(i);
      for (size_t s : succ[i])
        if (--indeg[s] == 0) ready.push_back(s);
    }
    size_t n_live = static_cast<size_t>(std::count(live.begin(), live.end(), true));
    if (order.size() != n_live) return;  // a cycle cannot come from these rewrites; leave the graph as it is
    g_.clear_node();
    for (size_t i : order) *g_.add_node() = std::move(nodes[i]);
    // unused initializers
    std::set<std::string> used;
    for (const auto& n : g_.node())
      for (const auto& in : n.input()) used.insert(in);
    for (const auto& o : g_.output()) used.insert(o.name());
    auto* inits = g_.mutable_initializer();
    inits->erase(std::remove_if(inits->begin(), inits->end(), [&](const TP& t) { return !used.count(t.name()); }), inits->end());
  }
};

}  // namespace

namespace {
std::atomic<bool> g_emulation{false};
}  // namespace

void setFakeQuantizeEmulation(bool on) { g_emulation = on; }
bool fakeQuantizeEmulation() { return g_emulation; }

QdqRewriteStats rewriteForQdq(onnx::ModelProto& model) {
  if (g_emulation) return {};
  Rewriter r(*model.mutable_graph());
  return r.run();
}

}  // namespace ovms::engine::ir
