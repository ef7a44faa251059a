// INT8 on integer kernels: FakeQuantize -> QuantizeLinear/DequantizeLinear, INT8 weights -> DequantizeLinear of
// int8 constants, and the QDQ form ONNX Runtime fuses into QLinearConv (checked in its optimised graph).
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

#include <onnx/onnx_pb.h>

#include "engine/ir/qdq_rewrite.h"
#include "ir_test_util.h"

using namespace irtest;
namespace ir = ovms::engine::ir;

namespace {

// Fixture tests fail (not skip) in CI when ../shared is missing.
#define INT8_REQUIRE_FIXTURES()                                                                  \
  do {                                                                                           \
    if (!irtest::haveFixtures()) {                                                               \
      const char* ci = std::getenv("CI");                                                        \
      if (ci && std::string(ci) == "true") FAIL() << "fixtures missing: " << irtest::fixturesDir(); \
      GTEST_SKIP() << "fixtures folder absent: " << irtest::fixturesDir();                       \
    }                                                                                            \
  } while (0)

// Emulation on for the lifetime of the object (tests that need the float reference).
struct Emulation {
  Emulation() { ir::setFakeQuantizeEmulation(true); }
  ~Emulation() { ir::setFakeQuantizeEmulation(false); }
};

std::map<std::string, int> opCounts(const std::string& model_bytes) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(model_bytes));
  std::map<std::string, int> r;
  for (const auto& n : m.graph().node()) r[n.op_type()]++;
  return r;
}

// Op counts of the graph ONNX Runtime runs after its optimisations (ORT_ENABLE_ALL, as the server).
std::map<std::string, int> optimizedOpCounts(const std::string& model_bytes) {
  auto path = std::filesystem::temp_directory_path() / ("int8_opt_" + std::to_string(::getpid()) + ".onnx");
  {
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(1);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    so.SetOptimizedModelFilePath(path.c_str());
    ir::registerIrCustomOps(so);
    Ort::Session s(env(), model_bytes.data(), model_bytes.size(), so);
  }
  auto counts = opCounts(readFile(path.string()));
  std::filesystem::remove(path);
  return counts;
}

// Runs with the server's setting that matters here: ONNX Runtime's own (per-tensor, lossy) quantization of float
// Conv weights between DequantizeLinear and QuantizeLinear is off.
std::vector<float> run1(const std::string& model, const std::string& in_name, const Tensor& t) {
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(1);
  so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  so.AddConfigEntry("optimization.disable_specified_optimizers", "WeightBiasQuantization");
  ir::registerIrCustomOps(so);
  Ort::Session s(env(), model.data(), model.size(), so);
  auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  Ort::Value in = Ort::Value::CreateTensor(mem, const_cast<char*>(t.data.data()), t.data.size(), t.shape.data(), t.shape.size(), t.type);
  Ort::AllocatorWithDefaultOptions alloc;
  auto out_name = s.GetOutputNameAllocated(0, alloc);
  const char* in_names[] = {in_name.c_str()};
  const char* out_names[] = {out_name.get()};
  auto outs = s.Run(Ort::RunOptions{nullptr}, in_names, &in, 1, out_names, 1);
  const float* p = outs[0].GetTensorData<float>();
  return std::vector<float>(p, p + outs[0].GetTensorTypeAndShapeInfo().GetElementCount());
}

float fqReference(float x, float il, float ih, float ol, float oh, int levels) {
  if (x <= std::min(il, ih)) return ol;
  if (x > std::max(il, ih)) return oh;
  float l1 = static_cast<float>(levels - 1);
  return std::nearbyint((x - il) / (ih - il) * l1) / l1 * (oh - ol) + ol;
}

struct FqCase {
  const char* what;
  int levels;
  std::vector<float> il, ih, ol, oh;  // one value (per tensor) or two (channels of axis 1)
  bool integer;                       // expected as QuantizeLinear/DequantizeLinear
};

}  // namespace

