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

namespace fs = std::filesystem;
namespace ir = ovms::engine::ir;
namespace engine = ovms::engine;
using Clock = std::chrono::steady_clock;

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
// A minimal IR v11 writer.
struct Port {
  int id, port;
  std::vector<int64_t> dims;
  std::string name;
};

class IrWriter {
 public:
  Port param(const std::string& name, const std::vector<int64_t>& dims) {
    int id = next_++;
    layers_ << "<layer id=\"" << id << "\" name=\"" << name << "\" type=\"Parameter\" version=\"opset1\"><data shape=\"" << join(dims)
            << "\" element_type=\"f32\"/><output><port id=\"0\" precision=\"FP32\" names=\"" << name << "\">" << dimsXml(dims)
            << "</port></output></layer>\n";
    return {id, 0, dims, name};
  }
  template <typename T>
  Port constant(const char* type, const char* prec, const std::vector<int64_t>& dims, const std::vector<T>& v) {
    int id = next_++;
    while (bin_.size() % 8) bin_.push_back('\0');
    size_t off = bin_.size();
    bin_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    layers_ << "<layer id=\"" << id << "\" name=\"c" << id << "\" type=\"Const\" version=\"opset1\"><data element_type=\"" << type
            << "\" shape=\"" << join(dims) << "\" offset=\"" << off << "\" size=\"" << v.size() * sizeof(T) << "\"/><output><port id=\"0\" precision=\""
            << prec << "\">" << dimsXml(dims) << "</port></output></layer>\n";
    return {id, 0, dims, ""};
  }
  Port f32(const std::vector<int64_t>& dims, const std::vector<float>& v) { return constant("f32", "FP32", dims, v); }
  Port op(const std::string& type, const std::string& version, const std::map<std::string, std::string>& attrs, const std::vector<Port>& ins,
          const std::vector<int64_t>& out_dims, const char* prec = "FP32") {
    int id = next_++;
    std::string name = type + std::to_string(id);
    layers_ << "<layer id=\"" << id << "\" name=\"" << name << "\" type=\"" << type << "\" version=\"" << version << "\"><data";
    for (const auto& [k, v] : attrs) layers_ << " " << k << "=\"" << v << "\"";
    layers_ << "/><input>";
    for (size_t k = 0; k < ins.size(); ++k) {
      layers_ << "<port id=\"" << k << "\">" << dimsXml(ins[k].dims) << "</port>";
      edges_ << "<edge from-layer=\"" << ins[k].id << "\" from-port=\"" << ins[k].port << "\" to-layer=\"" << id << "\" to-port=\"" << k << "\"/>\n";
    }
    layers_ << "</input><output><port id=\"" << ins.size() << "\" precision=\"" << prec << "\" names=\"" << name << "\">" << dimsXml(out_dims)
            << "</port></output></layer>\n";
    return {id, static_cast<int>(ins.size()), out_dims, name};
  }
  void result(const Port& p) {
    int id = next_++;
    layers_ << "<layer id=\"" << id << "\" name=\"r" << id << "\" type=\"Result\" version=\"opset1\"><input><port id=\"0\">" << dimsXml(p.dims)
            << "</port></input></layer>\n";
    edges_ << "<edge from-layer=\"" << p.id << "\" from-port=\"" << p.port << "\" to-layer=\"" << id << "\" to-port=\"0\"/>\n";
  }
  std::string xml() const {
    return "<?xml version=\"1.0\"?>\n<net name=\"resnet50_bench\" version=\"11\"><layers>\n" + layers_.str() + "</layers><edges>\n" + edges_.str() +
           "</edges></net>\n";
  }
  const std::string& bin() const { return bin_; }

  static std::string join(const std::vector<int64_t>& d) {
    std::string s;
    for (size_t k = 0; k < d.size(); ++k) s += (k ? "," : "") + std::to_string(d[k]);
    return s;
  }

