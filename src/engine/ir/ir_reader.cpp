// Reader of OpenVINO IR v10/v11 and the driver of the translation to ONNX.
//
// Naming of the tensors OVMS exposes (what OVMS 2022+ on OpenVINO 2022+ shows to clients):
//  * OVMS takes `ov::Output::get_any_name()` of each model input/output. OpenVINO keeps tensor names in a set
//    and get_any_name() returns the lexicographically smallest one (descriptor::Tensor keeps an iterator to the
//    smallest name when names are added). We do the same; for every fixture this is also the first name listed.
//  * IR v11: names come from the `names` attribute of the Parameter's output port, and for outputs from the
//    `names` of the port feeding the Result. The Result layer's own name (e.g. "fc_r", "prob/sink_port_0")
//    is only the friendly name of the Result node and is not a tensor name.
//  * IR v10 (legacy): OpenVINO's IR frontend adds, for compatibility with the old Inference Engine API, the
//    legacy name to the tensors: Parameters get their layer (friendly) name, and the tensor feeding each Result
//    gets the producer's friendly name, with ".<output index>" appended when the producer has several outputs
//    (ngraph's get_ie_output_name / create_ie_output_name). That is why the `dummy` test model (Add layer "a"
//    feeding Result "a/sink_port_0") is known to OVMS clients as output "a", not "a/sink_port_0"; the
//    `<layer>/sink_port_0` strings in the fixtures' SOURCES.md are Result layer names, not exposed tensor names.
//  * A tensor without any name (v11 `no_name_output`) gets OpenVINO's default tensor name
//    (ov::util::make_default_tensor_name): the producer's friendly name, plus ":<output index>" when the
//    producer has several outputs. For no_name_output this gives "ADD" and "MULTIPLY".
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <set>
#include <sstream>

#include <pugixml.hpp>

#include "engine/half.h"
#include "engine/ir/constant_folding.h"
#include "engine/ir/ir_model.h"
#include "engine/ir/op_registry.h"
#include "engine/ir/qdq_rewrite.h"

namespace ovms::engine::ir {

namespace {

using TP = onnx::TensorProto;

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

bool parseInt(const std::string& s, int64_t& out) {
  std::string t = trim(s);
  if (t.empty()) return false;
  try {
    size_t pos = 0;
    long long v = std::stoll(t, &pos);
    if (pos != t.size()) return false;
    out = v;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Parses "1,3,?,224", "1..10" (interval -> dynamic), "-1", "" (scalar). Returns false on malformed input.
bool parseShapeAttr(const std::string& s, std::vector<int64_t>& dims) {
  dims.clear();
  std::string t = trim(s);
  if (t.empty()) return true;
  std::stringstream ss(t);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    int64_t v;
    if (item == "?" || item.find("..") != std::string::npos) {
      dims.push_back(-1);
    } else if (parseInt(item, v) && v >= -1) {
      dims.push_back(v);
    } else {
      return false;
    }
  }
  return true;
}

// Splits the `names` attribute: comma separated, "\," escapes a comma.
std::vector<std::string> splitNames(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == ',') {
      cur += ',';
      ++i;
    } else if (s[i] == ',') {
      std::string t = trim(cur);
      if (!t.empty()) out.push_back(t);
      cur.clear();
    } else {
      cur += s[i];
    }
  }
  std::string t = trim(cur);
  if (!t.empty()) out.push_back(t);
  return out;
}

std::string smallestName(const std::vector<std::string>& names) {
  return *std::min_element(names.begin(), names.end());
}

struct MappedFile {
  void* addr = nullptr;
  size_t size = 0;
  int fd = -1;
  ~MappedFile() {
    if (addr && addr != MAP_FAILED) munmap(addr, size);
    if (fd >= 0) close(fd);
  }
};

std::string readTextFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IrError("cannot open IR file '" + path + "': " + std::strerror(errno));
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      throw IrError("cannot read IR file '" + path + "': " + std::strerror(e));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return data;
}

struct Edge {
  int64_t from_layer, from_port;
};

