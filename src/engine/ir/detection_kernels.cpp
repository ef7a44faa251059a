#include "engine/ir/detection_kernels.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace ovms::engine::ir::kernels {

// Boxes for every cell of an H x W feature map on an IH x IW image: output [2, 4 * H * W * priors], row 0 the
// normalized corners (xmin, ymin, xmax, ymax), row 1 the variances.
std::vector<float> priorBox(const PriorBoxAttrs& a, int64_t H, int64_t W, int64_t IH, int64_t IW) {
  if (H <= 0 || W <= 0 || IH <= 0 || IW <= 0) throw std::runtime_error("PriorBox: sizes must be positive");
  if (H > (1 << 14) || W > (1 << 14) || H * W > (1 << 20)) throw std::runtime_error("PriorBox: feature map too large");
  if (a.density.size() != a.fixed_size.size() && !a.fixed_size.empty())
    throw std::runtime_error("PriorBox: density and fixed_size must have the same length");
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
    if (dens <= 0) throw std::runtime_error("PriorBox: density must be positive");
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


std::vector<float> priorBoxClustered(const PriorBoxClusteredAttrs& a, int64_t layer_h, int64_t layer_w, int64_t img_h, int64_t img_w) {
  if (a.widths.size() != a.heights.size() || a.widths.empty()) throw std::runtime_error("PriorBoxClustered: width and height lists differ or are empty");
  if (layer_h < 0 || layer_w < 0 || img_h <= 0 || img_w <= 0 || layer_h > (1 << 20) || layer_w > (1 << 20))
    throw std::runtime_error("PriorBoxClustered: bad layer or image size");
  std::vector<float> var = a.variances.empty() ? std::vector<float>{0.1f} : a.variances;
  if (var.size() != 1 && var.size() != 4) throw std::runtime_error("PriorBoxClustered: variance must have 1 or 4 values");
  const size_t np = a.widths.size();
  const size_t total = static_cast<size_t>(layer_h) * static_cast<size_t>(layer_w) * np * 4;
  if (total > (size_t{1} << 28)) throw std::runtime_error("PriorBoxClustered: output too large");
  std::vector<float> out(2 * total);
  float step_w = a.step_w == 0 ? a.step : a.step_w;
  float step_h = a.step_h == 0 ? a.step : a.step_h;
  if (step_w == 0 && step_h == 0) {
    step_w = static_cast<float>(img_w) / static_cast<float>(layer_w);
    step_h = static_cast<float>(img_h) / static_cast<float>(layer_h);
  }
  for (int64_t h = 0; h < layer_h; ++h) {
    for (int64_t w = 0; w < layer_w; ++w) {
      float cx = (static_cast<float>(w) + a.offset) * step_w;
      float cy = (static_cast<float>(h) + a.offset) * step_h;
      for (size_t s = 0; s < np; ++s) {
        float bw = a.widths[s], bh = a.heights[s];
        float box[4] = {(cx - bw / 2.0f) / static_cast<float>(img_w), (cy - bh / 2.0f) / static_cast<float>(img_h),
                        (cx + bw / 2.0f) / static_cast<float>(img_w), (cy + bh / 2.0f) / static_cast<float>(img_h)};
        size_t idx = ((static_cast<size_t>(h) * static_cast<size_t>(layer_w) + static_cast<size_t>(w)) * np + s) * 4;
        for (int j = 0; j < 4; ++j) {
          float v = box[j];
          if (a.clip) v = std::min(std::max(v, 0.0f), 1.0f);
          out[idx + j] = v;
          out[total + idx + j] = var.size() == 1 ? var[0] : var[j];
        }
      }
    }
  }
  return out;
}

namespace {

struct Box {
  float xmin, ymin, xmax, ymax;
};

float area(const Box& b, bool normalized) {
  if (b.xmax < b.xmin || b.ymax < b.ymin) return 0;
  float w = b.xmax - b.xmin, h = b.ymax - b.ymin;
  return normalized ? w * h : (w + 1) * (h + 1);
}

float jaccard(const Box& a, const Box& b, bool normalized) {
  if (b.xmin > a.xmax || b.xmax < a.xmin || b.ymin > a.ymax || b.ymax < a.ymin) return 0;
  Box i{std::max(a.xmin, b.xmin), std::max(a.ymin, b.ymin), std::min(a.xmax, b.xmax), std::min(a.ymax, b.ymax)};
  float inter = area(i, normalized);
  float u = area(a, normalized) + area(b, normalized) - inter;
  return u <= 0 ? 0 : inter / u;
}

Box clipBox(Box b) {
  auto c = [](float v) { return std::min(std::max(v, 0.0f), 1.0f); };
  return {c(b.xmin), c(b.ymin), c(b.xmax), c(b.ymax)};
}

}  // namespace

int64_t detectionOutputRows(const DetectionOutputAttrs& a, int64_t batch, int64_t num_classes, int64_t num_priors) {
  if (a.keep_top_k > 0) return batch * a.keep_top_k;
  if (a.top_k > 0) return batch * a.top_k * num_classes;
  return batch * num_classes * num_priors;
}

int64_t detectionOutput(const DetectionOutputAttrs& a, const float* loc, const std::vector<int64_t>& loc_shape, const float* conf,
                        const std::vector<int64_t>& conf_shape, const float* priors, const std::vector<int64_t>& prior_shape,
                        std::vector<float>& out) {
  if (loc_shape.size() != 2 || conf_shape.size() != 2 || prior_shape.size() != 3)
    throw std::runtime_error("DetectionOutput: expected loc [N, P*4], conf [N, P*C], priors [N|1, 1|2, P*S]");
  const int64_t N = loc_shape[0];
  const int64_t prior_size = a.normalized ? 4 : 5;
  if (prior_shape[2] % prior_size != 0) throw std::runtime_error("DetectionOutput: bad priors shape");
  const int64_t P = prior_shape[2] / prior_size;
  if (P <= 0) throw std::runtime_error("DetectionOutput: no priors");
  int64_t C = a.num_classes;
  if (C <= 0) {
    if (conf_shape[1] % P != 0) throw std::runtime_error("DetectionOutput: conf size is not a multiple of the priors");
    C = conf_shape[1] / P;
  }
  const int64_t loc_classes = a.share_location ? 1 : C;
  if (conf_shape[0] != N || conf_shape[1] != P * C || loc_shape[1] != P * loc_classes * 4)
    throw std::runtime_error("DetectionOutput: loc/conf/priors shapes are inconsistent");
  const int64_t prior_batches = prior_shape[0];
  if (prior_batches != 1 && prior_batches != N) throw std::runtime_error("DetectionOutput: bad priors batch");
  const bool has_var = prior_shape[1] == 2;
  if (!has_var && !a.variance_encoded_in_target) throw std::runtime_error("DetectionOutput: priors have no variances");
  enum { CORNER, CENTER_SIZE, CORNER_SIZE } code;
  if (a.code_type.find("CENTER_SIZE") != std::string::npos) code = CENTER_SIZE;
  else if (a.code_type.find("CORNER_SIZE") != std::string::npos) code = CORNER_SIZE;
  else code = CORNER;

  const int64_t rows = detectionOutputRows(a, N, C, P);
  out.assign(static_cast<size_t>(rows) * 7, 0.0f);
  int64_t written = 0;
  for (int64_t n = 0; n < N; ++n) {
    const float* pr = priors + (prior_batches == 1 ? 0 : n * prior_shape[1] * prior_shape[2]);
    const float* pv = has_var ? pr + prior_shape[2] : nullptr;
    // decode
    std::vector<std::vector<Box>> boxes(static_cast<size_t>(loc_classes), std::vector<Box>(static_cast<size_t>(P)));
    for (int64_t p = 0; p < P; ++p) {
      const float* q = pr + p * prior_size + (prior_size == 5 ? 1 : 0);
      Box pb{q[0], q[1], q[2], q[3]};
      if (!a.normalized) {
        pb.xmin /= static_cast<float>(a.input_width);
        pb.xmax /= static_cast<float>(a.input_width);
        pb.ymin /= static_cast<float>(a.input_height);
        pb.ymax /= static_cast<float>(a.input_height);
      }
      float var[4] = {1, 1, 1, 1};
      if (!a.variance_encoded_in_target)
        for (int j = 0; j < 4; ++j) var[j] = pv[p * prior_size + (prior_size == 5 ? 1 : 0) + j];
      for (int64_t lc = 0; lc < loc_classes; ++lc) {
        const float* l = loc + n * P * loc_classes * 4 + (p * loc_classes + lc) * 4;
        Box d{};
        float pw = pb.xmax - pb.xmin, ph = pb.ymax - pb.ymin;
        if (code == CORNER) {
          d = {pb.xmin + var[0] * l[0], pb.ymin + var[1] * l[1], pb.xmax + var[2] * l[2], pb.ymax + var[3] * l[3]};
        } else if (code == CORNER_SIZE) {
          d = {pb.xmin + var[0] * l[0] * pw, pb.ymin + var[1] * l[1] * ph, pb.xmax + var[2] * l[2] * pw, pb.ymax + var[3] * l[3] * ph};
        } else {
          float pcx = (pb.xmin + pb.xmax) / 2, pcy = (pb.ymin + pb.ymax) / 2;
          float cx = var[0] * l[0] * pw + pcx, cy = var[1] * l[1] * ph + pcy;
          float w = std::exp(var[2] * l[2]) * pw, h = std::exp(var[3] * l[3]) * ph;
          d = {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
        }
        if (a.clip_before_nms) d = clipBox(d);
        boxes[static_cast<size_t>(lc)][static_cast<size_t>(p)] = d;
      }
    }
    // per-class NMS
    std::map<int64_t, std::vector<int64_t>> kept;  // label -> prior indices (descending score)
    int64_t total = 0;
    const float* cf = conf + n * P * C;
    for (int64_t c = 0; c < C; ++c) {
      if (c == a.background_label_id) continue;
      const auto& bx = boxes[static_cast<size_t>(a.share_location ? 0 : c)];
      std::vector<std::pair<float, int64_t>> cand;
      for (int64_t p = 0; p < P; ++p) {
        float s = cf[p * C + c];
        if (s > a.confidence_threshold) cand.emplace_back(s, p);
      }
      std::stable_sort(cand.begin(), cand.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
      if (a.top_k > -1 && static_cast<int64_t>(cand.size()) > a.top_k) cand.resize(static_cast<size_t>(a.top_k));
      std::vector<int64_t> sel;
      for (const auto& [s, p] : cand) {
        bool keep = true;
        for (int64_t k : sel)
          if (jaccard(bx[static_cast<size_t>(p)], bx[static_cast<size_t>(k)], true) > a.nms_threshold) {
            keep = false;
            break;
          }
        if (keep) sel.push_back(p);
      }
      total += static_cast<int64_t>(sel.size());
      if (!sel.empty()) kept[c] = std::move(sel);
    }
    if (a.keep_top_k > -1 && total > a.keep_top_k) {
      std::vector<std::tuple<float, int64_t, int64_t>> all;  // score, label, prior
      for (const auto& [c, v] : kept)
        for (int64_t p : v) all.emplace_back(cf[p * C + c], c, p);
      std::stable_sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return std::get<0>(x) > std::get<0>(y); });
      all.resize(static_cast<size_t>(a.keep_top_k));
      std::map<int64_t, std::vector<int64_t>> nk;
      for (const auto& [s, c, p] : all) nk[c].push_back(p);
      kept.swap(nk);
    }
    for (const auto& [c, v] : kept) {
      const auto& bx = boxes[static_cast<size_t>(a.share_location ? 0 : c)];
      for (int64_t p : v) {
        if (written >= rows) break;
        Box b = bx[static_cast<size_t>(p)];
        if (a.clip_after_nms) b = clipBox(b);
        float* o = out.data() + written * 7;
        o[0] = static_cast<float>(n);
        o[1] = static_cast<float>(a.decrease_label_id ? c - 1 : c);
        o[2] = cf[p * C + c];
        o[3] = b.xmin;
        o[4] = b.ymin;
        o[5] = b.xmax;
        o[6] = b.ymax;
        ++written;
      }
    }
  }
  if (written < rows) out[static_cast<size_t>(written) * 7] = -1.0f;  // end marker
  return rows;
}

NmsResult nonMaxSuppression(const NmsAttrs& a, const float* boxes, int64_t B, int64_t N, const float* scores, int64_t C,
                            int64_t max_out, float iou_thr, float score_thr, float sigma) {
  NmsResult r;
  if (max_out <= 0 || N == 0) return r;
  auto getBox = [&](int64_t b, int64_t i) {
    const float* p = boxes + (b * N + i) * 4;
    float y1, x1, y2, x2;
    if (a.center_point_box) {
      float xc = p[0], yc = p[1], w = p[2], h = p[3];
      x1 = xc - w / 2; x2 = xc + w / 2; y1 = yc - h / 2; y2 = yc + h / 2;
    } else {
      y1 = std::min(p[0], p[2]); y2 = std::max(p[0], p[2]);
      x1 = std::min(p[1], p[3]); x2 = std::max(p[1], p[3]);
    }
    return Box{x1, y1, x2, y2};
  };
  auto iou = [](const Box& p, const Box& q) {
    float ap = (p.xmax - p.xmin) * (p.ymax - p.ymin), aq = (q.xmax - q.xmin) * (q.ymax - q.ymin);
    if (ap <= 0 || aq <= 0) return 0.0f;
    float iw = std::max(0.0f, std::min(p.xmax, q.xmax) - std::max(p.xmin, q.xmin));
    float ih = std::max(0.0f, std::min(p.ymax, q.ymax) - std::max(p.ymin, q.ymin));
    float inter = iw * ih;
    return inter / (ap + aq - inter);
  };
  struct Sel {
    int64_t b, c, i;
    float s;
  };
  std::vector<Sel> all;
  const float scale = sigma > 0 ? -0.5f / sigma : 0.0f;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<Box> bx(static_cast<size_t>(N));
    for (int64_t i = 0; i < N; ++i) bx[static_cast<size_t>(i)] = getBox(b, i);
    for (int64_t c = 0; c < C; ++c) {
      const float* sc = scores + (b * C + c) * N;
      struct Cand {
        int64_t i;
        float s;
        int64_t suppress_begin;
      };
      std::vector<Cand> cand;
      for (int64_t i = 0; i < N; ++i)
        if (sc[i] > score_thr) cand.push_back({i, sc[i], 0});
      auto cmp = [](const Cand& x, const Cand& y) { return x.s < y.s || (x.s == y.s && x.i > y.i); };
      std::make_heap(cand.begin(), cand.end(), cmp);
      std::vector<Sel> sel;
      while (!cand.empty() && static_cast<int64_t>(sel.size()) < max_out) {
        std::pop_heap(cand.begin(), cand.end(), cmp);
        Cand nc = cand.back();
        cand.pop_back();
        float orig = nc.s;
        bool hard = false;
        for (int64_t k = nc.suppress_begin; k < static_cast<int64_t>(sel.size()); ++k) {
          float o = iou(bx[static_cast<size_t>(nc.i)], bx[static_cast<size_t>(sel[static_cast<size_t>(k)].i)]);
          if (o >= iou_thr && iou_thr >= 0 && !(sigma > 0 && o < iou_thr)) {
            if (o >= iou_thr) {
              hard = true;
              break;
            }
          }
          if (sigma > 0) nc.s *= std::exp(scale * o * o);
          if (nc.s <= score_thr) break;
        }
        nc.suppress_begin = static_cast<int64_t>(sel.size());
        if (hard || nc.s <= score_thr) continue;
        if (nc.s == orig) sel.push_back({b, c, nc.i, nc.s});
        else {
          cand.push_back(nc);
          std::push_heap(cand.begin(), cand.end(), cmp);
        }
      }
      all.insert(all.end(), sel.begin(), sel.end());
    }
  }
  if (a.sort_result_descending)
    std::stable_sort(all.begin(), all.end(), [](const Sel& x, const Sel& y) { return x.s > y.s; });
  for (const auto& s : all) {
    r.indices.insert(r.indices.end(), {s.b, s.c, s.i});
    r.scores.insert(r.scores.end(), {static_cast<float>(s.b), static_cast<float>(s.c), s.s});
  }
  return r;
}

}  // namespace ovms::engine::ir::kernels
