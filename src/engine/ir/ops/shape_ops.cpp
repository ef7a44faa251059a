// Shape manipulation: Reshape, ShapeOf, Concat, Squeeze, Unsqueeze, Transpose, StridedSlice, Gather, Broadcast,
// Tile, Range, NonZero, Split, VariadicSplit.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

std::string i64(NodeContext& c, size_t input) { return castTo(c.g, c.in(input), TP::INT64); }

std::vector<Value> reshape(NodeContext& c) {
  c.requireInputs(2, 2);
  const Value& x = c.in(0);
  bool special_zero = c.b("special_zero", false);
  int64_t allowzero = special_zero ? 0 : 1;
  if (!special_zero && c.in(1).isConst()) {
    auto s = c.constInts(1);
    if (std::find(s.begin(), s.end(), 0) == s.end()) allowzero = 0;
  }
  auto n = c.g.node("Reshape", {x.name, i64(c, 1)});
  if (allowzero) n.attr("allowzero", allowzero);
  Value v = c.out(n.out(), x.type);
  v.ir_type = x.ir_type;
  return {v};
}

std::vector<Value> shapeOf(NodeContext& c, bool v3) {
  c.requireInputs(1, 1);
  const Value& x = c.in(0);
  int32_t ot = TP::INT64;
  if (v3 && c.str("output_type", "i64") == "i32") ot = TP::INT32;
  if (x.staticShape()) {
    Value v = c.out("", ot);
    v.constant = ConstData::fromInt64(ot, {static_cast<int64_t>(x.dims.size())}, x.dims);
    v.rank = 1;
    v.dims = {static_cast<int64_t>(x.dims.size())};
    return {v};
  }
  Value v = c.out(c.g.cast(c.g.op("Shape", {x.name}), TP::INT64, ot), ot);
  if (x.rank >= 0) {  // the rank is known even when the dims are not (ShapeOf(ShapeOf(x)) then folds)
    v.rank = 1;
    v.dims = {x.rank};
  }
  return {v};
}

std::vector<Value> concat(NodeContext& c) {
  if (c.numInputs() < 1) c.fail("needs at least one input");
  int64_t rank = c.rankOf(0);
  int64_t axis = normAxis(c, c.i("axis", 0), rank);
  std::vector<std::string> ins;
  int32_t t = c.in(0).type;
  for (size_t k = 0; k < c.numInputs(); ++k) ins.push_back(castTo(c.g, c.in(k), t));
  Value v = c.out(c.g.node("Concat", ins).attr("axis", axis).out(), t);
  v.ir_type = c.in(0).ir_type;
  return {v};
}

std::vector<Value> squeeze(NodeContext& c) {
  c.requireInputs(1, 2);
  const Value& x = c.in(0);
  std::vector<std::string> ins{x.name};
  if (c.numInputs() == 2) {
    if (c.in(1).isConst()) {
      // OpenVINO ignores axes whose dimension is not 1 only in newer opsets; v0 requires 1. Keep axes as given.
      auto axes = c.constInts(1);
      int64_t r = c.rankOf(0);
      std::vector<int64_t> norm;
      for (auto a : axes) norm.push_back(normAxis(c, a, r));
      std::sort(norm.begin(), norm.end());
      norm.erase(std::unique(norm.begin(), norm.end()), norm.end());
      if (norm.empty()) {
        Value v = c.out(c.g.op("Identity", {x.name}), x.type);
        v.ir_type = x.ir_type;
        return {v};
      }
      ins.push_back(c.g.constI64(norm));
    } else {
      ins.push_back(i64(c, 1));
    }
  }
  Value v = c.out(c.g.op("Squeeze", ins), x.type);
  v.ir_type = x.ir_type;
  return {v};
}

std::vector<Value> unsqueeze(NodeContext& c) {
  c.requireInputs(2, 2);
  const Value& x = c.in(0);
  Value v = c.out(c.g.op("Unsqueeze", {x.name, i64(c, 1)}), x.type);
  v.ir_type = x.ir_type;
  return {v};
}

