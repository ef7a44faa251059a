// INT8 vs FP32 IR benchmark: the same network as an FP32 IR and as an INT8 IR (FakeQuantize on activations,
// int8 weights), both translated and run by the server's engine (engine::OnnxModel, server session options), in one
// process, alternating, several rounds; medians per round, the median round reported.
//
//   int8_bench [--rounds R] [--runs N] [--threads T] [--batches 1,8] [--models face,resnet] [--emulation]
//
// Models:
//  * face-detection-retail-0004 from ../shared/fixtures/omz-ir: version 1 (FP32) and version 2 (FP16-INT8).
//  * "resnet": a ResNet-50 v1.5-sized classifier (3-4-6-3 bottlenecks, 25.5 M parameters, random weights,
//    fixed seed) that this program writes as IR. The INT8 IR has FakeQuantize where OpenVINO's quantizer puts
//    it: on every Convolution/MatMul activation input (one FakeQuantize shared by all consumers of a tensor), on
//    both inputs of each residual Add, and weights stored as i8 -> Convert -> Multiply(per-channel scale).
//    Activation ranges are calibrated on the fixture photos with the FP32 network (min/max, zero point made
//    exact as OpenVINO does for asymmetric ranges).
// Accuracy (printed): face detector: detections above 0.5 on every fixture photo, count and IoU against FP32;
// classifier: top class per photo against FP32.
// --emulation adds the previous translation of the INT8 IR (FakeQuantize as float operations) as a third column.
#include <turbojpeg.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/ir/ir_model.h"
#include "engine/ir/qdq_rewrite.h"
#include "engine/onnx_model.h"
#include "resnet_ir.h"

namespace fs = std::filesystem;
namespace ir = ovms::engine::ir;
namespace engine = ovms::engine;
using Clock = std::chrono::steady_clock;

using namespace int8bench;

