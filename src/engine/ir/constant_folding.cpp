#include "engine/ir/constant_folding.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;
using Dims = std::vector<int64_t>;
using Folded = std::optional<std::vector<Value>>;

// --- attributes (malformed ones make the layer not fold; its translator reports them) ------------------------
std::optional<std::string> attr(const IrLayer& L, const char* name) {
  auto it = L.attrs.find(name);
  if (it == L.attrs.end()) return std::nullopt;
  return it->second;
}

std::optional<int64_t> parseInt(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); }), s.end());
  if (s.empty()) return std::nullopt;
  try {
    size_t pos = 0;
    long long v = std::stoll(s, &pos);
    if (pos != s.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<int64_t> attrInt(const IrLayer& L, const char* name, int64_t def) {
  auto s = attr(L, name);
  return s ? parseInt(*s) : std::optional<int64_t>(def);
}

std::optional<bool> attrBool(const IrLayer& L, const char* name, bool def) {
  auto s = attr(L, name);
  if (!s) return def;
  std::string t;
  for (char ch : *s)
    if (!std::isspace(static_cast<unsigned char>(ch))) t += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (t == "true" || t == "1") return true;
  if (t == "false" || t == "0") return false;
  return std::nullopt;
}

// Comma separated integers; absent or empty -> empty list.
std::optional<Dims> attrInts(const IrLayer& L, const char* name) {
  auto s = attr(L, name);
  Dims r;
  if (!s) return r;
  std::stringstream ss(*s);
  std::string item;
  bool any = false;
  while (std::getline(ss, item, ',')) {
    auto v = parseInt(item);
    if (!v) {
      if (item.find_first_not_of(" \t\r\n") == std::string::npos && !any) continue;  // "" -> empty list
      return std::nullopt;
    }
    any = true;
    r.push_back(*v);
  }
  return r;
}

// --- tensors --------------------------------------------------------------------------------------------------
int64_t numelOf(const Dims& d) {
  int64_t n = 1;
  for (auto x : d) {
    if (x < 0) return -1;
    if (x > (int64_t{1} << 31)) return kMaxFoldedElements + 1;  // also keeps sums of dims from overflowing
    if (x != 0 && n > kMaxFoldedElements) return kMaxFoldedElements + 1;
    n *= x;
  }
  return n;
}

Dims stridesOf(const Dims& d) {
  Dims s(d.size(), 1);
  for (int64_t k = static_cast<int64_t>(d.size()) - 2; k >= 0; --k) s[static_cast<size_t>(k)] = s[static_cast<size_t>(k) + 1] * d[static_cast<size_t>(k) + 1];
  return s;
}

// Calls f(coordinate) for every coordinate of `dims`, row-major.
template <typename F>
void forEachCoord(const Dims& dims, F&& f) {
  int64_t n = numelOf(dims);
  if (n <= 0) return;
  Dims c(dims.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    f(c);
    for (int64_t k = static_cast<int64_t>(dims.size()) - 1; k >= 0; --k) {
      auto kk = static_cast<size_t>(k);
      if (++c[kk] < dims[kk]) break;
      c[kk] = 0;
    }
  }
}

bool usable(const Value& v) {
  if (!v.isConst()) return false;
  size_t es = onnxTypeSize(v.constant->onnx_type);
  int64_t n = numelOf(v.constant->dims);
  return es != 0 && n >= 0 && n <= kMaxFoldedElements && v.constant->bytes.size() >= static_cast<size_t>(n) * es;
}

Value constValue(std::shared_ptr<ConstData> c, ElemType ir_type) {
  Value v;
  v.type = c->onnx_type;
  v.ir_type = ir_type;
  v.rank = static_cast<int64_t>(c->dims.size());
  v.dims = c->dims;
  v.constant = std::move(c);
  return v;
}

// Same data, other dims (Squeeze / Unsqueeze / Reshape).
Value reshaped(const Value& x, Dims dims) {
  auto c = std::make_shared<ConstData>(*x.constant);
  c->dims = std::move(dims);
  return constValue(c, x.ir_type);
}

// Elements of `src` at the flat positions `from`, as a tensor of `dims`.
Value picked(const Value& src, Dims dims, const std::vector<int64_t>& from) {
  const ConstData& s = *src.constant;
  size_t es = onnxTypeSize(s.onnx_type);
  auto bytes = std::make_shared<std::string>(from.size() * es, '\0');
  for (size_t k = 0; k < from.size(); ++k) std::memcpy(bytes->data() + k * es, s.bytes.data() + static_cast<size_t>(from[k]) * es, es);
  auto c = std::make_shared<ConstData>();
  c->onnx_type = s.onnx_type;
  c->dims = std::move(dims);
  c->owned = bytes;
  c->bytes = *bytes;
  return constValue(c, src.ir_type);
}

std::optional<int64_t> normAxis(int64_t a, int64_t rank) {
  if (a < -rank || a >= rank) return std::nullopt;
  return a < 0 ? a + rank : a;
}

// --- ops ------------------------------------------------------------------------------------------------------
Folded squeeze(const IrLayer&, const std::vector<Value>& in) {
  const Value& x = in[0];
  int64_t r = static_cast<int64_t>(x.dims.size());
  std::vector<bool> drop(static_cast<size_t>(r), false);
  if (in.size() == 1) {
    for (int64_t k = 0; k < r; ++k) drop[static_cast<size_t>(k)] = x.dims[static_cast<size_t>(k)] == 1;
  } else {
    for (auto a : in[1].constant->toInt64()) {
      auto n = normAxis(a, r);
      if (!n) return std::nullopt;
      if (x.dims[static_cast<size_t>(*n)] == 1) drop[static_cast<size_t>(*n)] = true;
      else return std::nullopt;
    }
  }
  Dims d;
  for (int64_t k = 0; k < r; ++k)
    if (!drop[static_cast<size_t>(k)]) d.push_back(x.dims[static_cast<size_t>(k)]);
  return std::vector<Value>{reshaped(x, d)};
}

Folded unsqueeze(const IrLayer&, const std::vector<Value>& in) {
  const Value& x = in[0];
  auto axes = in[1].constant->toInt64();
  int64_t out_rank = static_cast<int64_t>(x.dims.size() + axes.size());
  std::vector<bool> is_new(static_cast<size_t>(out_rank), false);
  for (auto a : axes) {
    auto n = normAxis(a, out_rank);
    if (!n || is_new[static_cast<size_t>(*n)]) return std::nullopt;
    is_new[static_cast<size_t>(*n)] = true;
  }
  Dims d;
  size_t src = 0;
  for (int64_t k = 0; k < out_rank; ++k) d.push_back(is_new[static_cast<size_t>(k)] ? 1 : x.dims[src++]);
  return std::vector<Value>{reshaped(x, d)};
}

Folded reshape(const IrLayer& L, const std::vector<Value>& in) {
  const Value& x = in[0];
  auto special_zero = attrBool(L, "special_zero", false);
  if (!special_zero) return std::nullopt;
  Dims target = in[1].constant->toInt64();
  int64_t known = 1, infer = -1;
  for (size_t k = 0; k < target.size(); ++k) {
    if (target[k] == 0 && *special_zero) {
      if (k >= x.dims.size()) return std::nullopt;
      target[k] = x.dims[k];
    }
    if (target[k] == -1) {
      if (infer >= 0) return std::nullopt;
      infer = static_cast<int64_t>(k);
    } else if (target[k] < 0 || target[k] > kMaxFoldedElements) {
      return std::nullopt;
    } else {
      known *= target[k];
    }
  }
  int64_t n = numelOf(x.dims);
  if (infer >= 0) {
    if (known == 0 || n % known != 0) return std::nullopt;
    target[static_cast<size_t>(infer)] = n / known;
  } else if (known != n) {
    return std::nullopt;
  }
  return std::vector<Value>{reshaped(x, target)};
}

Folded concat(const IrLayer& L, const std::vector<Value>& in) {
  auto axis_attr = attrInt(L, "axis", 0);
  if (!axis_attr) return std::nullopt;
  const Dims& d0 = in[0].dims;
  auto axis = normAxis(*axis_attr, static_cast<int64_t>(d0.size()));
  if (!axis) return std::nullopt;
  Dims out = d0;
  out[static_cast<size_t>(*axis)] = 0;
  for (const auto& v : in) {
    if (v.type != in[0].type || v.dims.size() != d0.size()) return std::nullopt;
    for (size_t k = 0; k < d0.size(); ++k)
      if (k != static_cast<size_t>(*axis) && v.dims[k] != d0[k]) return std::nullopt;
    out[static_cast<size_t>(*axis)] += v.dims[static_cast<size_t>(*axis)];
  }
  if (numelOf(out) > kMaxFoldedElements) return std::nullopt;
  // Rows of the outer dims; each input contributes a contiguous block per row.
  int64_t outer = 1;
  for (int64_t k = 0; k < *axis; ++k) outer *= d0[static_cast<size_t>(k)];
  size_t es = onnxTypeSize(in[0].type);
  auto bytes = std::make_shared<std::string>();
  for (int64_t o = 0; o < outer; ++o)
    for (const auto& v : in) {
      int64_t block = numelOf(v.dims) / std::max<int64_t>(outer, 1);
      if (outer == 0) break;
      bytes->append(v.constant->bytes.data() + static_cast<size_t>(o * block) * es, static_cast<size_t>(block) * es);
    }
  auto c = std::make_shared<ConstData>();
  c->onnx_type = in[0].type;
  c->dims = out;
  c->owned = bytes;
  c->bytes = *bytes;
  return std::vector<Value>{constValue(c, in[0].ir_type)};
}

Folded gather(const IrLayer& L, const std::vector<Value>& in) {
  const Value& x = in[0];
  auto bd = attrInt(L, "batch_dims", 0);
  auto axv = in[2].constant->toInt64();
  if (!bd || *bd != 0 || axv.size() != 1) return std::nullopt;
  int64_t r = static_cast<int64_t>(x.dims.size());
  auto axis = normAxis(axv[0], r);
  if (!axis) return std::nullopt;
  auto idx = in[1].constant->toInt64();
  int64_t len = x.dims[static_cast<size_t>(*axis)];
  for (auto& i : idx) {
    if (i < 0) i += len;
    if (i < 0 || i >= len) return std::nullopt;
  }
  Dims out(x.dims.begin(), x.dims.begin() + *axis);
  out.insert(out.end(), in[1].dims.begin(), in[1].dims.end());
  out.insert(out.end(), x.dims.begin() + *axis + 1, x.dims.end());
  if (numelOf(out) > kMaxFoldedElements) return std::nullopt;
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < *axis; ++k) outer *= x.dims[static_cast<size_t>(k)];
  for (int64_t k = *axis + 1; k < r; ++k) inner *= x.dims[static_cast<size_t>(k)];
  std::vector<int64_t> from;
  for (int64_t o = 0; o < outer; ++o)
    for (auto i : idx)
      for (int64_t n = 0; n < inner; ++n) from.push_back((o * len + i) * inner + n);
  return std::vector<Value>{picked(x, out, from)};
}

// One sliced input axis: `count` elements from `start` by `step`.
struct AxisSlice {
  int64_t start = 0, step = 1, count = 0;
};

// Python/ONNX slicing of a dimension of size d: negative positions count from the end, then clamp.
AxisSlice sliceAxis(int64_t d, std::optional<int64_t> begin, std::optional<int64_t> end, int64_t step) {
  AxisSlice s;
  s.step = step;
  auto norm = [&](int64_t v, int64_t lo, int64_t hi) {
    if (v < 0) v = v < std::numeric_limits<int64_t>::min() + d ? lo : v + d;
    return std::clamp(v, lo, hi);
  };
  int64_t b, e;
  if (step > 0) {
    b = begin ? norm(*begin, 0, d) : 0;
    e = end ? norm(*end, 0, d) : d;
    s.count = e > b ? (e - b - 1) / step + 1 : 0;
  } else {
    b = begin ? norm(*begin, -1, d - 1) : d - 1;
    e = end ? norm(*end, -1, d - 1) : -1;
    const uint64_t back = step == std::numeric_limits<int64_t>::min() ? uint64_t{1} << 63 : static_cast<uint64_t>(-step);
    s.count = b > e ? static_cast<int64_t>(static_cast<uint64_t>(b - e - 1) / back) + 1 : 0;
  }
  s.start = b;
  return s;
}

// Gathers x[start_k + c_k * step_k] over the per-axis counts, then gives the result `out_dims` (same element count).
Folded sliced(const Value& x, const std::vector<AxisSlice>& per_axis, Dims out_dims) {
  Dims counts;
  for (const auto& s : per_axis) counts.push_back(s.count);
  if (numelOf(counts) > kMaxFoldedElements) return std::nullopt;
  Dims st = stridesOf(x.dims);
  std::vector<int64_t> from;
  forEachCoord(counts, [&](const Dims& c) {
    int64_t f = 0;
    for (size_t k = 0; k < c.size(); ++k) f += (per_axis[k].start + c[k] * per_axis[k].step) * st[k];
    from.push_back(f);
  });
  return std::vector<Value>{picked(x, std::move(out_dims), from)};
}

Folded slice8(const IrLayer&, const std::vector<Value>& in) {
  const Value& x = in[0];
  int64_t r = static_cast<int64_t>(x.dims.size());
  auto b = in[1].constant->toInt64(), e = in[2].constant->toInt64(), s = in[3].constant->toInt64();
  Dims axes;
  if (in.size() == 5) axes = in[4].constant->toInt64();
  else
    for (size_t k = 0; k < b.size(); ++k) axes.push_back(static_cast<int64_t>(k));
  if (e.size() != b.size() || s.size() != b.size() || axes.size() != b.size()) return std::nullopt;
  std::vector<AxisSlice> per(static_cast<size_t>(r));
  for (int64_t k = 0; k < r; ++k) per[static_cast<size_t>(k)] = sliceAxis(x.dims[static_cast<size_t>(k)], std::nullopt, std::nullopt, 1);
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (size_t k = 0; k < b.size(); ++k) {
    auto a = normAxis(axes[k], r);
    if (!a || seen[static_cast<size_t>(*a)] || s[k] == 0) return std::nullopt;
    seen[static_cast<size_t>(*a)] = true;
    per[static_cast<size_t>(*a)] = sliceAxis(x.dims[static_cast<size_t>(*a)], b[k], e[k], s[k]);
  }
  Dims out;
  for (const auto& p : per) out.push_back(p.count);
  return sliced(x, per, out);
}

// StridedSlice-1: OpenVINO masks (a 1 in begin_mask/end_mask ignores that begin/end value).
Folded stridedSlice(const IrLayer& L, const std::vector<Value>& in) {
  const Value& x = in[0];
  int64_t r = static_cast<int64_t>(x.dims.size());
  auto b = in[1].constant->toInt64(), e = in[2].constant->toInt64();
  Dims s(b.size(), 1);
  if (in.size() == 4) s = in[3].constant->toInt64();
  auto bm = attrInts(L, "begin_mask"), em = attrInts(L, "end_mask"), nm = attrInts(L, "new_axis_mask"),
       sm = attrInts(L, "shrink_axis_mask"), elm = attrInts(L, "ellipsis_mask");
  if (!bm || !em || !nm || !sm || !elm || e.size() < b.size() || s.size() != b.size()) return std::nullopt;
  auto bit = [](const Dims& m, size_t i) { return i < m.size() && m[i] != 0; };
  int64_t consumed = 0, ellipses = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    if (bit(*elm, i)) ellipses++;
    else if (!bit(*nm, i)) consumed++;
  }
  if (ellipses > 1 || consumed > r) return std::nullopt;
  std::vector<AxisSlice> per;
  Dims out;
  int64_t ax = 0;
  auto full = [&](int64_t a) {
    per.push_back(sliceAxis(x.dims[static_cast<size_t>(a)], std::nullopt, std::nullopt, 1));
    out.push_back(per.back().count);
  };
  for (size_t i = 0; i < b.size(); ++i) {
    if (bit(*elm, i)) {
      for (int64_t k = 0; k < r - consumed; ++k) full(ax++);
      continue;
    }
    if (bit(*nm, i)) {
      out.push_back(1);
      continue;
    }
    int64_t d = x.dims[static_cast<size_t>(ax)];
    if (bit(*sm, i)) {
      int64_t p = b[i] < 0 ? b[i] + d : b[i];
      if (p < 0 || p >= d) return std::nullopt;
      per.push_back({p, 1, 1});
    } else {
      if (s[i] == 0) return std::nullopt;
      per.push_back(sliceAxis(d, bit(*bm, i) ? std::nullopt : std::optional<int64_t>(b[i]),
                              bit(*em, i) ? std::nullopt : std::optional<int64_t>(e[i]), s[i]));
      out.push_back(per.back().count);
    }
    ax++;
  }
  while (ax < r) full(ax++);
  return sliced(x, per, out);
}