std::vector<Value> transpose(NodeContext& c) {
  c.requireInputs(2, 2);
  const Value& x = c.in(0);
  auto perm = c.constInts(1);
  int64_t r = c.rankOf(0);
  if (perm.empty()) {
    for (int64_t k = r - 1; k >= 0; --k) perm.push_back(k);
  }
  if (static_cast<int64_t>(perm.size()) != r) c.fail("permutation length does not match the input rank");
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (auto& p : perm) {
    p = normAxis(c, p, r);
    if (seen[static_cast<size_t>(p)]) c.fail("permutation repeats an axis");
    seen[static_cast<size_t>(p)] = true;
  }
  Value v = c.out(c.g.node("Transpose", {x.name}).attr("perm", perm).out(), x.type);
  v.ir_type = x.ir_type;
  return {v};
}

std::vector<int64_t> maskAttr(NodeContext& c, const char* name) { return c.ints(name, {}); }

std::vector<Value> stridedSlice(NodeContext& c) {
  c.requireInputs(3, 4);
  const Value& x = c.in(0);
  int64_t rank = c.rankOf(0);
  // number of entries in begin/end
  int64_t n = -1;
  if (c.in(1).isConst()) n = c.in(1).constant->numel();
  else if (c.in(1).rank == 1 && c.in(1).dims[0] >= 0) n = c.in(1).dims[0];
  else if (!c.layer.inputs.empty() && c.layer.inputs.size() > 1 && c.layer.inputs[1].dims.size() == 1) n = c.layer.inputs[1].dims[0];
  if (n < 0) c.fail("the length of 'begin' must be static");
  auto bm = maskAttr(c, "begin_mask"), em = maskAttr(c, "end_mask"), nm = maskAttr(c, "new_axis_mask"),
       sm = maskAttr(c, "shrink_axis_mask"), elm = maskAttr(c, "ellipsis_mask");
  auto bit = [&](const std::vector<int64_t>& m, int64_t i) { return i < static_cast<int64_t>(m.size()) && m[static_cast<size_t>(i)] != 0; };
  std::vector<int64_t> strides(static_cast<size_t>(n), 1);
  if (c.numInputs() == 4) {
    strides = c.constInts(3);
    if (static_cast<int64_t>(strides.size()) != n) c.fail("strides length differs from begin");
  }
  int64_t ellipsis_count = 0, consumed = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (bit(elm, i)) ellipsis_count++;
    else if (!bit(nm, i)) consumed++;
  }
  if (ellipsis_count > 1) c.fail("more than one ellipsis");
  if (consumed > rank) c.fail("begin/end have more entries than the input rank");

  std::vector<int64_t> entry_idx, axes, st, starts_fix, ends_fix;  // per sliced axis
  std::vector<bool> b_ignored, e_ignored;
  std::vector<int64_t> squeeze_axes, unsqueeze_out;
  int64_t ax = 0, out_pos = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (bit(elm, i)) {
      int64_t cover = rank - consumed;
      ax += cover;
      out_pos += cover;
      continue;
    }
    if (bit(nm, i)) {
      unsqueeze_out.push_back(out_pos++);
      continue;
    }
    int64_t s = strides[static_cast<size_t>(i)];
    if (s == 0) c.fail("stride 0");
    bool shrink = bit(sm, i);
    entry_idx.push_back(i);
    axes.push_back(ax);
    st.push_back(shrink ? 1 : s);
    b_ignored.push_back(!shrink && bit(bm, i));
    e_ignored.push_back(shrink || bit(em, i));
    if (shrink) squeeze_axes.push_back(ax);
    else out_pos++;
    ax++;
  }
  // OpenVINO's mask convention: a mask bit of 1 means the begin/end value is ignored (the full range is used).
  std::string cur = x.name;
  if (!axes.empty()) {
    std::vector<int64_t> idx(entry_idx.begin(), entry_idx.end());
    std::string starts, ends;
    bool begin_const = c.in(1).isConst(), end_const = c.in(2).isConst();
    std::vector<int64_t> bvals, evals;
    if (begin_const) bvals = c.constInts(1);
    if (end_const) evals = c.constInts(2);
    std::vector<int64_t> sfix, efix;
    std::vector<int64_t> smask, emask;  // 1 where the fixed value replaces the input
    for (size_t k = 0; k < axes.size(); ++k) {
      int64_t s = st[k];
      sfix.push_back(s > 0 ? 0 : kMax);
      efix.push_back(s > 0 ? kMax : kMin);
      smask.push_back(b_ignored[k] ? 1 : 0);
      emask.push_back(e_ignored[k] ? 1 : 0);
    }
    bool any_shrink = !squeeze_axes.empty();
    if (begin_const) {
      std::vector<int64_t> s(axes.size()), e(axes.size());
      for (size_t k = 0; k < axes.size(); ++k) {
        int64_t i = entry_idx[k];
        if (static_cast<size_t>(i) >= bvals.size()) c.fail("begin is too short");
        s[k] = b_ignored[k] ? sfix[k] : bvals[static_cast<size_t>(i)];
      }
      starts = c.g.constI64(s);
      if (end_const || any_shrink) {
        for (size_t k = 0; k < axes.size(); ++k) {
          int64_t i = entry_idx[k];
          bool shrink = std::find(squeeze_axes.begin(), squeeze_axes.end(), axes[k]) != squeeze_axes.end();
          if (shrink) e[k] = s[k] == -1 ? kMax : s[k] + 1;
          else if (e_ignored[k]) e[k] = efix[k];
          else {
            if (!end_const) { e.clear(); break; }
            if (static_cast<size_t>(i) >= evals.size()) c.fail("end is too short");
            e[k] = evals[static_cast<size_t>(i)];
          }
        }
        if (!e.empty()) ends = c.g.constI64(e);
      }
    }
    if (starts.empty()) {
      std::string b = c.g.op("Gather", {i64(c, 1), c.g.constI64(idx)});
      starts = c.g.op("Where", {c.g.cast(c.g.constI64(smask), TP::INT64, TP::BOOL), c.g.constI64(sfix), b});
    }
    if (ends.empty()) {
      std::string e = c.g.op("Gather", {i64(c, 2), c.g.constI64(idx)});
      // shrink entries: end = begin + 1 (or "to the end" when begin is -1)
      std::string s1 = c.g.op("Add", {starts, c.g.constI64({1})});
      s1 = c.g.op("Where", {c.g.op("Equal", {s1, c.g.constI64({0})}), c.g.constI64({kMax}), s1});
      std::vector<int64_t> shr;
      for (size_t k = 0; k < axes.size(); ++k)
        shr.push_back(std::find(squeeze_axes.begin(), squeeze_axes.end(), axes[k]) != squeeze_axes.end() ? 1 : 0);
      std::vector<int64_t> emask_noshrink;
      for (size_t k = 0; k < axes.size(); ++k) emask_noshrink.push_back(emask[k] && !shr[k] ? 1 : 0);
      e = c.g.op("Where", {c.g.cast(c.g.constI64(emask_noshrink), TP::INT64, TP::BOOL), c.g.constI64(efix), e});
      ends = c.g.op("Where", {c.g.cast(c.g.constI64(shr), TP::INT64, TP::BOOL), s1, e});
    }
    cur = c.g.op("Slice", {cur, starts, ends, c.g.constI64(axes), c.g.constI64(st)});
  }
  if (!squeeze_axes.empty()) cur = c.g.op("Squeeze", {cur, c.g.constI64(squeeze_axes)});
  if (!unsqueeze_out.empty()) cur = c.g.op("Unsqueeze", {cur, c.g.constI64(unsqueeze_out)});
  if (cur == x.name) cur = c.g.op("Identity", {cur});
  Value v = c.out(cur, x.type);
  v.ir_type = x.ir_type;
  return {v};
}