TEST(Int8Qdq, ActivationFakeQuantizeBecomesQdqWhereTheRangeAllows) {
  const std::vector<FqCase> cases = {
      {"unsigned 256", 256, {0.0f}, {2.55f}, {0.0f}, {2.55f}, true},
      {"symmetric 256 (zero point 128)", 256, {-1.28f}, {1.27f}, {-1.28f}, {1.27f}, true},
      {"symmetric 255 (clipped)", 255, {-1.27f}, {1.27f}, {-1.27f}, {1.27f}, true},
      {"output range differs (zero point 100)", 256, {0.0f}, {2.55f}, {-1.0f}, {1.55f}, true},
      {"per channel", 256, {0.0f, -1.28f}, {2.55f, 1.27f}, {0.0f, -1.28f}, {2.55f, 1.27f}, true},
      {"fractional zero point", 256, {0.003f}, {2.553f}, {0.003f}, {2.553f}, false},
      {"16 levels", 16, {0.0f}, {1.5f}, {0.0f}, {1.5f}, false},
  };
  const std::vector<int64_t> shape{1, 2, 3, 40};
  std::vector<float> x(240);
  for (size_t k = 0; k < x.size(); ++k) x[k] = -1.6f + 0.0193f * static_cast<float>(k);  // inside and outside
  x[5] = 0.0f;
  x[6] = 2.55f;
  x[7] = -1.28f;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    IrBuilder b;
    auto p = b.param("x", "f32", shape);
    auto rng = [&](const std::vector<float>& v) { return v.size() == 1 ? b.f32({}, v) : b.f32({1, 2, 1, 1}, v); };
    auto fq = b.op("FakeQuantize", "opset1", {{"levels", std::to_string(c.levels)}}, {p, rng(c.il), rng(c.ih), rng(c.ol), rng(c.oh)}, {shape});
    b.result(fq);
    auto t = b.translate();
    auto ops = opCounts(t.onnx_model);
    EXPECT_EQ(ops["QuantizeLinear"], c.integer ? 1 : 0);
    EXPECT_EQ(ops["DequantizeLinear"], c.integer ? 1 : 0);
    auto y = run1(t.onnx_model, "x", Tensor::f32(shape, x));
    ASSERT_EQ(y.size(), x.size());
    int exact = 0;
    for (size_t k = 0; k < x.size(); ++k) {
      size_t ch = c.il.size() == 1 ? 0 : (k / 120);
      float ref = fqReference(x[k], c.il[ch], c.ih[ch], c.ol[ch], c.oh[ch], c.levels);
      float step = (c.oh[ch] - c.ol[ch]) / static_cast<float>(c.levels - 1);
      // the quotient x / scale may land on the other side of a rounding tie than (x - il) / (ih - il) * (levels - 1)
      EXPECT_LE(std::fabs(y[k] - ref), step * 1.001f + 1e-6f) << "x=" << x[k];
      exact += std::fabs(y[k] - ref) <= 1e-5f * std::max(1.0f, std::fabs(ref));
    }
    EXPECT_GE(exact, 236) << "more than a few elements differ by a level";
  }
}

