// Convolution, GroupConvolution, MatMul.
#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

// Sets auto_pad / pads / strides / dilations for Conv-like nodes.
void convAttrs(NodeContext& c, NodeBuilder& n, size_t spatial) {
  std::vector<int64_t> ones(spatial, 1), zeros(spatial, 0);
  auto strides = c.ints("strides", ones);
  auto dil = c.ints("dilations", ones);
  auto pb = c.ints("pads_begin", zeros);
  auto pe = c.ints("pads_end", zeros);
  if (strides.size() != spatial || dil.size() != spatial) c.fail("strides/dilations do not match the spatial rank");
  std::string ap = c.str("auto_pad", "explicit");
  n.attr("strides", strides).attr("dilations", dil);
  if (ap == "same_upper") {
    n.attr("auto_pad", "SAME_UPPER");
  } else if (ap == "same_lower") {
    n.attr("auto_pad", "SAME_LOWER");
  } else if (ap == "valid") {
    n.attr("auto_pad", "VALID");
  } else if (ap == "explicit" || ap == "notset" || ap.empty()) {
    if (pb.size() != spatial || pe.size() != spatial) c.fail("pads_begin/pads_end do not match the spatial rank");
    std::vector<int64_t> pads = pb;
    pads.insert(pads.end(), pe.begin(), pe.end());
    n.attr("pads", pads);
  } else {
    c.fail("unsupported auto_pad '" + ap + "'");
  }
}

std::vector<Value> convolution(NodeContext& c, bool grouped) {
  c.requireInputs(2, 2);
  const Value& x = c.in(0);
  const Value& w = c.in(1);
  if (!isFloatOnnx(x.type)) c.fail("only floating point convolution is supported");
  int64_t wr = c.rankOf(1);
  size_t spatial = static_cast<size_t>(wr - (grouped ? 3 : 2));
  if (wr < 3 || spatial < 1) c.fail("bad weights rank " + std::to_string(wr));
  std::string wname = c.g.cast(w.name, w.type, x.type);
  int64_t group = 1;
  if (grouped) {
    // [G, O/G, I/G, k...] -> [O, I/G, k...]
    if (w.dims.size() != static_cast<size_t>(wr) || w.dims[0] < 0) c.fail("grouped weights need a static group dimension");
    group = w.dims[0];
    if (w.isConst()) {
      ConstData cd = *w.constant;
      std::vector<int64_t> d{cd.dims[0] * cd.dims[1]};
      d.insert(d.end(), cd.dims.begin() + 2, cd.dims.end());
      cd.dims = d;
      cd.onnx_type = w.constant->onnx_type;
      wname = c.g.cast(c.g.initializer(cd, "gweights"), cd.onnx_type, x.type);
    } else {
      std::vector<int64_t> shape{-1};
      for (size_t k = 2; k < w.dims.size(); ++k) shape.push_back(w.dims[k] >= 0 ? w.dims[k] : 0);
      // 0 keeps the input dimension only at the same position; use explicit dims when known
      for (size_t k = 2; k < w.dims.size(); ++k)
        if (w.dims[k] < 0) c.fail("grouped weights need static dimensions");
      wname = c.g.op("Reshape", {wname, c.g.constI64(shape)});
    }
  }
  auto n = c.g.node("Conv", {x.name, wname});
  if (group != 1) n.attr("group", group);
  convAttrs(c, n, spatial);
  return {c.out(n.out(), x.type)};
}

std::vector<Value> matmul(NodeContext& c) {
  c.requireInputs(2, 2);
  const Value& a = c.in(0);
  const Value& b = c.in(1);
  auto tr = [&](const Value& v, size_t idx, bool t) {
    std::string n = c.g.cast(v.name, v.type, a.type);
    if (!t) return n;
    int64_t r = c.rankOf(idx);
    if (r < 2) return n;
    std::vector<int64_t> perm;
    for (int64_t k = 0; k < r; ++k) perm.push_back(k);
    std::swap(perm[static_cast<size_t>(r - 1)], perm[static_cast<size_t>(r - 2)]);
    return c.g.node("Transpose", {n}).attr("perm", perm).out();
  };
  std::string x = tr(a, 0, c.b("transpose_a", false));
  std::string y = tr(b, 1, c.b("transpose_b", false));
  int32_t ct = ortArithmeticType(a.type) ? a.type : widenedType(a.type);
  std::string r = c.g.op("MatMul", {c.g.cast(x, a.type, ct), c.g.cast(y, a.type, ct)});
  return {c.out(c.g.cast(r, ct, a.type), a.type)};
}

}  // namespace

void ovms_ir_register_convolution(OpRegistry& r) {
  r.add("Convolution", "opset1", [](NodeContext& c) { return convolution(c, false); });
  r.add("GroupConvolution", "opset1", [](NodeContext& c) { return convolution(c, true); });
  r.add("MatMul", "opset1", matmul);
}

}  // namespace ovms::engine::ir