// Numpy broadcasting of two shapes; nullopt when incompatible.
std::optional<Dims> broadcastDims(const Dims& a, const Dims& b) {
  size_t n = std::max(a.size(), b.size());
  Dims out(n);
  for (size_t k = 0; k < n; ++k) {
    int64_t da = k < n - a.size() ? 1 : a[k - (n - a.size())];
    int64_t db = k < n - b.size() ? 1 : b[k - (n - b.size())];
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[k] = da == 1 ? db : da;
  }
  return out;
}

// Flat index into a tensor of `d` (right-aligned, broadcast) for an output coordinate.
int64_t broadcastIndex(const Dims& d, const Dims& st, const Dims& coord) {
  int64_t f = 0;
  size_t off = coord.size() - d.size();
  for (size_t k = 0; k < d.size(); ++k) f += (d[k] == 1 ? 0 : coord[k + off]) * st[k];
  return f;
}

constexpr int64_t kMaxFoldedFloatElements = 64;

enum class Arith { add, sub, mul, div, min, max };

Folded arithmetic(const IrLayer& L, const std::vector<Value>& in, Arith op) {
  const Value &a = in[0], &b = in[1];
  if (a.type != b.type || a.type == TP::BOOL) return std::nullopt;
  auto ab = attr(L, "auto_broadcast");
  std::optional<Dims> out;
  if (ab && *ab == "none") out = a.dims == b.dims ? std::optional<Dims>(a.dims) : std::nullopt;
  else if (!ab || *ab == "numpy") out = broadcastDims(a.dims, b.dims);
  if (!out || numelOf(*out) > kMaxFoldedElements) return std::nullopt;
  bool integer = isIntegerOnnx(a.type);
  // Float folding only for the scalars of shape arithmetic (scales, sizes); weight chains (Convert -> Subtract ->
  // Multiply) stay nodes so the quantization translation still sees them.
  if (!integer && numelOf(*out) > kMaxFoldedFloatElements) return std::nullopt;
  Dims sa = stridesOf(a.dims), sb = stridesOf(b.dims);
  auto pythondiv = attrBool(L, "m_pythondiv", true);
  if (!pythondiv) return std::nullopt;
  std::shared_ptr<ConstData> c;
  if (integer) {
    auto va = a.constant->toInt64(), vb = b.constant->toInt64();
    std::vector<int64_t> r;
    bool ok = true;
    forEachCoord(*out, [&](const Dims& co) {
      int64_t x = va[static_cast<size_t>(broadcastIndex(a.dims, sa, co))], y = vb[static_cast<size_t>(broadcastIndex(b.dims, sb, co))];
      int64_t z = 0;
      switch (op) {
        case Arith::add: z = static_cast<int64_t>(static_cast<uint64_t>(x) + static_cast<uint64_t>(y)); break;
        case Arith::sub: z = static_cast<int64_t>(static_cast<uint64_t>(x) - static_cast<uint64_t>(y)); break;
        case Arith::mul: z = static_cast<int64_t>(static_cast<uint64_t>(x) * static_cast<uint64_t>(y)); break;
        case Arith::min: z = std::min(x, y); break;
        case Arith::max: z = std::max(x, y); break;
        case Arith::div:
          if (y == 0 || (x == std::numeric_limits<int64_t>::min() && y == -1)) {
            ok = false;
            break;
          }
          z = x / y;
          if (*pythondiv && x % y != 0 && ((x < 0) != (y < 0))) --z;  // floor division
          break;
      }
      r.push_back(z);
    });
    if (!ok) return std::nullopt;
    if (r.empty() && numelOf(*out) != 0) return std::nullopt;
    c = ConstData::fromInt64(a.type, *out, r);
  } else {
    auto va = a.constant->toDouble(), vb = b.constant->toDouble();
    std::vector<double> r;
    forEachCoord(*out, [&](const Dims& co) {
      double x = va[static_cast<size_t>(broadcastIndex(a.dims, sa, co))], y = vb[static_cast<size_t>(broadcastIndex(b.dims, sb, co))];
      switch (op) {
        case Arith::add: r.push_back(x + y); break;
        case Arith::sub: r.push_back(x - y); break;
        case Arith::mul: r.push_back(x * y); break;
        case Arith::div: r.push_back(x / y); break;
        case Arith::min: r.push_back(std::min(x, y)); break;
        case Arith::max: r.push_back(std::max(x, y)); break;
      }
    });
    c = ConstData::fromDoubles(a.type, *out, r);
  }
  return std::vector<Value>{constValue(c, a.ir_type)};
}