namespace {

// x[1,8,12,12] -> FQ(u8) -> Conv(int8 weights, 16 out channels, 3x3, pad 1) -> Add(bias) -> ReLU -> FQ(u8) -> Result.
// `compressed`: weights as OpenVINO stores them in INT8 IRs (Const i8 -> Convert -> Subtract(zp) -> Multiply(scale));
// otherwise float weights behind a constant FakeQuantize (255 levels, per-channel), as older IRs do.
// `depthwise`: GroupConvolution with one group per channel (weights [C, 1, 1, 3, 3], reshaped by the translator).
std::string quantizedConvIr(bool compressed, bool depthwise = false) {
  const int64_t C = 8, K = depthwise ? 8 : 16;
  const int64_t per = depthwise ? 9 : C * 9;  // weights per output channel
  const std::vector<int64_t> wdims = depthwise ? std::vector<int64_t>{K, 1, 1, 3, 3} : std::vector<int64_t>{K, C, 3, 3};
  const std::vector<int64_t> sdims = depthwise ? std::vector<int64_t>{K, 1, 1, 1, 1} : std::vector<int64_t>{K, 1, 1, 1};
  IrBuilder b;
  auto p = b.param("x", "f32", {1, C, 12, 12});
  auto fq_in = b.op("FakeQuantize", "opset1", {{"levels", "256"}}, {p, b.f32({}, {0.0f}), b.f32({}, {2.55f}), b.f32({}, {0.0f}), b.f32({}, {2.55f})},
                    {{1, C, 12, 12}});
  std::vector<float> scale(K);
  for (int64_t k = 0; k < K; ++k) scale[k] = 0.002f + 0.0005f * static_cast<float>(k);
  std::vector<int8_t> q(static_cast<size_t>(K * per));
  for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<int8_t>(static_cast<int>((i * 37 + 11) % 255) - 127);
  IrBuilder::Out w;
  if (compressed) {
    auto qc = b.constant("i8", wdims, q);
    auto conv = b.op("Convert", "opset1", {{"destination_type", "f32"}}, {qc}, {wdims});
    auto sub = b.op("Subtract", "opset1", {}, {conv, b.f32(sdims, std::vector<float>(K, 7.62939453e-06f))}, {wdims});
    w = b.op("Multiply", "opset1", {}, {sub, b.f32(sdims, scale)}, {wdims});
  } else {
    std::vector<float> wf(q.size());
    for (size_t i = 0; i < q.size(); ++i) wf[i] = static_cast<float>(q[i]) * scale[i / per];
    std::vector<float> lo(K), hi(K);
    for (int64_t k = 0; k < K; ++k) {
      lo[k] = -127.0f * scale[k];
      hi[k] = 127.0f * scale[k];
    }
    w = b.op("FakeQuantize", "opset1", {{"levels", "255"}},
             {b.f32(wdims, wf), b.f32(sdims, lo), b.f32(sdims, hi), b.f32(sdims, lo), b.f32(sdims, hi)}, {wdims});
  }
  auto conv = b.op(depthwise ? "GroupConvolution" : "Convolution", "opset1", {{"strides", "1,1"}, {"dilations", "1,1"}, {"pads_begin", "1,1"}, {"pads_end", "1,1"}, {"auto_pad", "explicit"}},
                   {fq_in, w}, {{1, K, 12, 12}});
  std::vector<float> bias(K);
  for (int64_t k = 0; k < K; ++k) bias[k] = 0.05f * static_cast<float>(k % 5) - 0.1f;
  auto add = b.op("Add", "opset1", {}, {conv, b.f32({1, K, 1, 1}, bias)}, {{1, K, 12, 12}});
  auto relu = b.op("ReLU", "opset1", {}, {add}, {{1, K, 12, 12}});
  auto fq_out = b.op("FakeQuantize", "opset1", {{"levels", "256"}}, {relu, b.f32({}, {0.0f}), b.f32({}, {1.275f}), b.f32({}, {0.0f}), b.f32({}, {1.275f})},
                     {{1, K, 12, 12}});
  b.result(fq_out);
  return b.xml() + std::string(1, '\0') + b.bin();
}

ir::IrTranslation translatePacked(const std::string& packed) {
  size_t z = packed.find('\0');
  return ir::translateIrToOnnx(std::string_view(packed).substr(0, z), std::string_view(packed).substr(z + 1));
}

}  // namespace

