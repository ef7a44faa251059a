// ConvolutionBackpropData (v1) and GroupConvolutionBackpropData (v1) -> ONNX ConvTranspose.
#include <algorithm>

#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

std::vector<Value> deconv(NodeContext& c, bool grouped) {
  c.requireInputs(2, 3);
  const Value& x = c.in(0);
  const Value& w = c.in(1);
  if (!isFloatOnnx(x.type)) c.fail("only floating point inputs are supported");
  int64_t wr = c.rankOf(1);
  int64_t xr = c.rankOf(0);
  size_t spatial = static_cast<size_t>(xr - 2);
  if (xr < 3 || wr != xr + (grouped ? 1 : 0)) c.fail("bad data/filter ranks " + std::to_string(xr) + "/" + std::to_string(wr));
  std::vector<int64_t> ones(spatial, 1), zeros(spatial, 0);
  auto strides = c.ints("strides", ones);
  auto dil = c.ints("dilations", ones);
  auto pb = c.ints("pads_begin", zeros);
  auto pe = c.ints("pads_end", zeros);
  auto op = c.ints("output_padding", zeros);
  if (op.empty()) op = zeros;
  if (strides.size() != spatial || dil.size() != spatial || op.size() != spatial) c.fail("strides/dilations/output_padding do not match the spatial rank");
  std::string ap = c.str("auto_pad", "explicit");
  if (ap.empty() || ap == "notset") ap = "explicit";
  if (ap != "explicit" && ap != "same_upper" && ap != "same_lower" && ap != "valid") c.fail("unsupported auto_pad '" + ap + "'");

  std::string wname = c.g.cast(w.name, w.type, x.type);
  int64_t group = 1;
  std::vector<int64_t> kdims;  // kernel spatial dims, when known
  if (w.dims.size() == static_cast<size_t>(wr))
    for (size_t k = static_cast<size_t>(wr) - spatial; k < static_cast<size_t>(wr); ++k) kdims.push_back(w.dims[k]);
  if (grouped) {
    // [G, C_in/G, C_out/G, k...] -> [C_in, C_out/G, k...]
    if (w.dims.size() != static_cast<size_t>(wr)) c.fail("grouped filters need a known shape");
    for (auto d : w.dims)
      if (d < 0) c.fail("grouped filters need a static shape");
    group = w.dims[0];
    std::vector<int64_t> shape{w.dims[0] * w.dims[1]};
    shape.insert(shape.end(), w.dims.begin() + 2, w.dims.end());
    wname = c.g.op("Reshape", {wname, c.g.constI64(shape)});
  }
  bool kernel_known = kdims.size() == spatial && std::all_of(kdims.begin(), kdims.end(), [](int64_t d) { return d >= 0; });
  std::vector<int64_t> in_sp;
  bool in_known = x.dims.size() == static_cast<size_t>(xr);
  if (in_known)
    for (size_t k = 2; k < static_cast<size_t>(xr); ++k) {
      in_sp.push_back(x.dims[k]);
      in_known = in_known && x.dims[k] >= 0;
    }

  auto n = c.g.node("ConvTranspose", {x.name, wname});
  if (group != 1) n.attr("group", group);
  n.attr("strides", strides).attr("dilations", dil);
  std::vector<int64_t> pads;
  bool has_out_shape = c.numInputs() == 3;
  std::vector<int64_t> out_shape;
  if (has_out_shape) {
    out_shape = c.constInts(2);
    if (out_shape.size() != spatial) c.fail("output_shape must list every spatial dimension");
  }
  if (has_out_shape || ap == "same_upper" || ap == "same_lower") {
    // Padding deduced from the requested output size (same_*: output = input * stride).
    if (!kernel_known || !in_known) {
      if (has_out_shape) {
        n.attr("output_shape", out_shape);
        if (ap == "same_lower") n.attr("auto_pad", "SAME_LOWER");
        else n.attr("auto_pad", "SAME_UPPER");
        if (op != zeros) n.attr("output_padding", op);
        return {c.out(n.out(), x.type)};
      }
      n.attr("auto_pad", ap == "same_upper" ? "SAME_UPPER" : "SAME_LOWER");
      return {c.out(n.out(), x.type)};
    }
    std::vector<int64_t> b(spatial), e(spatial);
    for (size_t k = 0; k < spatial; ++k) {
      int64_t out = has_out_shape ? out_shape[k] : in_sp[k] * strides[k];
      int64_t total = strides[k] * (in_sp[k] - 1) + op[k] + (kdims[k] - 1) * dil[k] + 1 - out;
      if (total < 0) {
        // the output is larger than the natural size: extend with output_padding
        op[k] += -total;
        total = 0;
      }
      if (ap == "same_lower") {
        e[k] = total / 2;
        b[k] = total - e[k];
      } else {
        b[k] = total / 2;
        e[k] = total - b[k];
      }
    }
    pads = b;
    pads.insert(pads.end(), e.begin(), e.end());
  } else if (ap == "valid") {
    pads.assign(2 * spatial, 0);
  } else {
    if (pb.size() != spatial || pe.size() != spatial) c.fail("pads_begin/pads_end do not match the spatial rank");
    pads = pb;
    pads.insert(pads.end(), pe.begin(), pe.end());
  }
  n.attr("pads", pads);
  if (op != zeros) n.attr("output_padding", op);
  return {c.out(n.out(), x.type)};
}

}  // namespace

void ovms_ir_register_deconvolution(OpRegistry& r) {
  r.add("ConvolutionBackpropData", "opset1", [](NodeContext& c) { return deconv(c, false); });
  r.add("GroupConvolutionBackpropData", "opset1", [](NodeContext& c) { return deconv(c, true); });
}

}  // namespace ovms::engine::ir
