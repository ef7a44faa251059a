// In-process cost of the TF-Serving and KServe REST JSON codecs for a 1x3x224x224 FP32 tensor:
// parsing on the fast path (simdjson) against the rapidjson reference path, and writing the
// response, in one run. ninja -C <build> json_codec_bench && <build>/bench/json_codec_bench [reps]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>

#include "api/kserve/kserve_rest.h"
#include "api/tfs/rest_predict_codec.h"

using namespace ovms;
using Clock = std::chrono::steady_clock;

namespace {

double bestMs(int reps, const std::function<void()>& f) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  const size_t n = 3 * 224 * 224;
  std::mt19937 rng(14);
  std::uniform_real_distribution<float> unit(-0.5f, 0.5f);
  std::string flat;
  char buf[40];
  for (size_t i = 0; i < n; ++i) {  // float32 values printed as doubles, as numpy's tolist() + json gives
    std::snprintf(buf, sizeof buf, "%s%.17g", i ? "," : "", static_cast<double>(unit(rng)));
    flat += buf;
  }
  std::string nested = "[[";
  {
    size_t pos = 0;
    for (int c = 0; c < 3; ++c) {
      nested += c ? ",[" : "[";
      for (int y = 0; y < 224; ++y) {
        nested += y ? ",[" : "[";
        for (int x = 0; x < 224; ++x) {
          size_t end = flat.find(',', pos);
          if (end == std::string::npos) end = flat.size();
          if (x) nested += ',';
          nested.append(flat, pos, end - pos);
          pos = end + 1;
        }
        nested += "]";
      }
      nested += "]";
    }
    nested += "]]";
  }
  const std::string tfs = R"({"instances":)" + nested + "}";
  const std::string kserve =
      R"({"inputs":[{"name":"x","shape":[1,3,224,224],"datatype":"FP32","data":[)" + flat + "]}]}";
  const std::vector<engine::TensorInfo> sig = {{"x", engine::Precision::FP32, {-1, 3, 224, 224}}};
  std::printf("# body bytes: TFS %zu, KServe %zu; best of %d runs\n", tfs.size(), kserve.size(), reps);

  serving::InferenceRequest keep;
  auto tfsFast = [&] {
    serving::InferenceRequest r;
    api::tfs::RestOrder o;
    if (!api::tfs::parsePredictRequest(tfs, sig, &r, &o, true, tfs.capacity()).ok()) std::abort();
    keep = std::move(r);
  };
  auto tfsRef = [&] {
    serving::InferenceRequest r;
    api::tfs::RestOrder o;
    if (!api::tfs::parsePredictRequestReference(tfs, sig, &r, &o, true).ok()) std::abort();
  };
  auto ksFast = [&] {
    api::kserve::RestInferRequest r;
    if (!api::kserve::parseInferRequest(kserve, nullptr, &r, kserve.capacity()).ok()) std::abort();
  };
  auto ksRef = [&] {
    api::kserve::RestInferRequest r;
    if (!api::kserve::parseInferRequestReference(kserve, nullptr, &r).ok()) std::abort();
  };
  tfsFast();
  // The response of add_one: the input tensor itself is a fine stand-in (same count and digits).
  serving::InferenceResponse resp;
  serving::InferenceOutput out;
  out.name = "y";
  out.tensor = keep.inputs[0].tensor;
  resp.outputs.push_back(out);
  std::string body;
  auto tfsWrite = [&] {
    if (!api::tfs::makePredictResponse(resp, api::tfs::RestOrder::ROW, &body).ok()) std::abort();
  };
  api::kserve::RestInferRequest kreq;
  size_t json_length = 0;
  bool has_binary = false;
  auto ksWrite = [&] {
    if (!api::kserve::makeInferResponse("m", 1, kreq, resp, &body, &json_length, &has_binary).ok()) std::abort();
  };
  double a = bestMs(reps, tfsRef), b = bestMs(reps, tfsFast);
  std::printf("TFS parse    rapidjson %7.2f ms   fast %7.2f ms   fast/rapidjson %.2fx\n", a, b, b / a);
  a = bestMs(reps, ksRef), b = bestMs(reps, ksFast);
  std::printf("KServe parse rapidjson %7.2f ms   fast %7.2f ms   fast/rapidjson %.2fx\n", a, b, b / a);
  double t = bestMs(reps, tfsWrite);
  std::printf("TFS response    %7.2f ms (%zu bytes)\n", t, body.size());
  t = bestMs(reps, ksWrite);
  std::printf("KServe response %7.2f ms (%zu bytes)\n", t, body.size());
  return 0;
}
