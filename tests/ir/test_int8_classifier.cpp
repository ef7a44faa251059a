// INT8 classifier accuracy: a ResNet-50-shaped IR (bench/resnet_ir.h, channels / 4 to keep the test quick) as FP32
// and as INT8 with FakeQuantize where OpenVINO's quantizer puts it, calibrated on the fixture photos; the INT8 IR
// runs on integer kernels and gives the same top class as the FP32 IR on every photo.
#include <turbojpeg.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

#include <onnx/onnx_pb.h>

#include "../../bench/resnet_ir.h"
#include "engine/ir/ir_model.h"
#include "ir_test_util.h"

using namespace irtest;
namespace ir = ovms::engine::ir;
namespace fs = std::filesystem;

namespace {

std::vector<float> photo224(const fs::path& file) {
  std::string data = readFile(file.string());
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
  const int H = 224, W = 224;
  std::vector<float> out(static_cast<size_t>(3) * H * W);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < 3; ++c)  // nearest neighbour is enough for a consistency check
        out[(static_cast<size_t>(c) * H + y) * W + x] = bgr[(static_cast<size_t>(y * hh / H) * w + x * w / W) * 3 + c];
  return out;
}

std::vector<Tensor> run(const std::string& xml, const std::string& bin, const std::vector<float>& img) {
  auto t = ir::translateIrToOnnx(std::string_view(xml), std::string_view(bin));
  Runner r(t.onnx_model);
  return r.run({{"data", Tensor::f32({1, 3, 224, 224}, img)}});
}

int argmax(const std::vector<float>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }

}  // namespace

TEST(Int8Classifier, SameTopClassAsFp32OnThePhotos) {
  if (!haveFixtures()) {
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") FAIL() << "fixtures missing: " << fixturesDir();
    GTEST_SKIP() << "fixtures folder absent";
  }
  constexpr int64_t kDiv = 4;
  std::vector<fs::path> photos;
  for (const auto& e : fs::directory_iterator(fs::path(fixturesDir()) / "images"))
    if (e.path().extension() == ".jpg") photos.push_back(e.path());
  std::sort(photos.begin(), photos.end());
  ASSERT_GE(photos.size(), 3u);
  std::vector<std::vector<float>> images;
  for (const auto& p : photos) images.push_back(photo224(p));

  using namespace int8bench;
  ResNetIr cal(Variant::kCalibrate, {}, 1.0f, kDiv);
  cal.build();
  auto t = ir::translateIrToOnnx(std::string_view(cal.writer().xml()), std::string_view(cal.writer().bin()));
  Runner cr(t.onnx_model);
  std::vector<Range> ranges(cal.calibrationNames().size(), Range{1e30f, -1e30f});
  for (const auto& img : images) {
    auto out = cr.run({{"data", Tensor::f32({1, 3, 224, 224}, img)}});
    for (size_t i = 0, o = 1; i < ranges.size(); ++i) {
      auto v = cal.calibrationNames()[i].empty() ? img : out.at(o++).as<float>();
      auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      ranges[i].lo = std::min(ranges[i].lo, *lo);
      ranges[i].hi = std::max(ranges[i].hi, *hi);
    }
  }
  const float fc_gain = ranges.back().hi > 0 ? 3.0f / ranges.back().hi : 1.0f;  // logits of a few units
  finishRanges(ranges);
  ResNetIr f(Variant::kFp32, {}, fc_gain, kDiv), q(Variant::kInt8, ranges, fc_gain, kDiv);
  f.build();
  q.build();

  // the INT8 IR runs on integer kernels: QuantizeLinear/DequantizeLinear around every convolution
  auto tq = ir::translateIrToOnnx(std::string_view(q.writer().xml()), std::string_view(q.writer().bin()));
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(tq.onnx_model));
  int convs = 0, int_convs = 0;
  std::map<std::string, const onnx::NodeProto*> producer;
  for (const auto& n : m.graph().node())
    for (const auto& o : n.output()) producer[o] = &n;
  for (const auto& n : m.graph().node()) {
    if (n.op_type() != "Conv") continue;
    ++convs;
    auto x = producer.find(n.input(0)), w = producer.find(n.input(1));
    int_convs += x != producer.end() && w != producer.end() && x->second->op_type() == "DequantizeLinear" &&
                 w->second->op_type() == "DequantizeLinear" && n.input_size() == 3;
  }
  EXPECT_EQ(convs, 53);
  EXPECT_EQ(int_convs, 53);

  int differing = 0;
  for (size_t k = 0; k < images.size(); ++k) {
    SCOPED_TRACE(photos[k].filename().string());
    auto a = run(f.writer().xml(), f.writer().bin(), images[k])[0].as<float>();
    auto b = run(q.writer().xml(), q.writer().bin(), images[k])[0].as<float>();
    EXPECT_EQ(argmax(a), argmax(b));
    for (size_t i = 0; i < a.size(); ++i) differing += std::fabs(a[i] - b[i]) > 0.1f * a[argmax(a)];
  }
  EXPECT_EQ(differing, 0) << "class probabilities should agree within 10 % of the top probability";
}
