#include "engine/ir/roi_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace ovms::engine::ir::kernels {
namespace {

// float -> int conversion that never invokes undefined behaviour (NaN -> 0, huge values saturate).
int64_t toIntSat(float v) {
  if (std::isnan(v)) return 0;
  constexpr float lim = 1073741824.0f;  // 2^30
  return static_cast<int64_t>(std::clamp(v, -lim, lim));
}

std::string dimsStr(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t k = 0; k < s.size(); ++k) r += (k ? "," : "") + std::to_string(s[k]);
  return r + "]";
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// ROIPooling
void roiPooling(const RoiPoolingAttrs& a, const float* feat, const std::vector<int64_t>& fs, const float* rois,
                int64_t num_rois, float* out) {
  if (fs.size() != 4) throw std::runtime_error("ROIPooling: feature maps must be 4-D, got " + dimsStr(fs));
  if (a.pooled_h < 1 || a.pooled_w < 1) throw std::runtime_error("ROIPooling: pooled_h and pooled_w must be positive");
  const int64_t N = fs[0], C = fs[1], H = fs[2], W = fs[3];
  const int64_t PH = a.pooled_h, PW = a.pooled_w;
  const int64_t plane = H * W, out_plane = PH * PW;
  for (int64_t r = 0; r < num_rois; ++r) {
    const float* roi = rois + r * 5;
    const float bid_f = roi[0];
    if (!(bid_f > -1.0f && bid_f < static_cast<float>(N)))  // truncation toward zero must land in [0, N)
      throw std::runtime_error("ROIPooling: ROI " + std::to_string(r) + " has batch id " + std::to_string(bid_f) +
                               " outside [0, " + std::to_string(N - 1) + "]");
    const int64_t bid = static_cast<int64_t>(bid_f);
    const float* batch = feat + bid * C * plane;
    float* o = out + r * C * out_plane;
    if (!a.bilinear) {
      // Corners scaled to the feature map and rounded (half away from zero); malformed boxes become 1x1.
      const int64_t ws = toIntSat(std::round(roi[1] * a.spatial_scale));
      const int64_t hs = toIntSat(std::round(roi[2] * a.spatial_scale));
      const int64_t we = toIntSat(std::round(roi[3] * a.spatial_scale));
      const int64_t he = toIntSat(std::round(roi[4] * a.spatial_scale));
      const int64_t roi_h = std::max<int64_t>(he - hs + 1, 1);
      const int64_t roi_w = std::max<int64_t>(we - ws + 1, 1);
      const float bin_h = static_cast<float>(roi_h) / static_cast<float>(PH);
      const float bin_w = static_cast<float>(roi_w) / static_cast<float>(PW);
      for (int64_t ph = 0; ph < PH; ++ph) {
        int64_t h0 = static_cast<int64_t>(std::floor(static_cast<float>(ph) * bin_h)) + hs;
        int64_t h1 = static_cast<int64_t>(std::ceil(static_cast<float>(ph + 1) * bin_h)) + hs;
        h0 = std::clamp<int64_t>(h0, 0, H);
        h1 = std::clamp<int64_t>(h1, 0, H);
        for (int64_t pw = 0; pw < PW; ++pw) {
          int64_t w0 = static_cast<int64_t>(std::floor(static_cast<float>(pw) * bin_w)) + ws;
          int64_t w1 = static_cast<int64_t>(std::ceil(static_cast<float>(pw + 1) * bin_w)) + ws;
          w0 = std::clamp<int64_t>(w0, 0, W);
          w1 = std::clamp<int64_t>(w1, 0, W);
          const bool empty = h1 <= h0 || w1 <= w0;
          for (int64_t c = 0; c < C; ++c) {
            float m = empty ? 0.0f : std::numeric_limits<float>::lowest();
            const float* ch = batch + c * plane;
            for (int64_t y = h0; y < h1; ++y)
              for (int64_t x = w0; x < w1; ++x) m = std::max(ch[y * W + x], m);
            o[c * out_plane + ph * PW + pw] = m;
          }
        }
      }
    } else {
      // Normalized corners; sample points spread evenly from start to end (both included) over [0, H-1] x [0, W-1].
      const float xs = roi[1], ys = roi[2], xe = roi[3], ye = roi[4];
      const float hm1 = static_cast<float>(H - 1), wm1 = static_cast<float>(W - 1);
      const float roi_h = (ye - ys) * hm1;
      const float roi_w = (xe - xs) * wm1;
      const float step_h = PH > 1 ? roi_h / static_cast<float>(PH - 1) : 0.0f;
      const float step_w = PW > 1 ? roi_w / static_cast<float>(PW - 1) : 0.0f;
      for (int64_t ph = 0; ph < PH; ++ph) {
        float in_y;
        if (PH > 1)
          in_y = ph == PH - 1 ? hm1 * ye : static_cast<float>(ph) * step_h + ys * hm1;
        else
          in_y = static_cast<float>(0.5 * static_cast<double>(ys + ye) * static_cast<double>(hm1));
        for (int64_t pw = 0; pw < PW; ++pw) {
          float in_x;
          if (PW > 1)
            in_x = pw == PW - 1 ? wm1 * xe : static_cast<float>(pw) * step_w + xs * wm1;
          else
            in_x = static_cast<float>(0.5 * static_cast<double>(xs + xe) * static_cast<double>(wm1));
          const bool inside = in_y >= 0 && in_y <= hm1 && in_x >= 0 && in_x <= wm1;  // false for NaN too
          int64_t top = 0, bottom = 0, left = 0, right = 0;
          if (inside) {
            top = static_cast<int64_t>(std::floor(in_y));
            bottom = std::min<int64_t>(static_cast<int64_t>(std::ceil(in_y)), H - 1);
            left = static_cast<int64_t>(std::floor(in_x));
            right = std::min<int64_t>(static_cast<int64_t>(std::ceil(in_x)), W - 1);
          }
          const float fx = in_x - static_cast<float>(left), fy = in_y - static_cast<float>(top);
          for (int64_t c = 0; c < C; ++c) {
            float& dst = o[c * out_plane + ph * PW + pw];
            if (!inside) {
              dst = 0;
              continue;
            }
            const float* ch = batch + c * plane;
            const float tl = ch[top * W + left], tr = ch[top * W + right];
            const float bl = ch[bottom * W + left], br = ch[bottom * W + right];
            const float t = tl + (tr - tl) * fx;
            const float b = bl + (br - bl) * fx;
            dst = t + (b - t) * fy;
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Proposal
std::vector<float> proposalAnchors(const ProposalAttrs& a) {
  const size_t nr = a.ratio.size(), ns = a.scale.size(), K = nr * ns;
  std::vector<float> anchors(4 * K);
  const float offset = a.tensorflow ? 0.0f : 1.0f;
  const float base = static_cast<float>(a.base_size);
  const float area = static_cast<float>(a.base_size * a.base_size);
  const float center = 0.5f * (base - offset);
  const float shift = a.tensorflow ? base * 0.5f : 0.0f;
  for (size_t ri = 0; ri < nr; ++ri) {
    const float r = a.ratio[ri];
    float rw = std::sqrt(area / r), rh;
    if (a.tensorflow) {
      rh = rw * r;
    } else {
      rw = std::round(rw);
      rh = std::round(rw * r);
    }
    for (size_t si = 0; si < ns; ++si) {
      const size_t k = ri * ns + si;
      const float hw = 0.5f * (rw * a.scale[si] - offset);
      const float hh = 0.5f * (rh * a.scale[si] - offset);
      anchors[0 * K + k] = center - hw - shift;
      anchors[1 * K + k] = center - hh - shift;
      anchors[2 * K + k] = center + hw - shift;
      anchors[3 * K + k] = center + hh - shift;
    }
  }
  return anchors;
}

namespace {
struct Box {
  float x0, y0, x1, y1, score;
};

// Greedy NMS over boxes already sorted by score: keeps at most max_out indices.
std::vector<size_t> proposalNms(const std::vector<Box>& boxes, size_t count, float thresh, size_t max_out, float offset) {
  std::vector<size_t> keep;
  std::vector<char> dead(count, 0);
  for (size_t i = 0; i < count && keep.size() < max_out; ++i) {
    if (dead[i]) continue;
    keep.push_back(i);
    if (keep.size() == max_out) break;
    const Box& A = boxes[i];
    const float area_a = (A.x1 - A.x0 + offset) * (A.y1 - A.y0 + offset);
    for (size_t j = i + 1; j < count; ++j) {
      const Box& B = boxes[j];
      float iou = 0.0f;
      if (A.x0 <= B.x1 && A.y0 <= B.y1 && B.x0 <= A.x1 && B.y0 <= A.y1) {
        const float iw = std::max(0.0f, std::min(A.x1, B.x1) - std::max(A.x0, B.x0) + offset);
        const float ih = std::max(0.0f, std::min(A.y1, B.y1) - std::max(A.y0, B.y0) + offset);
        const float inter = iw * ih;
        const float area_b = (B.x1 - B.x0 + offset) * (B.y1 - B.y0 + offset);
        iou = inter / (area_a + area_b - inter);
      }
      if (thresh < iou) dead[j] = 1;
    }
  }
  return keep;
}
}  // namespace

void proposal(const ProposalAttrs& a, const float* probs, const std::vector<int64_t>& ps, const float* deltas,
              const std::vector<int64_t>& ds, const float* info, int64_t info_size, float* rois_out, float* probs_out) {
  if (ps.size() != 4 || ds.size() != 4)
    throw std::runtime_error("Proposal: class_probs and bbox_deltas must be 4-D, got " + dimsStr(ps) + " and " + dimsStr(ds));
  const int64_t N = ps[0], H = ps[2], W = ps[3];
  const int64_t K = static_cast<int64_t>(a.ratio.size() * a.scale.size());
  if (ps[1] != 2 * K)
    throw std::runtime_error("Proposal: class_probs has " + std::to_string(ps[1]) + " channels, expected 2 * " + std::to_string(K) +
                             " (ratio count x scale count anchors)");
  if (ds[0] != N || ds[1] != 4 * K || ds[2] != H || ds[3] != W)
    throw std::runtime_error("Proposal: bbox_deltas shape " + dimsStr(ds) + " does not match class_probs " + dimsStr(ps));
  if (info_size != 3 && info_size != 4)
    throw std::runtime_error("Proposal: image_shape must have 3 or 4 elements, got " + std::to_string(info_size));
  if (a.post_nms_topn < 0 || a.pre_nms_topn < 0) throw std::runtime_error("Proposal: negative pre/post_nms_topn");

  const float img_h = info[a.tensorflow ? 1 : 0];
  const float img_w = info[a.tensorflow ? 0 : 1];
  if (!std::isnormal(img_h) || !std::isnormal(img_w) || img_h < 0 || img_w < 0)
    throw std::runtime_error("Proposal: image_shape must have positive image height and width");
  const float scale_h = info[2];
  const float scale_w = info_size == 4 ? info[3] : scale_h;
  if (!std::isfinite(scale_h) || !std::isfinite(scale_w) || scale_h < 0 || scale_w < 0)
    throw std::runtime_error("Proposal: image_shape must have non-negative scales");
  const float min_h = static_cast<float>(a.min_size) * scale_h;
  const float min_w = static_cast<float>(a.min_size) * scale_w;

  const float offset = a.tensorflow ? 0.0f : 1.0f;
  const bool initial_clip = a.tensorflow, swap_xy = a.tensorflow;
  const std::vector<float> anchors = proposalAnchors(a);
  const int64_t area = H * W, num = K * H * W;
  const size_t pre = static_cast<size_t>(std::min<int64_t>(num, a.pre_nms_topn));
  const size_t post = static_cast<size_t>(a.post_nms_topn);
  std::vector<Box> boxes(static_cast<size_t>(num));

  for (int64_t n = 0; n < N; ++n) {
    const float* score_base = probs + (n * 2 * K + K) * area;  // foreground channels
    const float* delta_base = deltas + n * 4 * K * area;
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t w = 0; w < W; ++w) {
        const float sx = static_cast<float>((swap_xy ? h : w) * a.feat_stride);
        const float sy = static_cast<float>((swap_xy ? w : h) * a.feat_stride);
        const int64_t pos = h * W + w;
        for (int64_t k = 0; k < K; ++k) {
          const float dx = delta_base[(k * 4 + 0) * area + pos] / a.box_coordinate_scale;
          const float dy = delta_base[(k * 4 + 1) * area + pos] / a.box_coordinate_scale;
          const float dlw = delta_base[(k * 4 + 2) * area + pos] / a.box_size_scale;
          const float dlh = delta_base[(k * 4 + 3) * area + pos] / a.box_size_scale;
          const float score = score_base[k * area + pos];
          float x0 = sx + anchors[0 * K + k], y0 = sy + anchors[1 * K + k];
          float x1 = sx + anchors[2 * K + k], y1 = sy + anchors[3 * K + k];
          if (initial_clip) {
            x0 = std::max(0.0f, std::min(x0, img_w));
            y0 = std::max(0.0f, std::min(y0, img_h));
            x1 = std::max(0.0f, std::min(x1, img_w));
            y1 = std::max(0.0f, std::min(y1, img_h));
          }
          const float bw = x1 - x0 + offset, bh = y1 - y0 + offset;
          const float cx = x0 + 0.5f * bw, cy = y0 + 0.5f * bh;
          const float pcx = dx * bw + cx, pcy = dy * bh + cy;
          const float pw = std::exp(dlw) * bw, phh = std::exp(dlh) * bh;
          x0 = pcx - 0.5f * pw;
          y0 = pcy - 0.5f * phh;
          x1 = pcx + 0.5f * pw;
          y1 = pcy + 0.5f * phh;
          if (a.clip_before_nms) {
            x0 = std::max(0.0f, std::min(x0, img_w - offset));
            y0 = std::max(0.0f, std::min(y0, img_h - offset));
            x1 = std::max(0.0f, std::min(x1, img_w - offset));
            y1 = std::max(0.0f, std::min(y1, img_h - offset));
          }
          const float fw = x1 - x0 + offset, fh = y1 - y0 + offset;
          const float keep = (min_w <= fw && min_h <= fh) ? 1.0f : 0.0f;
          boxes[static_cast<size_t>(pos * K + k)] = {x0, y0, x1, y1, keep * score};
        }
      }
    }
    // Highest scores first (stable: ties keep enumeration order; NaN scores sort last).
    auto key = [](float s) { return std::isnan(s) ? -std::numeric_limits<float>::infinity() : s; };
    std::stable_sort(boxes.begin(), boxes.end(), [&](const Box& p, const Box& q) { return key(p.score) > key(q.score); });
    const std::vector<size_t> kept = proposalNms(boxes, pre, a.nms_thresh, post, offset);

    float* ro = rois_out + n * static_cast<int64_t>(post) * 5;
    float* po = probs_out ? probs_out + n * static_cast<int64_t>(post) : nullptr;
    for (size_t r = 0; r < kept.size(); ++r) {
      Box b = boxes[kept[r]];
      if (a.clip_after_nms) {
        b.x0 = std::max(0.0f, std::min(b.x0, img_w));
        b.y0 = std::max(0.0f, std::min(b.y0, img_h));
        b.x1 = std::max(0.0f, std::min(b.x1, img_w));
        b.y1 = std::max(0.0f, std::min(b.y1, img_h));
      }
      if (a.normalize) {
        b.x0 /= img_w;
        b.y0 /= img_h;
        b.x1 /= img_w;
        b.y1 /= img_h;
      }
      float* row = ro + r * 5;
      row[0] = static_cast<float>(n);
      row[1] = b.x0;
      row[2] = b.y0;
      row[3] = b.x1;
      row[4] = b.y1;
      if (po) po[r] = b.score;
    }
    if (kept.size() < post) {
      std::fill(ro + kept.size() * 5, ro + post * 5, 0.0f);
      if (po) std::fill(po + kept.size(), po + post, 0.0f);
      ro[kept.size() * 5] = -1.0f;  // end-of-list marker, as OpenVINO writes it
    }
  }
}

}  // namespace ovms::engine::ir::kernels