class IrTranslator {
 public:
  IrTranslator(std::string_view xml, std::string_view bin, const IrOptions& opt) : xml_(xml), bin_(bin), opt_(opt) {}

  IrTranslation run() {
    parse();
    order();
    build();
    rewriteForQdq(model_);  // integer kernels for FakeQuantize / INT8-compressed weights
    IrTranslation r;
    r.input_names = input_names_;
    r.output_names = output_names_;
    r.model_info = model_info_;
    if (!model_.SerializeToString(&r.onnx_model)) throw IrError("failed to serialize the translated ONNX model (too large?)");
    return r;
  }

 private:
  std::string_view xml_, bin_;
  const IrOptions& opt_;
  int version_ = 0;
  std::vector<IrLayer> layers_;
  std::map<int64_t, size_t> by_id_;
  std::map<std::pair<int64_t, int64_t>, Edge> edges_;  // (to_layer, to_port) -> from
  std::vector<size_t> topo_;
  std::set<std::pair<int64_t, int64_t>> consumed_;  // (layer, output port) feeding some edge
  onnx::ModelProto model_;
  std::vector<std::string> input_names_, output_names_;
  std::map<std::string, std::string> model_info_;
  bool shapes_trusted_ = true;

  // ---------------------------------------------------------------------------------------------------
  void parse() {
    pugi::xml_document doc;
    auto res = doc.load_buffer(xml_.data(), xml_.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!res) throw IrError(std::string("malformed IR XML: ") + res.description() + " at offset " + std::to_string(res.offset));
    auto net = doc.child("net");
    if (!net) throw IrError("malformed IR XML: no <net> element");
    int64_t ver = 0;
    if (!parseInt(net.attribute("version").as_string(""), ver)) throw IrError("IR <net> has no valid 'version' attribute");
    if (ver != 10 && ver != 11) throw IrError("unsupported IR version " + std::to_string(ver) + " (supported: 10, 11)");
    version_ = static_cast<int>(ver);
    auto layers = net.child("layers");
    if (!layers) throw IrError("malformed IR XML: no <layers>");
    for (auto l : layers.children("layer")) {
      IrLayer L;
      if (!parseInt(l.attribute("id").as_string(""), L.id)) throw IrError("layer without a valid id (name '" + std::string(l.attribute("name").as_string("")) + "')");
      L.name = l.attribute("name").as_string("");
      L.type = l.attribute("type").as_string("");
      L.version = l.attribute("version").as_string("opset1");
      if (L.type.empty()) throw IrError(L.describe() + ": missing type");
      // OpenVINO requires the attribute too; without it the layer's outputs would get empty ONNX names.
      if (L.name.empty()) throw IrError(L.describe() + ": missing name");
      if (auto d = l.child("data"))
        for (auto a : d.attributes()) L.attrs[a.name()] = a.value();
      auto parsePorts = [&](pugi::xml_node sect, std::vector<IrPort>& ports) {
        std::set<int64_t> seen;
        for (auto p : sect.children("port")) {
          IrPort P;
          if (!parseInt(p.attribute("id").as_string(""), P.id)) throw IrError(L.describe() + ": port without a valid id");
          if (!seen.insert(P.id).second) throw IrError(L.describe() + ": duplicated port id " + std::to_string(P.id));
          P.precision = p.attribute("precision").as_string("");
          P.names = splitNames(p.attribute("names").as_string(""));
          for (auto d : p.children("dim")) {
            P.has_dims = true;
            std::string t = trim(d.text().as_string(""));
            int64_t v;
            if (t == "?" || t.find("..") != std::string::npos) v = -1;
            else if (!parseInt(t, v) || v < -1) throw IrError(L.describe() + ": bad dimension '" + t + "' in port " + std::to_string(P.id));
            P.dims.push_back(v);
          }
          ports.push_back(std::move(P));
        }
      };
      if (auto in = l.child("input")) parsePorts(in, L.inputs);
      if (auto out = l.child("output")) parsePorts(out, L.outputs);
      if (by_id_.count(L.id)) throw IrError(L.describe() + ": duplicated layer id");
      by_id_[L.id] = layers_.size();
      layers_.push_back(std::move(L));
    }
    if (auto edges = net.child("edges")) {
      for (auto e : edges.children("edge")) {
        int64_t fl, fp, tl, tp;
        if (!parseInt(e.attribute("from-layer").as_string(""), fl) || !parseInt(e.attribute("from-port").as_string(""), fp) ||
            !parseInt(e.attribute("to-layer").as_string(""), tl) || !parseInt(e.attribute("to-port").as_string(""), tp))
          throw IrError("malformed <edge>: missing or non-integer attributes");
        auto fi = by_id_.find(fl), ti = by_id_.find(tl);
        if (fi == by_id_.end() || ti == by_id_.end())
          throw IrError("edge " + std::to_string(fl) + ":" + std::to_string(fp) + " -> " + std::to_string(tl) + ":" + std::to_string(tp) + " refers to a missing layer");
        const auto& F = layers_[fi->second];
        const auto& T = layers_[ti->second];
        if (std::none_of(F.outputs.begin(), F.outputs.end(), [&](const IrPort& p) { return p.id == fp; }))
          throw IrError(F.describe() + ": edge from a missing output port " + std::to_string(fp));
        if (std::none_of(T.inputs.begin(), T.inputs.end(), [&](const IrPort& p) { return p.id == tp; }))
          throw IrError(T.describe() + ": edge to a missing input port " + std::to_string(tp));
        consumed_.insert({fl, fp});
        if (!edges_.emplace(std::make_pair(tl, tp), Edge{fl, fp}).second)
          throw IrError(T.describe() + ": input port " + std::to_string(tp) + " has more than one incoming edge");
      }
    }
    for (const auto& L : layers_)
      for (const auto& p : L.inputs)
        if (!edges_.count({L.id, p.id})) throw IrError(L.describe() + ": input port " + std::to_string(p.id) + " has no incoming edge");
    // rt_info / model_info
    if (auto rt = net.child("rt_info")) {
      if (auto mi = rt.child("model_info")) collectInfo(mi, "", 0);
    }
  }