TEST(Int8Qdq, QuantizedConvRunsAsQLinearConvAndMatchesEmulation) {
  for (int variant = 0; variant < 4; ++variant) {
    const bool compressed = variant % 2 == 0, depthwise = variant >= 2;
    SCOPED_TRACE(std::string(compressed ? "Convert(i8)/Subtract/Multiply weights" : "FakeQuantize weights") + (depthwise ? ", depthwise" : ""));
    std::string packed = quantizedConvIr(compressed, depthwise);
    auto qdq = translatePacked(packed);
    ir::IrTranslation emu;
    {
      Emulation e;
      emu = translatePacked(packed);
    }
    auto ops = opCounts(qdq.onnx_model);
    EXPECT_EQ(ops["QuantizeLinear"], 2);
    EXPECT_EQ(ops["Add"], 0) << "the bias is the Conv's third input";
    EXPECT_EQ(opCounts(emu.onnx_model)["QuantizeLinear"], 0);
    auto opt = optimizedOpCounts(qdq.onnx_model);
    EXPECT_EQ(opt["QLinearConv"], 1) << "ONNX Runtime did not fuse the QDQ Conv";
    std::vector<float> x(8 * 12 * 12);
    for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>((k * 53) % 300) * 0.01f - 0.2f;
    auto in = Tensor::f32({1, 8, 12, 12}, x);
    auto a = run1(qdq.onnx_model, "x", in), r = run1(emu.onnx_model, "x", in);
    ASSERT_EQ(a.size(), r.size());
    const float step = 1.275f / 255.0f;
    int same = 0;
    for (size_t k = 0; k < a.size(); ++k) {
      EXPECT_LE(std::fabs(a[k] - r[k]), step * 1.01f) << k;
      same += std::fabs(a[k] - r[k]) < 1e-6f;
    }
    EXPECT_GE(same, static_cast<int>(a.size() * 95 / 100)) << "integer accumulation should change at most a few roundings";
  }
}