 private:
  static std::string dimsXml(const std::vector<int64_t>& d) {
    std::string s;
    for (auto x : d) s += "<dim>" + std::to_string(x) + "</dim>";
    return s;
  }
  int next_ = 0;
  std::ostringstream layers_, edges_;
  std::string bin_;
};

// ResNet-50 v1.5 as IR. kCalibrate exposes every quantization site as an extra output.
enum class Variant { kFp32, kInt8, kCalibrate };

struct Range {
  float lo = 0, hi = 0;
};

class ResNetIr {
 public:
  ResNetIr(Variant v, std::vector<Range> ranges, float fc_gain = 1.0f)
      : v_(v), ranges_(std::move(ranges)), fc_gain_(fc_gain), rng_(20261127) {}

  void build() {
    Port x = w_.param("data", {1, 3, 224, 224});
    x = site(x);
    x = conv(x, 64, 7, 2, 3, true, 1.0f);
    x = site(x);  // OpenVINO moves the FakeQuantize of the next Convolution above the MaxPool
    x = w_.op("MaxPool", "opset1", {{"strides", "2,2"}, {"kernel", "3,3"}, {"pads_begin", "1,1"}, {"pads_end", "1,1"}, {"rounding_type", "floor"}, {"auto_pad", "explicit"}},
              {x}, {1, 64, 56, 56});
    const int blocks[4] = {3, 4, 6, 3};
    int64_t width = 64;
    for (int s = 0; s < 4; ++s, width *= 2)
      for (int b = 0; b < blocks[s]; ++b) x = bottleneck(x, width, (b == 0 && s > 0) ? 2 : 1, b == 0);
    x = w_.op("ReduceMean", "opset1", {{"keep_dims", "false"}}, {x, w_.constant("i64", "I64", {2}, std::vector<int64_t>{2, 3})}, {1, 2048});
    x = site(x);
    Port fcw = weights({1000, 2048}, 2048, fc_gain_);
    x = w_.op("MatMul", "opset1", {{"transpose_a", "false"}, {"transpose_b", "true"}}, {x, fcw}, {1, 1000});
    x = w_.op("Add", "opset1", {{"auto_broadcast", "numpy"}}, {x, w_.f32({1, 1000}, randomVector(1000, 0.01f))}, {1, 1000});
    x = w_.op("SoftMax", "opset1", {{"axis", "1"}}, {x}, {1, 1000});
    w_.result(x);
    for (const auto& p : calibration_) w_.result(p);
  }

  const IrWriter& writer() const { return w_; }
  const std::vector<std::string>& calibrationNames() const { return calibration_names_; }

 private:
  Variant v_;
  std::vector<Range> ranges_;
  float fc_gain_;
  std::mt19937 rng_;
  IrWriter w_;
  size_t sites_ = 0;
  std::vector<Port> calibration_;
  std::vector<std::string> calibration_names_;