  void collectInfo(pugi::xml_node n, const std::string& prefix, int depth) {
    if (depth > 16) throw IrError("rt_info/model_info is nested too deeply");
    for (auto c : n.children()) {
      if (c.type() != pugi::node_element) continue;
      std::string key = c.name();
      if (std::string(c.name()) == "attribute" && c.attribute("name")) key = c.attribute("name").as_string();
      std::string full = prefix.empty() ? key : prefix + "." + key;
      if (c.attribute("value")) model_info_[full] = c.attribute("value").as_string();
      if (c.first_child()) collectInfo(c, full, depth + 1);
      else if (!c.attribute("value")) model_info_[full] = "";
    }
  }

  void order() {
    // Kahn's algorithm over layers; ties resolved by XML order.
    std::vector<int> indeg(layers_.size(), 0);
    std::vector<std::vector<size_t>> succ(layers_.size());
    for (const auto& [to, from] : edges_) {
      size_t t = by_id_[to.first], f = by_id_[from.from_layer];
      succ[f].push_back(t);
      indeg[t]++;
    }
    std::deque<size_t> q;
    for (size_t i = 0; i < layers_.size(); ++i)
      if (indeg[i] == 0) q.push_back(i);
    while (!q.empty()) {
      size_t i = q.front();
      q.pop_front();
      topo_.push_back(i);
      for (size_t s : succ[i])
        if (--indeg[s] == 0) q.push_back(s);
    }
    if (topo_.size() != layers_.size()) {
      for (size_t i = 0; i < layers_.size(); ++i)
        if (indeg[i] > 0) throw IrError("the IR graph has a cycle through " + layers_[i].describe());
    }
  }