// ---------------------------------------------------------------------------------------------------------
namespace {

struct Det {
  float conf, x0, y0, x1, y1;
};

std::vector<Det> strongDetections(const Tensor& t, float min_conf) {
  auto v = t.as<float>();
  std::vector<Det> r;
  for (size_t k = 0; k + 7 <= v.size(); k += 7) {
    if (v[k] < 0) break;
    if (v[k + 2] > min_conf) r.push_back({v[k + 2], v[k + 3], v[k + 4], v[k + 5], v[k + 6]});
  }
  return r;
}

float iou(const Det& a, const Det& b) {
  float iw = std::max(0.0f, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  float ih = std::max(0.0f, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  float i = iw * ih;
  return i / ((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - i);
}

// Decodes a fixture photo and resizes it (bilinear) to NCHW BGR floats 0..255.
std::vector<float> photo(const std::string& name, int H, int W) {
  std::string data = readFile(fixturesDir() + "/images/" + name);
  tjhandle h = tjInitDecompress();
  int w = 0, hh = 0, ss, cs;
  std::vector<uint8_t> bgr;
  const auto* src = reinterpret_cast<const unsigned char*>(data.data());
  if (tjDecompressHeader3(h, src, static_cast<unsigned long>(data.size()), &w, &hh, &ss, &cs) == 0) {
    bgr.resize(static_cast<size_t>(w) * hh * 3);
    if (tjDecompress2(h, src, static_cast<unsigned long>(data.size()), bgr.data(), w, 0, hh, TJPF_BGR, 0) != 0) bgr.clear();
  }
  tjDestroy(h);
  if (bgr.empty()) throw std::runtime_error("cannot decode " + name);
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

std::string omz(const std::string& model, int ver) {
  return fixturesDir() + "/omz-ir/" + model + "/" + std::to_string(ver) + "/" + model;
}

ir::IrTranslation translateOmz(const std::string& model, int ver) {
  return ir::translateIrToOnnx(omz(model, ver) + ".xml", omz(model, ver) + ".bin");
}

void expectSameDetections(const std::vector<Det>& a, const std::vector<Det>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& d : a) {
    float best = 0;
    for (const auto& e : b) best = std::max(best, iou(d, e));
    EXPECT_GE(best, 0.9f);
  }
}

}  // namespace

TEST(Int8Qdq, FaceDetectionInt8RunsOnIntegerKernelsAndMatchesFp32) {
  INT8_REQUIRE_FIXTURES();
  auto fp32 = translateOmz("face-detection-retail-0004", 1);
  auto int8 = translateOmz("face-detection-retail-0004", 2);
  auto opt = optimizedOpCounts(int8.onnx_model);
  // 33 convolutions; the detection heads' outputs are not quantized (no QuantizeLinear after them), the rest are
  EXPECT_GE(opt["QLinearConv"], 20);
  Runner r32(fp32.onnx_model), r8(int8.onnx_model);
  for (const char* name : {"messi5.jpg", "home.jpg"}) {
    SCOPED_TRACE(name);
    auto in = Tensor::f32({1, 3, 300, 300}, photo(name, 300, 300));
    auto d32 = strongDetections(r32.run({{"data", in}})[0], 0.5f);
    auto d8 = strongDetections(r8.run({{"data", in}})[0], 0.5f);
    expectSameDetections(d32, d8);
    EXPECT_EQ(d8.size(), std::string(name) == "messi5.jpg" ? 1u : 0u);
  }
}

TEST(Int8Qdq, FaceDetectionInt8MatchesItsFloatEmulation) {
  INT8_REQUIRE_FIXTURES();
  auto qdq = translateOmz("face-detection-retail-0004", 2);
  ir::IrTranslation emu;
  {
    Emulation e;
    emu = translateOmz("face-detection-retail-0004", 2);
  }
  Runner ra(qdq.onnx_model), rb(emu.onnx_model);
  auto in = Tensor::f32({1, 3, 300, 300}, photo("messi5.jpg", 300, 300));
  auto a = strongDetections(ra.run({{"data", in}})[0], 0.5f);
  auto b = strongDetections(rb.run({{"data", in}})[0], 0.5f);
  expectSameDetections(a, b);
  for (size_t k = 0; k < std::min(a.size(), b.size()); ++k) EXPECT_NEAR(a[k].conf, b[k].conf, 0.02f);
}

// ---------------------------------------------------------------------------------------------------------
// Memory: ONNX Runtime constant-folds whatever depends only on static shapes. The float emulation used to expand
// ol/oh to the activation's shape for its exact endpoints, which ONNX Runtime folded into two activation-sized
// constants per FakeQuantize (hundreds of MB for a super-resolution network). Neither form may hold more than its
// range constants now.
namespace {

int64_t optimizedInitializerBytes(const std::string& model_bytes) {
  auto path = std::filesystem::temp_directory_path() / ("int8_mem_" + std::to_string(::getpid()) + ".onnx");
  {
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(1);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    so.SetOptimizedModelFilePath(path.c_str());
    ir::registerIrCustomOps(so);
    Ort::Session s(env(), model_bytes.data(), model_bytes.size(), so);
  }
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(readFile(path.string())));
  std::filesystem::remove(path);
  int64_t total = 0;
  for (const auto& t : m.graph().initializer()) {
    int64_t n = 1;
    for (auto d : t.dims()) n *= d;
    total += n * 4;  // upper bound per element
  }
  return total;
}

}  // namespace

TEST(Int8Qdq, FakeQuantizeAddsNoActivationSizedConstants) {
  const std::vector<int64_t> shape{1, 16, 128, 128};  // 1 MiB of floats
  for (bool integer : {true, false}) {
    SCOPED_TRACE(integer ? "QuantizeLinear/DequantizeLinear" : "float emulation (fractional zero point)");
    IrBuilder b;
    auto p = b.param("x", "f32", shape);
    float lo = integer ? 0.0f : 0.003f, hi = integer ? 2.55f : 2.553f;
    auto fq1 = b.op("FakeQuantize", "opset1", {{"levels", "256"}}, {p, b.f32({}, {lo}), b.f32({}, {hi}), b.f32({}, {lo}), b.f32({}, {hi})}, {shape});
    auto relu = b.op("ReLU", "opset1", {}, {fq1}, {shape});
    b.result(b.op("FakeQuantize", "opset1", {{"levels", "256"}}, {relu, b.f32({}, {lo}), b.f32({}, {hi}), b.f32({}, {lo}), b.f32({}, {hi})}, {shape}));
    auto t = b.translate();
    EXPECT_EQ(opCounts(t.onnx_model)["Expand"], 0);
    EXPECT_LT(optimizedInitializerBytes(t.onnx_model), 4096);
  }
}