std::vector<Value> gather(NodeContext& c, bool has_batch_dims) {
  c.requireInputs(3, 3);
  const Value& x = c.in(0);
  auto axv = c.constInts(2);
  if (axv.size() != 1) c.fail("axis must be a scalar");
  int64_t rank = c.rankOf(0);
  int64_t axis = normAxis(c, axv[0], rank);
  int64_t bd = has_batch_dims ? c.i("batch_dims", 0) : 0;
  std::string idx = castTo(c.g, c.in(1), c.in(1).type == TP::INT32 ? TP::INT32 : TP::INT64);
  std::string r;
  if (bd == 0) {
    r = c.g.node("Gather", {x.name, idx}).attr("axis", axis).out();
  } else {
    int64_t ir = c.rankOf(1);
    if (bd < 0) bd += ir;
    if (bd < 0 || bd > axis || bd > ir)
      c.fail("batch_dims " + std::to_string(bd) + " must be in [0, min(axis " + std::to_string(axis) + ", indices rank " + std::to_string(ir) + ")]");
    // Gather(data, idx, axis=a, batch_dims=b) == GatherND(data', idx[..., None], batch_dims=b) where data' has axis a
    // moved right after the batch axes; the free axes b..a-1 then come out after the index dims and are moved back.
    std::string ii = castTo(c.g, c.in(1), TP::INT64);
    std::string ax_len = c.g.op("Gather", {c.g.op("Shape", {x.name}), c.g.constI64({axis})});
    std::string neg = c.g.op("Less", {ii, c.g.constI64({0}, true)});
    ii = c.g.op("Where", {neg, c.g.op("Add", {ii, ax_len}), ii});
    std::string data = x.name;
    const int64_t free_axes = axis - bd, index_axes = ir - bd;
    if (free_axes > 0) {
      std::vector<int64_t> perm;
      for (int64_t k = 0; k < bd; ++k) perm.push_back(k);
      perm.push_back(axis);
      for (int64_t k = bd; k < axis; ++k) perm.push_back(k);
      for (int64_t k = axis + 1; k < rank; ++k) perm.push_back(k);
      data = c.g.node("Transpose", {data}).attr("perm", perm).out();
    }
    r = c.g.node("GatherND", {data, c.g.op("Unsqueeze", {ii, c.g.constI64({-1})})}).attr("batch_dims", bd).out();
    if (free_axes > 0 && index_axes > 0) {
      // GatherND gives [batch, index dims, free axes, rest]; OpenVINO's order is [batch, free axes, index dims, rest].
      std::vector<int64_t> perm;
      for (int64_t k = 0; k < bd; ++k) perm.push_back(k);
      for (int64_t k = 0; k < free_axes; ++k) perm.push_back(bd + index_axes + k);
      for (int64_t k = 0; k < index_axes; ++k) perm.push_back(bd + k);
      for (int64_t k = bd + index_axes + free_axes; k < rank - 1 + index_axes; ++k) perm.push_back(k);
      r = c.g.node("Transpose", {r}).attr("perm", perm).out();
    }
  }
  Value v = c.out(r, x.type);
  v.ir_type = x.ir_type;
  return {v};
}

