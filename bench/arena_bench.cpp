// ONNX Runtime CPU arena shrinkage vs inference speed (issue 9): the same model in three sessions
// that differ only in their EngineOptions arena settings — never shrink (ONNX Runtime's default),
// shrink 1 s after the last run with >= 1 MiB of input (the server's setting; back-to-back runs here,
// so it shrinks only when the batch size drops), and shrink at the end of every run with >= 1 MiB.
// Runs are interleaved (one of each in turn) so machine load hits all three alike; prints the median
// latency of each and its ratio to "never", per batch size, one JSON line per batch.
//
//   arena_bench [--model models/demo_classifier/1/model.onnx] [--runs 41] [--threads 1]
//               [--batches 1,256,65536,437000]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "engine/onnx_model.h"

using namespace ovms::engine;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string model = "models/demo_classifier/1/model.onnx";
  int runs = 41, threads = 1;
  std::vector<int64_t> batches{1, 256, 65536, 437000};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") model = v;
    else if (k == "--runs") runs = std::max(3, std::atoi(v.c_str()));
    else if (k == "--threads") threads = std::atoi(v.c_str());
    else if (k == "--batches") {
      batches.clear();
      std::stringstream ss(v);
      for (std::string b; std::getline(ss, b, ',');) batches.push_back(std::atoll(b.c_str()));
    } else {
      std::fprintf(stderr, "usage: arena_bench [--model F] [--runs N] [--threads N] [--batches a,b,c]\n");
      return 64;
    }
  }
  const char* names[3] = {"never", "deferred_1s", "every_large_run"};
  const uint64_t thresholds[3] = {UINT64_MAX, 1ull << 20, 1ull << 20};
  const uint32_t delays_ms[3] = {0, 1000, 0};
  std::vector<std::unique_ptr<OnnxModel>> sessions;
  for (int v = 0; v < 3; ++v) {
    EngineOptions eo;
    eo.intra_op_threads = threads;
    eo.arena_shrink_min_input_bytes = thresholds[v];
    eo.arena_shrink_delay_ms = delays_ms[v];
    std::string error;
    auto m = OnnxModel::loadFile(model, eo, &error);
    if (!m) {
      std::fprintf(stderr, "arena_bench: cannot load %s: %s\n", model.c_str(), error.c_str());
      return 2;
    }
    sessions.push_back(std::move(m));
  }
  const auto& info = sessions[0]->inputs().at(0);
  for (int64_t batch : batches) {
    Shape shape = info.shape;
    if (!shape.empty()) shape[0] = batch;
    for (auto& d : shape)
      if (d < 0) d = 1;
    size_t n = static_cast<size_t>(elementCount(shape));
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
    std::vector<TensorView> in{TensorView{Precision::FP32, shape, x.data(), n * sizeof(float), nullptr}};
    std::vector<double> ms[3];
    for (int r = 0; r < runs + 2; ++r)
      for (int s = 0; s < 3; ++s) {
        std::vector<TensorView> out;
        std::string error;
        auto t0 = Clock::now();
        if (!sessions[s]->infer(in, &out, &error)) {
          std::fprintf(stderr, "arena_bench: infer failed: %s\n", error.c_str());
          return 2;
        }
        if (r >= 2) ms[s].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    double median[3];
    for (int s = 0; s < 3; ++s) {
      std::sort(ms[s].begin(), ms[s].end());
      median[s] = ms[s][ms[s].size() / 2];
    }
    std::printf("{\"batch\":%lld,\"input_bytes\":%zu,\"runs\":%d", static_cast<long long>(batch), n * sizeof(float),
                runs);
    for (int s = 0; s < 3; ++s)
      std::printf(",\"%s_ms\":%.4f,\"%s_ratio\":%.3f", names[s], median[s], names[s], median[s] / median[0]);
    std::printf("}\n");
  }
  return 0;
}