enum class Reduce { sum, prod, min, max };

// ReduceSum/Prod/Min/Max over constant axes (e.g. the element count of a shape slice in a Reshape target).
Folded reduction(const IrLayer& L, const std::vector<Value>& in, Reduce op) {
  const Value& x = in[0];
  auto keep = attrBool(L, "keep_dims", false);
  if (!keep || x.type == TP::BOOL) return std::nullopt;
  bool integer = isIntegerOnnx(x.type);
  if (!integer && numelOf(x.dims) > kMaxFoldedFloatElements) return std::nullopt;
  int64_t r = static_cast<int64_t>(x.dims.size());
  std::vector<bool> reduced(static_cast<size_t>(r), false);
  for (auto a : in[1].constant->toInt64()) {
    auto n = normAxis(a, r);
    if (!n) return std::nullopt;
    reduced[static_cast<size_t>(*n)] = true;
  }
  Dims out_keep, out;
  for (int64_t k = 0; k < r; ++k) {
    bool red = reduced[static_cast<size_t>(k)];
    out_keep.push_back(red ? 1 : x.dims[static_cast<size_t>(k)]);
    if (!red || *keep) out.push_back(out_keep.back());
  }
  if (numelOf(x.dims) == 0 && (op == Reduce::min || op == Reduce::max)) return std::nullopt;
  Dims os = stridesOf(out_keep);
  size_t n_out = static_cast<size_t>(numelOf(out_keep));
  auto combine = [op](auto acc, auto v) {
    switch (op) {
      case Reduce::sum: return acc + v;
      case Reduce::prod: return acc * v;
      case Reduce::min: return std::min(acc, v);
      case Reduce::max: return std::max(acc, v);
    }
    return acc;
  };
  auto run = [&](auto values, auto init) {
    using T = decltype(init);
    std::vector<T> acc(n_out, init);
    std::vector<bool> seen(n_out, false);
    size_t i = 0;
    forEachCoord(x.dims, [&](const Dims& co) {
      int64_t o = 0;
      for (size_t k = 0; k < co.size(); ++k) o += (reduced[k] ? 0 : co[k]) * os[k];
      auto& a = acc[static_cast<size_t>(o)];
      a = seen[static_cast<size_t>(o)] || op == Reduce::sum || op == Reduce::prod ? combine(a, values[i]) : values[i];
      seen[static_cast<size_t>(o)] = true;
      ++i;
    });
    return acc;
  };
  std::shared_ptr<ConstData> c;
  if (integer) {
    auto acc = run(x.constant->toInt64(), int64_t{op == Reduce::prod ? 1 : 0});
    c = ConstData::fromInt64(x.type, out, acc);
  } else {
    auto acc = run(x.constant->toDouble(), double{op == Reduce::prod ? 1.0 : 0.0});
    c = ConstData::fromDoubles(x.type, out, acc);
  }
  return std::vector<Value>{constValue(c, x.ir_type)};
}

