#include "engine/ir/node_context.h"

#include <cctype>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "engine/ir/ir_model.h"

namespace ovms::engine::ir {

using TP = onnx::TensorProto;

std::string IrLayer::describe() const {
  std::ostringstream os;
  os << "layer '" << name << "' (type " << type << ", id " << id << ")";
  return os.str();
}

void NodeContext::fail(const std::string& reason) const { throw IrError(layer.describe() + ": " + reason); }

const Value& NodeContext::in(size_t i) const {
  if (i >= inputs.size()) fail("missing input " + std::to_string(i));
  return inputs[i];
}

void NodeContext::requireInputs(size_t min, size_t max) const {
  if (inputs.size() < min || inputs.size() > max)
    fail("expects " + std::to_string(min) + (max != min ? ".." + std::to_string(max) : "") + " inputs, got " +
         std::to_string(inputs.size()));
}

bool NodeContext::has(const std::string& name) const { return layer.attrs.count(name) != 0; }

std::string NodeContext::str(const std::string& name, const std::string& def) const {
  auto it = layer.attrs.find(name);
  return it == layer.attrs.end() ? def : it->second;
}

std::string NodeContext::strReq(const std::string& name) const {
  auto it = layer.attrs.find(name);
  if (it == layer.attrs.end()) fail("missing attribute '" + name + "'");
  return it->second;
}

static std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

int64_t NodeContext::i(const std::string& name, int64_t def) const {
  if (!has(name)) return def;
  std::string s = trim(str(name, ""));
  try {
    size_t pos = 0;
    long long v = std::stoll(s, &pos);
    if (pos != s.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    fail("attribute '" + name + "' is not an integer: '" + s + "'");
  }
}

int64_t NodeContext::iReq(const std::string& name) const {
  strReq(name);
  return i(name, 0);
}

double NodeContext::f(const std::string& name, double def) const {
  if (!has(name)) return def;
  std::string s = trim(str(name, ""));
  try {
    size_t pos = 0;
    double v = std::stod(s, &pos);
    if (pos != s.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    fail("attribute '" + name + "' is not a number: '" + s + "'");
  }
}

bool NodeContext::b(const std::string& name, bool def) const {
  if (!has(name)) return def;
  std::string s = trim(str(name, ""));
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  fail("attribute '" + name + "' is not a boolean: '" + s + "'");
}

static std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::string t = trim(s);
  if (t.empty()) return out;
  std::stringstream ss(t);
  while (std::getline(ss, cur, ',')) out.push_back(trim(cur));
  return out;
}

namespace {

// Parses every element of a comma-separated attribute with `parse` (a std::stoll / std::stof
// wrapper); an element that is not entirely a number goes to `reject`.
template <typename T, typename Parse>
std::vector<T> parseList(const std::vector<std::string>& parts, Parse parse,
                         const std::function<void(const std::string&)>& reject) {
  std::vector<T> r;
  for (const auto& p : parts) {
    try {
      size_t pos = 0;
      T v = parse(p, &pos);
      if (pos != p.size()) throw std::invalid_argument("x");
      r.push_back(v);
    } catch (const std::exception&) {
      reject(p);
    }
  }
  return r;
}

}  // namespace

std::vector<int64_t> NodeContext::ints(const std::string& name, const std::vector<int64_t>& def) const {
  if (!has(name)) return def;
  return parseList<int64_t>(
      splitList(str(name, "")), [](const std::string& p, size_t* pos) { return std::stoll(p, pos); },
      [&](const std::string& p) { fail("attribute '" + name + "' has a non-integer element '" + p + "'"); });
}

std::vector<float> NodeContext::floats(const std::string& name, const std::vector<float>& def) const {
  if (!has(name)) return def;
  return parseList<float>(
      splitList(str(name, "")), [](const std::string& p, size_t* pos) { return std::stof(p, pos); },
      [&](const std::string& p) { fail("attribute '" + name + "' has a non-numeric element '" + p + "'"); });
}

std::vector<int64_t> NodeContext::constInts(size_t input) const {
  const auto& v = in(input);
  if (!v.isConst()) fail("input " + std::to_string(input) + " must be a constant");
  try {
    return v.constant->toInt64();
  } catch (const IrError& e) {
    fail(e.what());
  }
}

std::vector<double> NodeContext::constDoubles(size_t input) const {
  const auto& v = in(input);
  if (!v.isConst()) fail("input " + std::to_string(input) + " must be a constant");
  try {
    return v.constant->toDouble();
  } catch (const IrError& e) {
    fail(e.what());
  }
}

int64_t NodeContext::rankOf(size_t input) const {
  const auto& v = in(input);
  if (v.rank >= 0) return v.rank;
  if (input < layer.inputs.size() && layer.inputs[input].has_dims) return static_cast<int64_t>(layer.inputs[input].dims.size());
  fail("rank of input " + std::to_string(input) + " is unknown");
}

ElemType NodeContext::outIrType(size_t index, int32_t fallback) const {
  if (index < layer.outputs.size() && !layer.outputs[index].precision.empty()) {
    auto t = parseElemType(layer.outputs[index].precision);
    // The precision must agree with the computed type family; otherwise trust the computed type.
    if (t && computeOnnxType(*t) == fallback) return *t;
  }
  auto e = elemTypeFromOnnx(fallback);
  return e ? *e : ElemType::undefined;
}

Value NodeContext::out(const std::string& name, int32_t type, size_t index) const {
  Value v;
  v.name = name;
  v.type = type;
  v.ir_type = outIrType(index, type);
  if (index < layer.outputs.size()) {
    const auto& p = layer.outputs[index];
    v.rank = static_cast<int64_t>(p.dims.size());
    v.dims = p.dims;
    if (!shapes_trusted_)
      for (auto& d : v.dims) d = -1;
  }
  return v;
}

}  // namespace ovms::engine::ir