namespace {

int g_rounds = 5, g_runs = 10, g_threads = 2;
std::vector<int64_t> g_batches{1, 8};
std::vector<std::string> g_models{"face", "resnet"};
bool g_emulation = false;

std::string readFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ---------------------------------------------------------------------------------------------------------
// Photos
std::vector<float> photo(const fs::path& file, int H, int W) {
  std::string data = readFile(file);
  tjhandle h = tjInitDecompress();
  int w = 0, hh = 0, ss, cs;
  std::vector<uint8_t> bgr;
  const auto* src = reinterpret_cast<const unsigned char*>(data.data());
  if (tjDecompressHeader3(h, src, static_cast<unsigned long>(data.size()), &w, &hh, &ss, &cs) == 0) {
    bgr.resize(static_cast<size_t>(w) * hh * 3);
    if (tjDecompress2(h, src, static_cast<unsigned long>(data.size()), bgr.data(), w, 0, hh, TJPF_BGR, 0) != 0) bgr.clear();
  }
  tjDestroy(h);
  if (bgr.empty()) throw std::runtime_error("cannot decode " + file.string());
  std::vector<float> out(static_cast<size_t>(3) * H * W);
  for (int y = 0; y < H; ++y) {
    float sy = std::clamp((y + 0.5f) * hh / H - 0.5f, 0.0f, static_cast<float>(hh - 1));
    int y0 = static_cast<int>(sy), y1 = std::min(y0 + 1, hh - 1);
    float fy = sy - y0;
    for (int x = 0; x < W; ++x) {
      float sx = std::clamp((x + 0.5f) * w / W - 0.5f, 0.0f, static_cast<float>(w - 1));
      int x0 = static_cast<int>(sx), x1 = std::min(x0 + 1, w - 1);
      float fx = sx - x0;
      for (int c = 0; c < 3; ++c) {
        auto px = [&](int xx, int yy) { return static_cast<float>(bgr[(static_cast<size_t>(yy) * w + xx) * 3 + c]); };
        out[(static_cast<size_t>(c) * H + y) * W + x] =
            (1 - fy) * ((1 - fx) * px(x0, y0) + fx * px(x1, y0)) + fy * ((1 - fx) * px(x0, y1) + fx * px(x1, y1));
      }
    }
  }
  return out;
}

std::vector<fs::path> jpegPhotos(const fs::path& fixtures) {
  std::vector<fs::path> r;
  for (const auto& e : fs::directory_iterator(fixtures / "images"))
    if (e.path().extension() == ".jpg") r.push_back(e.path());
  std::sort(r.begin(), r.end());
  return r;
}

// ---------------------------------------------------------------------------------------------------------
ir::IrTranslation translate(const std::string& xml, const std::string& bin, int64_t batch, const std::string& input, std::vector<int64_t> dims) {
  ir::IrOptions o;
  if (batch != dims[0]) {
    dims[0] = batch;
    o.input_shapes[input] = dims;
  }
  return ir::translateIrToOnnx(std::string_view(xml), std::string_view(bin), o);
}

std::unique_ptr<engine::OnnxModel> load(const std::string& onnx) {
  engine::EngineOptions eo;
  eo.intra_op_threads = g_threads;
  // INT8_BENCH_SAVE=<dir>: keep the graphs ONNX Runtime runs after its optimisations (opt_<n>.onnx), to inspect fusions
  static int saved = 0;
  if (const char* dir = std::getenv("INT8_BENCH_SAVE")) eo.optimized_model_path = std::string(dir) + "/opt_" + std::to_string(saved++) + ".onnx";
  std::string err;
  auto m = engine::OnnxModel::load(onnx, eo, &err);
  if (!m) throw std::runtime_error("load failed: " + err);
  return m;
}

std::vector<engine::TensorView> infer(const engine::OnnxModel& m, const std::vector<float>& data, const std::vector<int64_t>& shape) {
  engine::TensorView in;
  in.precision = engine::Precision::FP32;
  in.shape = shape;
  in.data = data.data();
  in.bytes = data.size() * sizeof(float);
  std::vector<engine::TensorView> out;
  std::string err;
  if (!m.infer({in}, &out, &err)) throw std::runtime_error("infer failed: " + err);
  return out;
}

std::vector<float> floats(const engine::TensorView& t) {
  std::vector<float> v(t.bytes / sizeof(float));
  std::memcpy(v.data(), t.data, v.size() * sizeof(float));
  return v;
}

// ---------------------------------------------------------------------------------------------------------
struct Model {
  std::string label;
  std::string input;
  std::vector<int64_t> dims;  // batch 1
  std::string xml32, bin32, xml8, bin8;
};

struct Det {
  float conf, x0, y0, x1, y1;
};
std::vector<Det> strong(const std::vector<float>& v) {
  std::vector<Det> r;
  for (size_t k = 0; k + 7 <= v.size(); k += 7) {
    if (v[k] < 0) break;
    if (v[k + 2] > 0.5f) r.push_back({v[k + 2], v[k + 3], v[k + 4], v[k + 5], v[k + 6]});
  }
  return r;
}
float iou(const Det& a, const Det& b) {
  float iw = std::max(0.0f, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  float ih = std::max(0.0f, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  float i = iw * ih;
  return i / ((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - i);
}

void accuracy(const Model& m, const std::vector<fs::path>& photos, bool detector) {
  auto t32 = translate(m.xml32, m.bin32, 1, m.input, m.dims), t8 = translate(m.xml8, m.bin8, 1, m.input, m.dims);
  auto m32 = load(t32.onnx_model), m8 = load(t8.onnx_model);
  for (const auto& p : photos) {
    auto img = photo(p, static_cast<int>(m.dims[2]), static_cast<int>(m.dims[3]));
    auto a = floats(infer(*m32, img, m.dims)[0]), b = floats(infer(*m8, img, m.dims)[0]);
    if (detector) {
      auto da = strong(a), db = strong(b);
      float worst = 1.0f;
      for (const auto& d : da) {
        float best = 0;
        for (const auto& e : db) best = std::max(best, iou(d, e));
        worst = std::min(worst, best);
      }
      std::printf("  accuracy %-28s %-12s detections>0.5 fp32 %zu int8 %zu, min IoU %.3f -> %s\n", m.label.c_str(), p.filename().c_str(), da.size(),
                  db.size(), da.empty() ? 1.0f : worst, (da.size() == db.size() && worst >= 0.9f) ? "match" : "MISMATCH");
    } else {
      auto top = [](const std::vector<float>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); };
      int ta = top(a), tb = top(b);
      std::vector<float> s = a;
      std::sort(s.rbegin(), s.rend());
      std::printf("  accuracy %-28s %-12s top class fp32 %d (p %.4f, next %.4f) int8 %d (p %.4f) -> %s\n", m.label.c_str(), p.filename().c_str(), ta, a[ta],
                  s[1], tb, b[tb], ta == tb ? "match" : "MISMATCH");
    }
  }
}

void timing(const Model& m) {
  for (int64_t batch : g_batches) {
    std::vector<int64_t> shape = m.dims;
    shape[0] = batch;
    auto t32 = translate(m.xml32, m.bin32, batch, m.input, m.dims);
    auto t8 = translate(m.xml8, m.bin8, batch, m.input, m.dims);
    std::vector<std::unique_ptr<engine::OnnxModel>> models;
    std::vector<std::string> names{"fp32", "int8"};
    models.push_back(load(t32.onnx_model));
    models.push_back(load(t8.onnx_model));
    if (g_emulation) {
      ir::setFakeQuantizeEmulation(true);
      auto te = translate(m.xml8, m.bin8, batch, m.input, m.dims);
      ir::setFakeQuantizeEmulation(false);
      models.push_back(load(te.onnx_model));
      names.push_back("int8-emulated");
    }
    std::vector<float> x(static_cast<size_t>(batch * shape[1] * shape[2] * shape[3]));
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 256);
    for (auto& mm : models) infer(*mm, x, shape);  // warm-up
    std::vector<std::vector<double>> round_medians(models.size());
    for (int r = 0; r < g_rounds; ++r)
      for (size_t k = 0; k < models.size(); ++k) {
        size_t idx = (r % 2) ? models.size() - 1 - k : k;  // alternate the order every round
        std::vector<double> t;
        for (int i = 0; i < g_runs; ++i) {
          auto a = Clock::now();
          infer(*models[idx], x, shape);
          t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
        }
        round_medians[idx].push_back(median(t));
      }
    double fp = median(round_medians[0]);
    std::printf("| %s | %lld | %.2f | %.2f | %.2fx |", m.label.c_str(), static_cast<long long>(batch), fp, median(round_medians[1]),
                fp / median(round_medians[1]));
    if (g_emulation) std::printf(" %.2f | %.2fx |", median(round_medians[2]), fp / median(round_medians[2]));
    std::printf("\n");
    std::fflush(stdout);
  }
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> r;
  std::stringstream ss(s);
  std::string t;
  while (std::getline(ss, t, ',')) r.push_back(t);
  return r;
}

Model resnetModel(const std::vector<fs::path>& photos) {
  // calibration on the photos with the FP32 network
  ResNetIr cal(Variant::kCalibrate, {});
  cal.build();
  auto t = ir::translateIrToOnnx(std::string_view(cal.writer().xml()), std::string_view(cal.writer().bin()));
  auto m = load(t.onnx_model);
  std::vector<Range> ranges(cal.calibrationNames().size(), Range{1e30f, -1e30f});
  for (const auto& p : photos) {
    auto img = photo(p, 224, 224);
    auto out = infer(*m, img, {1, 3, 224, 224});
    for (size_t i = 0, o = 1; i < ranges.size(); ++i) {
      auto v = cal.calibrationNames()[i].empty() ? img : floats(out.at(o++));
      auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      ranges[i].lo = std::min(ranges[i].lo, *lo);
      ranges[i].hi = std::max(ranges[i].hi, *hi);
    }
  }
  // Random weights on 0..255 photos give logits in the hundreds and a saturated softmax, where "same top class"
  // says little: scale the classifier so that the logits spread over a few units (same weights otherwise).
  const float pooled = ranges.back().hi;
  const float fc_gain = pooled > 0 ? 3.0f / pooled : 1.0f;
  finishRanges(ranges);
  ResNetIr f(Variant::kFp32, {}, fc_gain), q(Variant::kInt8, ranges, fc_gain);
  f.build();
  q.build();
  return {"ResNet-50 (generated IR)", "data", {1, 3, 224, 224}, f.writer().xml(), f.writer().bin(), q.writer().xml(), q.writer().bin()};
}

}  // namespace

int main(int argc, char** argv) {
  fs::path fixtures = IR_FIXTURES_DIR;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--rounds") g_rounds = std::stoi(next());
    else if (a == "--runs") g_runs = std::stoi(next());
    else if (a == "--threads") g_threads = std::stoi(next());
    else if (a == "--emulation") g_emulation = true;
    else if (a == "--batches") {
      g_batches.clear();
      for (const auto& s : split(next())) g_batches.push_back(std::stoll(s));
    } else if (a == "--models") g_models = split(next());
    else if (a == "--fixtures") fixtures = next();
    else {
      std::fprintf(stderr, "usage: int8_bench [--rounds R] [--runs N] [--threads T] [--batches 1,8] [--models face,resnet] [--emulation]\n");
      return 2;
    }
  }
  auto photos = jpegPhotos(fixtures);
  std::printf("INT8 vs FP32, %d intra-op threads, %d rounds x %d runs per model, order alternating per round; ms = median of the round medians\n",
              g_threads, g_rounds, g_runs);
  std::vector<std::pair<Model, bool>> models;
  for (const auto& name : g_models) {
    if (name == "face") {
      fs::path d = fixtures / "omz-ir" / "face-detection-retail-0004";
      models.push_back({{"face-detection-retail-0004", "data", {1, 3, 300, 300},
                         readFile(d / "1" / "face-detection-retail-0004.xml"), readFile(d / "1" / "face-detection-retail-0004.bin"),
                         readFile(d / "2" / "face-detection-retail-0004.xml"), readFile(d / "2" / "face-detection-retail-0004.bin")},
                        true});
    } else if (name == "resnet") {
      models.push_back({resnetModel(photos), false});
    }
  }
  for (const auto& [m, det] : models) accuracy(m, photos, det);
  std::printf("\n| model | batch | fp32 ms | int8 ms | int8 speed-up |%s\n|---|---|---|---|---|%s\n",
              g_emulation ? " int8 emulated ms | emulated speed-up |" : "", g_emulation ? "---|---|" : "");
  for (const auto& [m, det] : models) timing(m);
  return 0;
}