// Which inputs must be constant and how many there may be, per foldable op.
struct FoldRule {
  size_t min_inputs, max_inputs;
  Folded (*fn)(const IrLayer&, const std::vector<Value>&);
};

const FoldRule* ruleFor(const std::string& type) {
  static const std::map<std::string, FoldRule> rules = {
      {"Squeeze", {1, 2, squeeze}},
      {"Unsqueeze", {2, 2, unsqueeze}},
      {"Reshape", {2, 2, reshape}},
      {"Concat", {1, 64, concat}},
      {"Gather", {3, 3, gather}},
      {"StridedSlice", {3, 4, stridedSlice}},
      {"Slice", {4, 5, slice8}},
      {"Add", {2, 2, [](const IrLayer& L, const std::vector<Value>& in) { return arithmetic(L, in, Arith::add); }}},
      {"Subtract", {2, 2, [](const IrLayer& L, const std::vector<Value>& in) { return arithmetic(L, in, Arith::sub); }}},
      {"Multiply", {2, 2, [](const IrLayer& L, const std::vector<Value>& in) { return arithmetic(L, in, Arith::mul); }}},
      {"Divide", {2, 2, [](const IrLayer& L, const std::vector<Value>& in) { return arithmetic(L, in, Arith::div); }}},
      {"Minimum", {2, 2, [](const IrLayer& L, const std::vector<Value>& in) { return arithmetic(L, in, Arith::min); }}},
      {"Maximum", {2, 2, [](const IrLayer& L, const std::vector<Value>& in) { return arithmetic(L, in, Arith::max); }}},
      {"ReduceSum", {2, 2, [](const IrLayer& L, const std::vector<Value>& in) { return reduction(L, in, Reduce::sum); }}},
      {"ReduceProd", {2, 2, [](const IrLayer& L, const std::vector<Value>& in) { return reduction(L, in, Reduce::prod); }}},
      {"ReduceMin", {2, 2, [](const IrLayer& L, const std::vector<Value>& in) { return reduction(L, in, Reduce::min); }}},
      {"ReduceMax", {2, 2, [](const IrLayer& L, const std::vector<Value>& in) { return reduction(L, in, Reduce::max); }}},
  };
  auto it = rules.find(type);
  return it == rules.end() ? nullptr : &it->second;
}

}  // namespace

std::optional<std::vector<Value>> foldConstantLayer(const IrLayer& layer, const std::vector<Value>& inputs) {
  const FoldRule* rule = ruleFor(layer.type);
  if (!rule || inputs.size() < rule->min_inputs || inputs.size() > rule->max_inputs || layer.outputs.size() != 1) return std::nullopt;
  for (const auto& v : inputs)
    if (!usable(v)) return std::nullopt;
  try {
    return rule->fn(layer, inputs);
  } catch (const std::exception&) {
    return std::nullopt;  // e.g. an unsupported constant type: leave it to the translator
  }
}

}  // namespace ovms::engine::ir