  // ---------------------------------------------------------------------------------------------------
  std::string parameterName(const IrLayer& L) const {
    std::vector<std::string> names = L.outputs.empty() ? std::vector<std::string>{} : L.outputs[0].names;
    if (version_ == 10 && !L.name.empty()) names.push_back(L.name);
    if (names.empty()) names.push_back(L.name);
    return smallestName(names);
  }

  std::string resultName(const IrLayer& R) const {
    const Edge& e = edges_.at({R.id, R.inputs.at(0).id});
    const IrLayer& P = layers_[by_id_.at(e.from_layer)];
    size_t idx = 0;
    std::vector<std::string> names;
    for (size_t k = 0; k < P.outputs.size(); ++k)
      if (P.outputs[k].id == e.from_port) {
        idx = k;
        names = P.outputs[k].names;
      }
    if (version_ == 10) {
      std::string legacy = P.name;
      if (P.outputs.size() > 1) legacy += "." + std::to_string(idx);
      names.push_back(legacy);
    }
    if (names.empty()) {
      std::string def = P.name;
      if (P.outputs.size() > 1) def += ":" + std::to_string(idx);
      names.push_back(def);
    }
    return smallestName(names);
  }

  static void setShape(onnx::ValueInfoProto* vi, int32_t type, int64_t rank, const std::vector<int64_t>& dims) {
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    if (rank < 0) return;
    auto* sh = tt->mutable_shape();
    for (int64_t k = 0; k < rank; ++k) {
      auto* d = sh->add_dim();
      if (k < static_cast<int64_t>(dims.size()) && dims[k] >= 0) d->set_dim_value(dims[k]);
    }
  }

  Value makeConst(const IrLayer& L) {
    auto get = [&](const char* n) -> std::string {
      auto it = L.attrs.find(n);
      if (it == L.attrs.end()) throw IrError(L.describe() + ": missing attribute '" + n + "'");
      return it->second;
    };
    auto et = parseElemType(trim(get("element_type")));
    if (!et || *et == ElemType::undefined) throw IrError(L.describe() + ": unsupported element_type '" + get("element_type") + "'");
    std::vector<int64_t> dims;
    if (!parseShapeAttr(get("shape"), dims)) throw IrError(L.describe() + ": bad shape '" + get("shape") + "'");
    int64_t offset = 0, size = 0;
    if (!parseInt(get("offset"), offset) || offset < 0) throw IrError(L.describe() + ": bad offset");
    if (!parseInt(get("size"), size) || size < 0) throw IrError(L.describe() + ": bad size");
    // element count with overflow checks
    uint64_t numel = 1;
    for (auto d : dims) {
      if (d < 0) throw IrError(L.describe() + ": constant with a dynamic dimension");
      if (d != 0 && numel > (uint64_t{1} << 40) / static_cast<uint64_t>(d)) throw IrError(L.describe() + ": constant is too large");
      numel *= static_cast<uint64_t>(d);
    }
    uint64_t need = (numel * elemBits(*et) + 7) / 8;
    if (static_cast<uint64_t>(size) < need)
      throw IrError(L.describe() + ": size " + std::to_string(size) + " is smaller than the " + std::to_string(need) + " bytes its shape needs");
    if (static_cast<uint64_t>(offset) > bin_.size() || static_cast<uint64_t>(size) > bin_.size() - static_cast<uint64_t>(offset))
      throw IrError(L.describe() + ": data at offset " + std::to_string(offset) + " size " + std::to_string(size) +
                    " is outside the weights file (" + std::to_string(bin_.size()) + " bytes)");
    std::string_view raw = bin_.substr(static_cast<size_t>(offset), static_cast<size_t>(need));
    auto c = std::make_shared<ConstData>();
    c->dims = dims;
    c->onnx_type = computeOnnxType(*et);
    switch (*et) {
      case ElemType::f16: case ElemType::bf16: {
        auto s = std::make_shared<std::string>(numel * 4, '\0');
        for (uint64_t k = 0; k < numel; ++k) {
          uint16_t h;
          std::memcpy(&h, raw.data() + 2 * k, 2);
          float f = *et == ElemType::f16 ? halfToFloat(h) : bf16ToFloat(h);
          std::memcpy(s->data() + 4 * k, &f, 4);
        }
        c->owned = s;
        break;
      }
      case ElemType::u1: case ElemType::i4: case ElemType::u4: {
        auto s = std::make_shared<std::string>(numel, '\0');
        for (uint64_t k = 0; k < numel; ++k) {
          uint8_t byte = static_cast<uint8_t>(raw[(k * elemBits(*et)) / 8]);
          int8_t v;
          if (*et == ElemType::u1) v = static_cast<int8_t>((byte >> (7 - k % 8)) & 1);  // MSB first
          else {
            uint8_t nib = (k % 2 == 0) ? (byte & 0x0f) : (byte >> 4);
            v = *et == ElemType::i4 ? static_cast<int8_t>((nib & 0x8) ? nib - 16 : nib) : static_cast<int8_t>(nib);
          }
          (*s)[k] = static_cast<char>(v);
        }
        c->owned = s;
        break;
      }
      default:
        c->bytes = raw;  // zero-copy view into the mapped weights
    }
    if (c->owned) c->bytes = *c->owned;
    Value v;
    v.type = c->onnx_type;
    v.ir_type = *et;
    v.rank = static_cast<int64_t>(dims.size());
    v.dims = dims;
    v.constant = c;
    return v;
  }

