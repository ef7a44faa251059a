// Caffe/Darknet-era detection layers: PriorBox (v0/opset1, v8), folded to a constant when the feature-map and
// image sizes are known at translation time; RegionYolo (v0/opset1), decomposed into ONNX ops.
#include <algorithm>
#include <cmath>

#include "engine/ir/op_registry.h"

namespace ovms::engine::ir {
namespace {

using TP = onnx::TensorProto;

struct PriorBoxAttrs {
  std::vector<float> min_size, max_size, aspect_ratio, density, fixed_ratio, fixed_size, variance;
  bool clip = false, flip = false, scale_all_sizes = true, min_max_order = true;
  float step = 0, offset = 0.5f;
};

// Boxes for every cell of an H x W feature map on an IH x IW image: output [2, 4 * H * W * priors], row 0 the
// normalized corners (xmin, ymin, xmax, ymax), row 1 the variances.
std::vector<float> priorBoxes(const PriorBoxAttrs& a, int64_t H, int64_t W, int64_t IH, int64_t IW) {
  if (H <= 0 || W <= 0 || IH <= 0 || IW <= 0) throw IrError("PriorBox: sizes must be positive");
  std::vector<float> ars{1.0f};
  for (float r : a.aspect_ratio) {
    bool seen = std::any_of(ars.begin(), ars.end(), [&](float e) { return std::fabs(e - r) < 1e-6f; });
    if (seen) continue;
    ars.push_back(r);
    if (a.flip) ars.push_back(1.0f / r);
  }
  std::vector<float> mins = a.min_size;
  float step = a.step;
  if (!a.scale_all_sizes) {  // MXNet-style: sizes and step relative to the image height
    step = step == -1 ? static_cast<float>(IH) / static_cast<float>(H) : step * static_cast<float>(IH);
    for (auto& m : mins) m *= static_cast<float>(IH);
  }
  const float inv_w = 1.0f / static_cast<float>(IW), inv_h = 1.0f / static_cast<float>(IH);
  const float step_x = step == 0 ? static_cast<float>(IW) / static_cast<float>(W) : step;
  const float step_y = step == 0 ? static_cast<float>(IH) / static_cast<float>(H) : step;
  std::vector<float> boxes;
  auto emit = [&](float cx, float cy, float hw, float hh, bool clip) {
    float v[4] = {(cx - hw) * inv_w, (cy - hh) * inv_h, (cx + hw) * inv_w, (cy + hh) * inv_h};
    if (clip) {
      v[0] = std::max(v[0], 0.0f);
      v[1] = std::max(v[1], 0.0f);
      v[2] = std::min(v[2], 1.0f);
      v[3] = std::min(v[3], 1.0f);
    }
    boxes.insert(boxes.end(), v, v + 4);
  };
  auto denseGrid = [&](float cx, float cy, size_t s, float hw, float hh) {
    int64_t dens = static_cast<int64_t>(a.density.at(s));
    if (dens <= 0) throw IrError("PriorBox: density must be positive");
    float fs = a.fixed_size[s];
    int64_t shift = static_cast<int64_t>(fs / static_cast<float>(dens));
    float base = static_cast<float>(static_cast<size_t>(fs)) / 2;  // OpenVINO truncates the fixed size here
    for (int64_t r = 0; r < dens; ++r)
      for (int64_t col = 0; col < dens; ++col)
        emit(cx - base + static_cast<float>(shift) / 2.f + static_cast<float>(col * shift),
             cy - base + static_cast<float>(shift) / 2.f + static_cast<float>(r * shift), hw, hh, true);
  };
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t w = 0; w < W; ++w) {
      float cx, cy;
      if (step == 0) {
        cx = (static_cast<float>(w) + 0.5f) * step_x;
        cy = (static_cast<float>(h) + 0.5f) * step_y;
      } else {
        cx = (a.offset + static_cast<float>(w)) * step;
        cy = (a.offset + static_cast<float>(h)) * step;
      }
      for (size_t s = 0; s < a.fixed_size.size(); ++s) {
        float half = static_cast<float>(static_cast<size_t>(a.fixed_size[s])) * 0.5f;
        if (!a.fixed_ratio.empty()) {
          for (float r : a.fixed_ratio) {
            float q = std::sqrt(r);
            denseGrid(cx, cy, s, a.fixed_size[s] * 0.5f * q, a.fixed_size[s] * 0.5f / q);
          }
        } else {
          if (!a.density.empty()) denseGrid(cx, cy, s, half, half);
          for (float r : ars) {
            if (std::fabs(r - 1.0f) < 1e-6f) continue;
            float q = std::sqrt(r);
            denseGrid(cx, cy, s, a.fixed_size[s] * 0.5f * q, a.fixed_size[s] * 0.5f / q);
          }
        }
      }
      for (size_t m = 0; m < mins.size(); ++m) {
        auto maxBox = [&] {
          if (a.max_size.size() > m) {
            float half = std::sqrt(mins[m] * a.max_size[m]) * 0.5f;
            emit(cx, cy, half, half, false);
          }
        };
        auto arBoxes = [&] {
          if (!a.scale_all_sizes && m != mins.size() - 1) return;
          size_t sidx = a.scale_all_sizes ? m : 0;
          for (float r : ars) {
            if (std::fabs(r - 1.0f) < 1e-6f) continue;
            float q = std::sqrt(r);
            emit(cx, cy, mins[sidx] * 0.5f * q, mins[sidx] * 0.5f / q, false);
          }
        };
        emit(cx, cy, mins[m] * 0.5f, mins[m] * 0.5f, false);
        if (a.min_max_order) {
          maxBox();
          arBoxes();
        } else {
          arBoxes();
          maxBox();
        }
      }
    }
  }
  if (a.clip)
    for (auto& v : boxes) v = std::min(std::max(v, 0.0f), 1.0f);
  std::vector<float> var = a.variance.empty() ? std::vector<float>{0.1f} : a.variance;
  size_t n = boxes.size();
  boxes.resize(2 * n);
  for (size_t k = 0; k < n; ++k) boxes[n + k] = var.size() == 1 ? var[0] : var[k % 4];
  return boxes;
}

