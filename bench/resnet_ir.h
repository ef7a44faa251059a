#pragma once
// A ResNet-50 v1.5-shaped classifier written as OpenVINO IR v11 (XML + weights), FP32 or INT8 with FakeQuantize
// where OpenVINO's quantizer puts it, or with every quantization site exposed as an output for calibration.
// Used by bench/int8_bench.cpp and tests/ir/test_int8_classifier.cpp. Random weights, fixed seed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace int8bench {

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
  // `width_div` divides every channel count (1 = ResNet-50 proper; tests use a narrower network of the same shape).
  ResNetIr(Variant v, std::vector<Range> ranges, float fc_gain = 1.0f, int64_t width_div = 1)
      : v_(v), ranges_(std::move(ranges)), fc_gain_(fc_gain), div_(width_div), rng_(20261127) {}

  void build() {
    Port x = w_.param("data", {1, 3, 224, 224});
    x = site(x);
    x = conv(x, 64 / div_, 7, 2, 3, true, 1.0f);
    x = site(x);  // OpenVINO moves the FakeQuantize of the next Convolution above the MaxPool
    x = w_.op("MaxPool", "opset1", {{"strides", "2,2"}, {"kernel", "3,3"}, {"pads_begin", "1,1"}, {"pads_end", "1,1"}, {"rounding_type", "floor"}, {"auto_pad", "explicit"}},
              {x}, {1, 64 / div_, 56, 56});
    const int blocks[4] = {3, 4, 6, 3};
    int64_t width = 64 / div_;
    for (int s = 0; s < 4; ++s, width *= 2)
      for (int b = 0; b < blocks[s]; ++b) x = bottleneck(x, width, (b == 0 && s > 0) ? 2 : 1, b == 0);
    x = w_.op("ReduceMean", "opset1", {{"keep_dims", "false"}}, {x, w_.constant("i64", "I64", {2}, std::vector<int64_t>{2, 3})}, {1, 2048 / div_});
    x = site(x);
    Port fcw = weights({1000, 2048 / div_}, 2048 / div_, fc_gain_);
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
  int64_t div_;
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


// Activation ranges from calibration minima/maxima: [0, max] for non-negative tensors, otherwise [min, max] widened
// so that zero is exactly representable (integral zero point), as OpenVINO's quantizer does.
inline void finishRanges(std::vector<Range>& ranges) {
  for (auto& r : ranges) {
    if (r.lo >= 0) {
      r.lo = 0;
      continue;
    }
    float s = (r.hi - r.lo) / 255.0f;
    float zp = std::nearbyint(-r.lo / s);
    r.lo = -zp * s;
    r.hi = r.lo + 255.0f * s;
  }
}

}  // namespace int8bench
