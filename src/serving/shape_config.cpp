#include "serving/shape_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/logging.h"

namespace ovms::serving {
namespace {

constexpr const char* kAnonymousInputName = "ANONYMOUS_INPUT_NAME";

std::string strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string removeSpaces(const std::string& s) {
  std::string r;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) r += c;
  return r;
}

bool toInt(const std::string& text, int64_t* out) {
  std::string t = strip(text);
  if (t.empty()) return false;
  if (t[0] == '+') return false;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  return ec == std::errc() && ptr == t.data() + t.size();
}

bool isAutoText(const std::string& s) { return strip(s) == "auto"; }

Status shapeError(const std::string& what) { return Status(StatusCode::SHAPE_WRONG_FORMAT, what); }
Status layoutError(const std::string& what) { return Status(StatusCode::LAYOUT_WRONG_FORMAT, what); }

Status parseShapeJsonValue(const nlohmann::json& v, ShapeValue* out) {
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (isAutoText(s)) {
      out->is_auto = true;
      return StatusCode::OK;
    }
    return parseShapeTuple(s, &out->dims);
  }
  if (v.is_array()) {
    for (const auto& d : v) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) return shapeError("shape array values must be integers >= 0");
      out->dims.push_back(Dimension::fixed(d.get<int64_t>()));
    }
    return StatusCode::OK;
  }
  return shapeError("shape values must be strings");
}

}  // namespace

std::string Dimension::toString() const {
  if (isAny()) return "-1";
  if (isStatic()) return std::to_string(min);
  return "[" + std::to_string(min) + "~" + std::to_string(max) + "]";
}

std::string dimsToString(const Dims& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ",";
    s += dims[i].toString();
  }
  return s + ")";
}

Dims dimsFromShape(const std::vector<int64_t>& shape) {
  Dims d;
  d.reserve(shape.size());
  for (int64_t v : shape) d.push_back(v < 0 ? Dimension::any() : Dimension::fixed(v));
  return d;
}

Status parseDimension(const std::string& text, Dimension* out, bool batch) {
  std::string t = strip(text);
  auto colon = t.find(':');
  if (colon != std::string::npos) {
    int64_t lo = 0, hi = 0;
    if (!toInt(t.substr(0, colon), &lo) || !toInt(t.substr(colon + 1), &hi))
      return shapeError("dimension range must be <min>:<max>: " + t);
    if (lo < (batch ? 1 : 0) || hi <= lo) return shapeError("invalid dimension range: " + t);
    *out = Dimension::range(lo, hi);
    return StatusCode::OK;
  }
  int64_t v = 0;
  if (!toInt(t, &v)) return shapeError("dimension must be an integer: " + t);
  if (v == -1) {
    *out = Dimension::any();
    return StatusCode::OK;
  }
  if (v < (batch ? 1 : 0)) return shapeError("invalid dimension value: " + t);
  *out = Dimension::fixed(v);
  return StatusCode::OK;
}