std::vector<Value> broadcast(NodeContext& c) {
  c.requireInputs(2, 3);
  const Value& x = c.in(0);
  std::string mode = c.str("mode", "numpy");
  std::string shape = i64(c, 1);
  std::string data = x.name;
  if (mode == "explicit") {
    if (c.numInputs() != 3) c.fail("explicit mode needs axes_mapping");
    auto mapping = c.constInts(2);
    int64_t target_rank = -1;
    if (c.in(1).isConst()) target_rank = c.in(1).constant->numel();
    else if (c.in(1).rank == 1 && c.in(1).dims[0] >= 0) target_rank = c.in(1).dims[0];
    if (target_rank < 0) c.fail("target shape length must be static");
    std::set<int64_t> mapped(mapping.begin(), mapping.end());
    std::vector<int64_t> extra;
    for (int64_t k = 0; k < target_rank; ++k)
      if (!mapped.count(k)) extra.push_back(k);
    if (!extra.empty()) data = c.g.op("Unsqueeze", {data, c.g.constI64(extra)});
  } else if (mode != "numpy" && mode != "bidirectional") {
    c.fail("unsupported broadcast mode '" + mode + "'");
  }
  Value v = c.out(c.g.op("Expand", {data, shape}), x.type);
  v.ir_type = x.ir_type;
  return {v};
}