  // Ops whose output sizes depend on the input values. IR v10 (the Model Optimizer of the static-shape Inference
  // Engine era) lists upper bounds for them (e.g. NonMaxSuppression's max_output_boxes_per_class), never their
  // shapes; IR v11 writes OpenVINO's inferred partial shapes, with -1 where a size is data-dependent.
  static bool dataDependentOutputs(const IrLayer& L, const std::vector<Value>& ins) {
    static const std::set<std::string> always = {"NonMaxSuppression", "NonZero", "Unique", "MulticlassNms", "MatrixNms",
                                                 "ExperimentalDetectronDetectionOutput"};
    if (always.count(L.type)) return true;
    if (L.type == "TopK") return ins.size() > 1 && !ins[1].isConst();  // k computed at run time
    return false;
  }

  void build() {
    model_.set_ir_version(8);
    model_.set_producer_name("ovms-ir-translator");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(kOnnxOpset);
    auto* op2 = model_.add_opset_import();
    op2->set_domain(kCustomDomain);
    op2->set_version(1);
    auto* graph = model_.mutable_graph();
    graph->set_name("ir");
    GraphBuilder g(graph);

    // Shape overrides: validate names and decide whether the XML's static dims stay valid.
    std::set<std::string> param_names;
    for (const auto& L : layers_)
      if (L.type == "Parameter") param_names.insert(parameterName(L));
    for (const auto& [n, s] : opt_.input_shapes)
      if (!param_names.count(n)) throw IrError("shape requested for '" + n + "', which is not an input of the model");

    std::map<std::pair<int64_t, int64_t>, Value> values;  // (layer, out port id) -> value
    std::set<std::string> used_io_names;

    // Parameters first, in XML order (the order OVMS lists inputs).
    for (const auto& L : layers_) {
      if (L.type != "Parameter") continue;
      auto it = L.attrs.find("element_type");
      if (it == L.attrs.end()) throw IrError(L.describe() + ": missing attribute 'element_type'");
      auto et = parseElemType(trim(it->second));
      if (!et || *et == ElemType::undefined || *et == ElemType::u1 || *et == ElemType::i4 || *et == ElemType::u4)
        throw IrError(L.describe() + ": unsupported input element_type '" + it->second + "'");
      std::vector<int64_t> dims;
      auto sh = L.attrs.find("shape");
      if (sh != L.attrs.end()) {
        if (trim(sh->second) == "...") throw IrError(L.describe() + ": inputs of dynamic rank are not supported");
        if (!parseShapeAttr(sh->second, dims)) throw IrError(L.describe() + ": bad shape '" + sh->second + "'");
      } else if (!L.outputs.empty()) {
        dims = L.outputs[0].dims;
      }
      if (L.outputs.size() != 1) throw IrError(L.describe() + ": a Parameter must have exactly one output port");
      std::string name = parameterName(L);
      auto ov = opt_.input_shapes.find(name);
      if (ov != opt_.input_shapes.end()) {
        for (auto d : ov->second)
          if (d < -1) throw IrError(L.describe() + ": bad requested dimension " + std::to_string(d));
        if (ov->second != dims) shapes_trusted_ = false;
        dims = ov->second;
      }
      for (auto d : dims)
        if (d < 0) shapes_trusted_ = shapes_trusted_ && true;  // dynamic dims in the XML stay dynamic there too
      if (!used_io_names.insert(name).second) throw IrError(L.describe() + ": duplicated input name '" + name + "'");
      input_names_.push_back(name);
      auto* vi = graph->add_input();
      vi->set_name(name);
      setShape(vi, declaredOnnxType(*et), static_cast<int64_t>(dims.size()), dims);
      Value v;
      v.ir_type = *et;
      v.type = computeOnnxType(*et);
      v.rank = static_cast<int64_t>(dims.size());
      v.dims = dims;
      v.name = g.cast(name, declaredOnnxType(*et), v.type);
      values[{L.id, L.outputs[0].id}] = v;
    }

    const auto& reg = registry();
    std::vector<const IrLayer*> results;
    for (size_t idx : topo_) {
      const IrLayer& L = layers_[idx];
      if (L.type == "Parameter") continue;
      g.setLayerHint(L.name);
      if (L.type == "Const") {
        if (L.outputs.size() != 1) throw IrError(L.describe() + ": a Const must have exactly one output port");
        values[{L.id, L.outputs[0].id}] = makeConst(L);
        continue;
      }
      std::vector<Value> ins;
      for (const auto& p : L.inputs) {
        const Edge& e = edges_.at({L.id, p.id});
        auto vit = values.find({e.from_layer, e.from_port});
        if (vit == values.end()) throw IrError(L.describe() + ": input port " + std::to_string(p.id) + " is fed by an output that was not produced");
        ins.push_back(vit->second);
      }
      if (L.type == "Result") {
        if (ins.size() != 1) throw IrError(L.describe() + ": a Result must have exactly one input");
        results.push_back(&L);
        continue;
      }
      if (auto folded = foldConstantLayer(L, ins)) {
        for (size_t k = 0; k < L.outputs.size(); ++k) values[{L.id, L.outputs[k].id}] = (*folded)[k];
        continue;
      }
      const auto* fn = reg.find(L.type, L.version);
      if (!fn) {
        std::string v = L.version;
        if (v.rfind("opset", 0) == 0) v = v.substr(5);
        throw IrError("Unsupported operation " + L.type + " (opset " + v + ") in layer '" + L.name + "' (id " + std::to_string(L.id) + ")");
      }
      // Constants become initializers when a translator may use them as tensors (Convert folds instead).
      // FakeQuantize on constant inputs (quantized weights) is folded as well.
      const bool folds = L.type == "Convert" ||
                         (L.type == "FakeQuantize" && std::all_of(ins.begin(), ins.end(), [](const Value& v) { return v.isConst(); }));
      for (size_t k = 0; k < ins.size(); ++k) {
        if (!ins[k].isConst() || !ins[k].name.empty() || folds) continue;
        ins[k].name = g.initializer(*ins[k].constant, "w");
        const Edge& e = edges_.at({L.id, L.inputs[k].id});
        values[{e.from_layer, e.from_port}].name = ins[k].name;  // emit shared constants once
      }
      // v10 port dims downstream of a data-dependent output are upper bounds: translate with them unknown. ShapeOf
      // stops that: its own shape ([rank]) is exact, only its values are known at run time.
      const bool bounded = version_ == 10 &&
                           (dataDependentOutputs(L, ins) ||
                            (L.type != "ShapeOf" &&
                             std::any_of(ins.begin(), ins.end(), [](const Value& v) { return !v.isConst() && v.dims_are_bounds; })));
      NodeContext ctx(L, g, std::move(ins), shapes_trusted_ && !bounded);
      for (const auto& p : L.outputs) ctx.output_used.push_back(consumed_.count({L.id, p.id}) != 0);
      std::vector<Value> outs;
      try {
        outs = (*fn)(ctx);
      } catch (const IrError&) {
        throw;
      } catch (const std::exception& ex) {
        throw IrError(L.describe() + ": " + ex.what());
      }
      if (outs.size() < L.outputs.size())
        throw IrError(L.describe() + ": translation produced " + std::to_string(outs.size()) + " outputs, the IR declares " + std::to_string(L.outputs.size()));
      for (size_t k = 0; k < L.outputs.size(); ++k) {
        if (bounded && !outs[k].isConst()) outs[k].dims_are_bounds = true;
        values[{L.id, L.outputs[k].id}] = outs[k];
      }
    }

    // Results, in XML order.
    std::vector<const IrLayer*> ordered;
    for (const auto& L : layers_)
      if (L.type == "Result") ordered.push_back(&L);
    for (const IrLayer* R : ordered) {
      const Edge& e = edges_.at({R->id, R->inputs.at(0).id});
      Value v = values.at({e.from_layer, e.from_port});
      if (v.name.empty()) v.name = g.initializer(*v.constant, "result_const");
      std::string name = resultName(*R);
      if (!used_io_names.insert(name).second) throw IrError(R->describe() + ": output name '" + name + "' is already used by another input or output");
      output_names_.push_back(name);
      int32_t declared = declaredOnnxType(v.ir_type == ElemType::undefined ? *elemTypeFromOnnx(v.type) : v.ir_type);
      if (v.ir_type == ElemType::u1 || v.ir_type == ElemType::i4 || v.ir_type == ElemType::u4) declared = v.type;
      std::string src = g.cast(v.name, v.type, declared);
      auto* n = graph->add_node();
      n->set_op_type("Identity");
      n->set_name(g.uniqueName("output"));
      n->add_input(src);
      n->add_output(name);
      auto* vi = graph->add_output();
      vi->set_name(name);
      std::vector<int64_t> dims = v.dims;
      if (!shapes_trusted_ || v.isConst()) {
        // keep dims only when they are known for sure
        if (!v.isConst())
          for (auto& d : dims) d = -1;
      }
      setShape(vi, declared, v.rank, dims);
    }
    if (ordered.empty()) throw IrError("the IR has no Result layers");
  }
};

}  // namespace