std::vector<Value> priorBox(NodeContext& c, bool v8) {
  c.requireInputs(2, 2);
  PriorBoxAttrs a;
  a.min_size = c.floats("min_size");
  a.max_size = c.floats("max_size");
  a.aspect_ratio = c.floats("aspect_ratio");
  a.density = c.floats("density");
  a.fixed_ratio = c.floats("fixed_ratio");
  a.fixed_size = c.floats("fixed_size");
  a.variance = c.floats("variance");
  a.clip = c.b("clip", false);
  a.flip = c.b("flip", false);
  a.scale_all_sizes = c.b("scale_all_sizes", true);
  a.min_max_order = v8 ? c.b("min_max_aspect_ratios_order", true) : true;
  a.step = static_cast<float>(c.f("step", 0));
  a.offset = static_cast<float>(c.f("offset", 0.5));
  if (!a.variance.empty() && a.variance.size() != 1 && a.variance.size() != 4) c.fail("variance must have 0, 1 or 4 values");
  if (!a.density.empty() && a.density.size() != a.fixed_size.size()) c.fail("density and fixed_size must have the same length");
  if (!a.fixed_size.empty() && a.density.empty()) c.fail("fixed_size needs density");
  if (!c.in(0).isConst() || !c.in(1).isConst())
    c.fail("PriorBox is only supported when the feature map and image sizes are known at load time (static input shapes)");
  auto o = c.constInts(0), im = c.constInts(1);
  if (o.size() != 2 || im.size() != 2) c.fail("output_size and image_size must have 2 values");
  std::vector<float> v;
  try {
    v = priorBoxes(a, o[0], o[1], im[0], im[1]);
  } catch (const std::exception& e) {
    c.fail(e.what());
  }
  return {constantPriorBoxes(c, v)};
}

// RegionYolo: per region, sigmoid on x, y (entries 0, 1) and on the objectness (entry `coords`); class scores get
// softmax (do_softmax, YOLOv2) or sigmoid (YOLOv3); with do_softmax the axes axis..end_axis are flattened.
std::vector<Value> regionYolo(NodeContext& c) {
  c.requireInputs(1, 1);
  const Value& x = c.in(0);
  if (!isFloatOnnx(x.type)) c.fail("only floating point inputs are supported");
  int64_t rank = c.rankOf(0);
  if (rank != 4) c.fail("only 4-D inputs are supported");
  int64_t coords = c.i("coords", 4), classes = c.iReq("classes"), num = c.iReq("num");
  bool softmax = c.b("do_softmax", true);
  auto mask = c.ints("mask");
  int64_t regions = softmax ? num : static_cast<int64_t>(mask.size());
  if (coords < 2 || classes < 1 || regions < 1) c.fail("bad coords/classes/num/mask");
  int64_t per = coords + 1 + classes;
  if (x.dims.size() == 4 && x.dims[1] >= 0 && x.dims[1] != per * regions)
    c.fail("input has " + std::to_string(x.dims[1]) + " channels, expected " + std::to_string(per * regions));
  std::string shape = c.g.op("Shape", {x.name});
  std::string r = c.g.op("Reshape", {x.name, c.g.constI64({0, regions, per, -1})});
  auto part = [&](int64_t b, int64_t e) {
    return c.g.op("Slice", {r, c.g.constI64({b}), c.g.constI64({e}), c.g.constI64({2})});
  };
  std::vector<std::string> parts{c.g.op("Sigmoid", {part(0, 2)})};
  if (coords > 2) parts.push_back(part(2, coords));
  parts.push_back(c.g.op("Sigmoid", {part(coords, coords + 1)}));
  std::string cls = part(coords + 1, per);
  parts.push_back(softmax ? c.g.node("Softmax", {cls}).attr("axis", int64_t{2}).out() : c.g.op("Sigmoid", {cls}));
  std::string y = c.g.op("Reshape", {c.g.node("Concat", parts).attr("axis", int64_t{2}).out(), shape});
  if (softmax) {
    int64_t axis = normAxis(c, c.i("axis", 1), rank), end = normAxis(c, c.i("end_axis", 3), rank);
    if (end < axis) c.fail("end_axis is before axis");
    auto sl = [&](int64_t b, int64_t e) {
      return c.g.op("Slice", {shape, c.g.constI64({b}), c.g.constI64({e}), c.g.constI64({0})});
    };
    std::vector<std::string> dims;
    if (axis > 0) dims.push_back(sl(0, axis));
    dims.push_back(c.g.constI64({-1}));
    if (end + 1 < rank) dims.push_back(sl(end + 1, rank));
    y = c.g.op("Reshape", {y, c.g.node("Concat", dims).attr("axis", int64_t{0}).out()});
  }
  Value v = c.out(y, x.type);
  v.ir_type = x.ir_type;
  return {v};
}

}  // namespace

void ovms_ir_register_legacy_detection(OpRegistry& r) {
  r.add("PriorBox", "opset1", [](NodeContext& c) { return priorBox(c, false); });
  r.add("PriorBox", "opset8", [](NodeContext& c) { return priorBox(c, true); });
  r.add("RegionYolo", "opset1", regionYolo);
}

}  // namespace ovms::engine::ir