std::vector<Value> tile(NodeContext& c) {
  c.requireInputs(2, 2);
  const Value& x = c.in(0);
  int64_t rank = c.rankOf(0);
  int64_t n = -1;
  if (c.in(1).isConst()) n = c.in(1).constant->numel();
  else if (c.in(1).rank == 1 && c.in(1).dims[0] >= 0) n = c.in(1).dims[0];
  if (n < 0) c.fail("repeats length must be static");
  std::string data = x.name;
  std::string rep = i64(c, 1);
  if (n < rank) {
    rep = c.g.node("Concat", {c.g.constI64(std::vector<int64_t>(static_cast<size_t>(rank - n), 1)), rep}).attr("axis", int64_t{0}).out();
  } else if (n > rank) {
    std::vector<int64_t> axes;
    for (int64_t k = 0; k < n - rank; ++k) axes.push_back(k);
    data = c.g.op("Unsqueeze", {data, c.g.constI64(axes)});
  }
  Value v = c.out(c.g.op("Tile", {data, rep}), x.type);
  v.ir_type = x.ir_type;
  return {v};
}

std::vector<Value> range(NodeContext& c, bool v4) {
  c.requireInputs(3, 3);
  int32_t ot;
  ElemType oe;
  if (v4) {
    auto et = parseElemType(c.strReq("output_type"));
    if (!et) c.fail("bad output_type");
    oe = *et;
    ot = computeOnnxType(*et);
  } else {
    ot = c.in(0).type;
    oe = c.in(0).ir_type;
  }
  int32_t ct = (ot == TP::FLOAT || ot == TP::DOUBLE || ot == TP::INT16 || ot == TP::INT32 || ot == TP::INT64) ? ot
               : isFloatOnnx(ot) ? TP::FLOAT : TP::INT64;
  if (c.in(0).isConst() && c.in(1).isConst() && c.in(2).isConst()) {
    // Fold (shape subgraphs such as ShapeOf -> Range feeding reduction axes).
    auto s = c.constDoubles(0), e = c.constDoubles(1), d = c.constDoubles(2);
    if (s.size() != 1 || e.size() != 1 || d.size() != 1) c.fail("start/stop/step must be scalars");
    if (d[0] == 0) c.fail("step is 0");
    double n = std::ceil((e[0] - s[0]) / d[0]);
    if (!isFloatOnnx(ct)) n = std::ceil((std::trunc(e[0]) - std::trunc(s[0])) / std::trunc(d[0]));
    if (n < 0) n = 0;
    if (n > 1e7) c.fail("range is too large");
    std::vector<double> vals;
    for (int64_t k = 0; k < static_cast<int64_t>(n); ++k) vals.push_back(s[0] + static_cast<double>(k) * d[0]);
    Value v = c.out("", ot);
    v.constant = ConstData::fromDoubles(ot, {static_cast<int64_t>(vals.size())}, vals);
    v.rank = 1;
    v.dims = {static_cast<int64_t>(vals.size())};
    v.ir_type = oe;
    return {v};
  }
  std::vector<std::string> ins;
  for (size_t k = 0; k < 3; ++k) {
    std::string s = castTo(c.g, c.in(k), ct);
    if (c.in(k).rank != 0) s = c.g.op("Reshape", {s, c.g.constI64({}, false)});
    ins.push_back(s);
  }
  Value v = c.out(c.g.cast(c.g.op("Range", ins), ct, ot), ot);
  v.ir_type = oe;
  return {v};
}