  std::vector<float> randomVector(size_t n, float stddev) {
    std::normal_distribution<float> d(0.0f, stddev);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng_);
    return v;
  }

  // A quantization site: FakeQuantize (INT8), an extra output (calibration) or nothing (FP32).
  Port site(const Port& x) {
    size_t i = sites_++;
    if (v_ == Variant::kCalibrate) {
      // the input itself cannot also be an output (same name); its range is that of the photos
      calibration_names_.push_back(x.name == "data" ? "" : x.name);
      if (x.name != "data") calibration_.push_back(x);
      return x;
    }
    if (v_ == Variant::kFp32) return x;
    const Range& r = ranges_.at(i);
    Port lo = w_.f32({}, {r.lo}), hi = w_.f32({}, {r.hi});
    return w_.op("FakeQuantize", "opset1", {{"levels", "256"}, {"auto_broadcast", "numpy"}}, {x, lo, hi, lo, hi}, x.dims);
  }

  // He-initialised weights [K, ...] (fan_in), scaled by `gain`; INT8: per-output-channel symmetric int8.
  Port weights(const std::vector<int64_t>& dims, int64_t fan_in, float gain) {
    int64_t n = 1;
    for (auto d : dims) n *= d;
    auto w = randomVector(static_cast<size_t>(n), gain * std::sqrt(2.0f / static_cast<float>(fan_in)));
    if (v_ != Variant::kInt8) return w_.f32(dims, w);
    int64_t K = dims[0], per = n / K;
    std::vector<int8_t> q(static_cast<size_t>(n));
    std::vector<float> scale(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k) {
      float m = 0;
      for (int64_t i = 0; i < per; ++i) m = std::max(m, std::fabs(w[static_cast<size_t>(k * per + i)]));
      float s = m > 0 ? m / 127.0f : 1.0f;
      scale[static_cast<size_t>(k)] = s;
      for (int64_t i = 0; i < per; ++i)
        q[static_cast<size_t>(k * per + i)] = static_cast<int8_t>(std::clamp(std::nearbyint(w[static_cast<size_t>(k * per + i)] / s), -127.0f, 127.0f));
    }
    Port qc = w_.constant("i8", "I8", dims, q);
    Port f = w_.op("Convert", "opset1", {{"destination_type", "f32"}}, {qc}, dims);
    std::vector<int64_t> sd(dims.size(), 1);
    sd[0] = K;
    return w_.op("Multiply", "opset1", {{"auto_broadcast", "numpy"}}, {f, w_.f32(sd, scale)}, dims);
  }

  Port conv(const Port& x, int64_t cout, int64_t k, int64_t stride, int64_t pad, bool relu, float gain) {
    int64_t cin = x.dims[1];
    Port w = weights({cout, cin, k, k}, cin * k * k, gain);
    int64_t h = (x.dims[2] + 2 * pad - k) / stride + 1, wd = (x.dims[3] + 2 * pad - k) / stride + 1;
    std::string st = std::to_string(stride) + "," + std::to_string(stride), pd = std::to_string(pad) + "," + std::to_string(pad);
    Port y = w_.op("Convolution", "opset1", {{"strides", st}, {"dilations", "1,1"}, {"pads_begin", pd}, {"pads_end", pd}, {"auto_pad", "explicit"}}, {x, w},
                   {1, cout, h, wd});
    y = w_.op("Add", "opset1", {{"auto_broadcast", "numpy"}}, {y, w_.f32({1, cout, 1, 1}, randomVector(static_cast<size_t>(cout), 0.05f))}, y.dims);
    if (relu) y = w_.op("ReLU", "opset1", {}, {y}, y.dims);
    return y;
  }

  // x is the (already quantized) block input.
  Port bottleneck(const Port& x, int64_t width, int64_t stride, bool project) {
    Port y = conv(x, width, 1, 1, 0, true, 1.0f);
    y = site(y);
    y = conv(y, width, 3, stride, 1, true, 1.0f);  // v1.5: stride on the 3x3
    y = site(y);
    y = conv(y, width * 4, 1, 1, 0, false, 0.3f);  // small last gain keeps the residual stream bounded
    y = site(y);
    Port sc = x;
    if (project) {
      sc = conv(x, width * 4, 1, stride, 0, false, 1.0f);
      sc = site(sc);
    }
    Port s = w_.op("Add", "opset1", {{"auto_broadcast", "numpy"}}, {y, sc}, y.dims);
    s = w_.op("ReLU", "opset1", {}, {s}, s.dims);
    return site(s);
  }
};

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
  for (auto& r : ranges) {
    if (r.lo >= 0) {
      r.lo = 0;
      continue;
    }
    // asymmetric: make zero exactly representable (integral zero point), as OpenVINO's quantizer does
    float s = (r.hi - r.lo) / 255.0f;
    float zp = std::nearbyint(-r.lo / s);
    r.lo = -zp * s;
    r.hi = r.lo + 255.0f * s;
  }
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