Status parseShapeTuple(const std::string& text, Dims* out) {
  std::string s = removeSpaces(text);
  if (std::count(s.begin(), s.end(), '(') != 1 || std::count(s.begin(), s.end(), ')') != 1 || s.size() < 2 ||
      s.front() != '(' || s.back() != ')')
    return shapeError("shape must be a tuple like (1,3,224,224): " + text);
  std::string body = s.substr(1, s.size() - 2);
  Dims dims;
  if (!body.empty()) {
    size_t start = 0;
    while (true) {
      size_t comma = body.find(',', start);
      std::string tok = body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      Dimension d;
      Status st = parseDimension(tok, &d);
      if (!st.ok()) return st;
      dims.push_back(d);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  *out = std::move(dims);
  return StatusCode::OK;
}

Status parseShapeConfig(const std::string& text, ShapeConfig* out) {
  ShapeConfig c;
  std::string t = strip(text);
  if (isAutoText(t)) {
    c.anonymous = ShapeValue{true, {}};
  } else if (!t.empty() && t.front() == '(') {
    ShapeValue v;
    Status st = parseShapeTuple(t, &v.dims);
    if (!st.ok()) return st;
    c.anonymous = v;
  } else {
    auto j = nlohmann::json::parse(t, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return shapeError("shape must be auto, a tuple or a JSON object");
    for (auto& [name, v] : j.items()) {
      if (name == kAnonymousInputName) {
        MODEL_LOG(warn, "Provided shape name: {} is forbidden and will be omitted", name);
        continue;
      }
      ShapeValue sv;
      Status st = parseShapeJsonValue(v, &sv);
      if (!st.ok()) return st;
      c.named[name] = std::move(sv);
    }
  }
  *out = std::move(c);
  return StatusCode::OK;
}

Status parseBatchSize(const std::string& text, BatchConfig* out) {
  BatchConfig b;
  std::string t = strip(text);
  if (t == "auto") {
    b.is_auto = true;
  } else if (t == "0") {
    b.unset = true;
  } else {
    Status st = parseDimension(t, &b.dim, true);
    if (!st.ok()) return st;
  }
  *out = b;
  return StatusCode::OK;
}

Status parseLayoutString(const std::string& text, std::string* upper) {
  std::string t = strip(text);
  std::string u;
  for (char c : t) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u.empty()) return layoutError("empty layout");
  bool ellipsis = false;
  std::string seen;
  for (size_t i = 0; i < u.size();) {
    if (u.compare(i, 3, "...") == 0) {
      if (ellipsis) return layoutError("layout may contain \"...\" only once: " + t);
      ellipsis = true;
      i += 3;
      continue;
    }
    char c = u[i];
    if (std::string("NCHWD?").find(c) == std::string::npos)
      return layoutError("layout characters must be N, C, H, W, D, ? or ...: " + t);
    if (c != '?' && seen.find(c) != std::string::npos) return layoutError("layout repeats " + std::string(1, c) + ": " + t);
    seen += c;
    ++i;
  }
  *upper = u;
  return StatusCode::OK;
}

Status parseLayoutValue(const std::string& text, LayoutValue* out) {
  std::string t = strip(text);
  auto colon = t.find(':');
  LayoutValue v;
  if (colon == std::string::npos) {
    Status st = parseLayoutString(t, &v.client);
    if (!st.ok()) return st;
    v.model = v.client;
  } else {
    if (t.find(':', colon + 1) != std::string::npos) return layoutError("layout has more than one ':': " + t);
    Status st = parseLayoutString(t.substr(0, colon), &v.client);
    if (!st.ok()) return st;
    st = parseLayoutString(t.substr(colon + 1), &v.model);
    if (!st.ok()) return st;
    if (v.needsTranspose()) {
      if (v.client.find("...") != std::string::npos || v.model.find("...") != std::string::npos)
        return layoutError("a layout change cannot use \"...\": " + t);
      std::string a = v.client, b = v.model;
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      if (a != b) return layoutError("both sides of a layout change must name the same dimensions: " + t);
    }
  }
  *out = std::move(v);
  return StatusCode::OK;
}

std::vector<int64_t> LayoutValue::modelFromClientPerm() const {
  std::vector<int64_t> perm;
  std::vector<bool> used(client.size(), false);
  for (char c : model) {
    for (size_t j = 0; j < client.size(); ++j) {
      if (!used[j] && client[j] == c) {
        used[j] = true;
        perm.push_back(static_cast<int64_t>(j));
        break;
      }
    }
  }
  return perm;
}

std::optional<size_t> LayoutValue::batchIndex(size_t rank) const {
  auto n = client.find('N');
  if (n == std::string::npos) return std::nullopt;
  auto e = client.find("...");
  if (e == std::string::npos || n < e) return n < rank ? std::optional<size_t>(n) : std::nullopt;
  size_t from_end = client.size() - n;  // 1 = last
  if (from_end > rank) return std::nullopt;
  return rank - from_end;
}

Status parseLayoutConfig(const std::string& text, LayoutConfig* out) {
  LayoutConfig c;
  std::string t = strip(text);
  if (!t.empty() && t.front() == '{') {
    auto j = nlohmann::json::parse(t, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return layoutError("layout JSON is invalid");
    for (auto& [name, v] : j.items()) {
      if (!v.is_string()) return layoutError("layout values must be strings");
      LayoutValue lv;
      Status st = parseLayoutValue(v.get<std::string>(), &lv);
      if (!st.ok()) return st;
      c.named[name] = std::move(lv);
    }
  } else {
    LayoutValue lv;
    Status st = parseLayoutValue(t, &lv);
    if (!st.ok()) return st;
    c.anonymous = std::move(lv);
  }
  *out = std::move(c);
  return StatusCode::OK;
}

}  // namespace ovms::serving