std::vector<Value> nonZero(NodeContext& c) {
  c.requireInputs(1, 1);
  const Value& x = c.in(0);
  int32_t ot = c.str("output_type", "i64") == "i32" ? TP::INT32 : TP::INT64;
  int32_t ct = (x.type == TP::FLOAT || x.type == TP::INT32 || x.type == TP::INT64 || x.type == TP::UINT8 || x.type == TP::BOOL) ? x.type
               : isFloatOnnx(x.type) ? TP::FLOAT : TP::INT64;
  std::string r = c.g.op("NonZero", {c.g.cast(x.name, x.type, ct)});
  return {c.out(c.g.cast(r, TP::INT64, ot), ot)};
}

std::vector<Value> split(NodeContext& c, bool variadic) {
  c.requireInputs(2, 3);
  const Value& x = c.in(0);
  auto axv = c.constInts(1);
  if (axv.size() != 1) c.fail("axis must be a scalar");
  int64_t axis = normAxis(c, axv[0], c.rankOf(0));
  size_t nout = c.layer.outputs.size();
  NodeBuilder n(nullptr);
  if (variadic) {
    auto lens = c.constInts(2);
    int64_t minus = std::count(lens.begin(), lens.end(), -1);
    if (minus > 1) c.fail("more than one -1 in split_lengths");
    if (minus == 1) {
      if (x.rank < 0 || x.dims[static_cast<size_t>(axis)] < 0) c.fail("-1 in split_lengths needs a static dimension");
      int64_t rest = x.dims[static_cast<size_t>(axis)];
      for (auto l : lens)
        if (l >= 0) rest -= l;
      for (auto& l : lens)
        if (l == -1) l = rest;
    }
    n = c.g.node("Split", {x.name, c.g.constI64(lens)}, static_cast<int>(lens.size()));
  } else {
    int64_t parts = c.iReq("num_splits");
    if (parts < 1 || static_cast<size_t>(parts) != nout) c.fail("num_splits does not match the outputs");
    n = c.g.node("Split", {x.name}, static_cast<int>(parts));  // opset 17: equal parts, one per output
  }
  n.attr("axis", axis);
  std::vector<Value> outs;
  for (int k = 0; k < n.proto()->output_size(); ++k) {
    Value v = c.out(n.out(k), x.type, static_cast<size_t>(k));
    v.ir_type = x.ir_type;
    outs.push_back(v);
  }
  return outs;
}

}  // namespace

void ovms_ir_register_shape_ops(OpRegistry& r) {
  r.add("Reshape", "opset1", reshape);
  r.add("ShapeOf", "opset1", [](NodeContext& c) { return shapeOf(c, false); });
  r.add("ShapeOf", "opset3", [](NodeContext& c) { return shapeOf(c, true); });
  r.add("Concat", "opset1", concat);
  r.add("Squeeze", "opset1", squeeze);
  r.add("Unsqueeze", "opset1", unsqueeze);
  r.add("Transpose", "opset1", transpose);
  r.add("StridedSlice", "opset1", stridedSlice);
  r.add("Gather", "opset1", [](NodeContext& c) { return gather(c, false); });
  r.add("Gather", "opset7", [](NodeContext& c) { return gather(c, true); });
  r.add("Gather", "opset8", [](NodeContext& c) { return gather(c, true); });
  r.add("Broadcast", "opset1", broadcast);
  r.add("Broadcast", "opset3", broadcast);
  r.add("Tile", "opset1", tile);
  r.add("Range", "opset1", [](NodeContext& c) { return range(c, false); });
  r.add("Range", "opset4", [](NodeContext& c) { return range(c, true); });
  r.add("NonZero", "opset3", nonZero);
  r.add("VariadicSplit", "opset1", [](NodeContext& c) { return split(c, true); });
  r.add("Split", "opset1", [](NodeContext& c) { return split(c, false); });
}

}  // namespace ovms::engine::ir