IrTranslation translateIrToOnnx(std::string_view xml_text, std::string_view bin_bytes, const IrOptions& options) {
  try {
    IrTranslator t(xml_text, bin_bytes, options);
    return t.run();
  } catch (const IrError&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw IrError("out of memory while translating the IR");
  } catch (const std::exception& e) {
    throw IrError(std::string("IR translation failed: ") + e.what());
  }
}

IrTranslation translateIrToOnnx(const std::string& xml_path, const std::string& bin_path, const IrOptions& options) {
  std::string xml = readTextFile(xml_path);
  MappedFile mf;
  mf.fd = open(bin_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (mf.fd < 0) throw IrError("cannot open weights file '" + bin_path + "': " + std::strerror(errno));
  struct stat st {};
  if (fstat(mf.fd, &st) != 0) throw IrError("cannot stat weights file '" + bin_path + "'");
  std::string_view bin;
  if (st.st_size > 0) {
    mf.size = static_cast<size_t>(st.st_size);
    mf.addr = mmap(nullptr, mf.size, PROT_READ, MAP_PRIVATE, mf.fd, 0);
    if (mf.addr == MAP_FAILED) throw IrError("cannot map weights file '" + bin_path + "'");
    bin = std::string_view(static_cast<const char*>(mf.addr), mf.size);
  }
  return translateIrToOnnx(std::string_view(xml), bin, options);
}

}  // namespace ovms::engine::ir
