// Engine benchmark: our engine::OnnxModel (the session settings the server uses: ORT_ENABLE_ALL,
// sequential execution, 1 inter-op thread, intra-op/inter-op spinning off) on one ONNX model.
// Reports the median latency of batch 1 and the throughput of batch 8 (images/s = 8 / median batch-8
// latency) as one JSON line; bench/node/ort_bench.js prints the same line for onnxruntime-node.
//
//   engine_bench --model bench/models/resnet50/1/model.onnx [--threads 2] [--runs 30] [--warmup 5]
//                [--batch 8] [--max-seconds 60]
//
// The input is the same deterministic pattern in both programs: x[i] = ((i * 7919) % 1000) / 1000 - 0.5,
// and "checksum" (sum of y[i] * (i % 7 + 1) over the first output of the batch-1 run) lets the two engines be compared.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/onnx_model.h"
#include "bench_flags.h"

using namespace ovms::engine;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string model;
  int threads = 2;
  int runs = 30;
  int warmup = 5;
  int batch = 8;
  double max_seconds = 60;  // per phase: a slow machine stops early rather than running for ever
};

constexpr const char* kUsage =
    "engine_bench --model FILE.onnx [--threads N] [--runs N] [--warmup N] [--batch N] [--max-seconds S]";

Args parse(int argc, char** argv) {
  Args a;
  bench::parseFlags(argc, argv, kUsage, [&](const std::string& k, const std::string& v) {
    if (k == "--model") a.model = v;
    else if (k == "--threads") a.threads = std::atoi(v.c_str());
    else if (k == "--runs") a.runs = std::max(1, std::atoi(v.c_str()));
    else if (k == "--warmup") a.warmup = std::max(0, std::atoi(v.c_str()));
    else if (k == "--batch") a.batch = std::max(1, std::atoi(v.c_str()));
    else if (k == "--max-seconds") a.max_seconds = std::atof(v.c_str());
    else return false;
    return true;
  });
  if (a.model.empty()) bench::exitWithUsage(kUsage);
  return a;
}

struct Phase {
  double median_ms = 0;
  int runs = 0;
  double checksum = 0;
};

Phase run(const OnnxModel& m, int batch, const Args& a) {
  const auto& info = m.inputs().at(0);
  if (info.precision != Precision::FP32 || m.inputs().size() != 1) {
    std::fprintf(stderr, "engine_bench: the model must have one FP32 input\n");
    std::exit(2);
  }
  Shape shape = info.shape;
  if (!shape.empty() && shape[0] < 0) shape[0] = batch;
  for (auto& d : shape)
    if (d < 0) d = 1;
  size_t n = static_cast<size_t>(elementCount(shape));
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
  std::vector<TensorView> in{TensorView{Precision::FP32, shape, x.data(), n * sizeof(float), nullptr}};
  std::vector<TensorView> out;
  std::string error;
  auto once = [&] {
    if (!m.infer(in, &out, &error)) {
      std::fprintf(stderr, "engine_bench: infer failed: %s\n", error.c_str());
      std::exit(2);
    }
  };
  auto deadline = Clock::now() + std::chrono::duration<double>(a.max_seconds);
  for (int i = 0; i < a.warmup && Clock::now() < deadline; ++i) once();
  std::vector<double> ms;
  for (int i = 0; i < a.runs && (i < 3 || Clock::now() < deadline); ++i) {
    auto t0 = Clock::now();
    once();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  Phase p;
  p.runs = static_cast<int>(ms.size());
  p.median_ms = ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
  if (!out.empty() && out[0].precision == Precision::FP32) {
    const float* y = static_cast<const float*>(out[0].data);
    for (size_t i = 0; i < out[0].bytes / sizeof(float); ++i) p.checksum += y[i] * static_cast<double>(i % 7 + 1);
  }
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  EngineOptions eo;  // as serving::Servable::load fills it: only the intra-op thread count is set
  eo.intra_op_threads = a.threads;
  std::string error;
  auto t0 = Clock::now();
  auto m = OnnxModel::loadFile(a.model, eo, &error);
  if (!m) {
    std::fprintf(stderr, "engine_bench: cannot load %s: %s\n", a.model.c_str(), error.c_str());
    return 2;
  }
  double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  Phase b1 = run(*m, 1, a);
  Phase bn = run(*m, a.batch, a);
  std::printf(
      "{\"engine\":\"ovms-cpp engine::OnnxModel (ORT %s)\",\"model\":\"%s\",\"threads\":%d,\"load_ms\":%.1f,"
      "\"b1_median_ms\":%.4f,\"b1_runs\":%d,\"batch\":%d,\"bn_median_ms\":%.4f,\"bn_runs\":%d,"
      "\"bn_items_per_s\":%.2f,\"checksum\":%.6g}\n",
      engineVersion().c_str(), a.model.c_str(), a.threads, load_ms, b1.median_ms, b1.runs, a.batch, bn.median_ms,
      bn.runs, a.batch * 1000.0 / bn.median_ms, b1.checksum);
  return 0;
}
