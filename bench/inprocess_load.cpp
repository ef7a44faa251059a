// In-process peer of the load-curve benchmark (bench/load_curves.py): the same model, loaded the way
// ovms loads it, driven by N closed-loop client threads without any transport.
//
// The model entry is read from the same config.json ovms is started with (serving::loadConfigFile),
// and its highest version folder is loaded with serving::Servable::load, so the engine session gets
// exactly the server's settings: intra-op threads and streams from plugin_config (default: all usable
// cores, 1 stream), the nireq pool (default max(streams, cores)), graph optimisation, cache. Each
// thread then calls Servable::infer on one pre-built batch-1 request (x[i] = ((i * 7919) % 1000) /
// 1000 - 0.5, as grpc_load sends), which is what the server runs for every request once the wire
// message is decoded: validation, waiting for a free infer slot, the engine run. So the difference
// between a server API and this program is the API's own cost: transport, decode, encode, threads.
//
//   inprocess_load --config config.json --model resnet50 [--concurrency 1] [--seconds 8]
//                  [--warmup-seconds 2]
// Prints one JSON line like grpc_load: requests, errors, req_per_s, p50_ms, p90_ms, p99_ms, nireq.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "serving/config_file.h"
#include "serving/servable.h"
#include "bench_flags.h"
#include "load_summary.h"

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using namespace ovms;

namespace {

struct Args {
  std::string config;
  std::string model;
  int concurrency = 1;
  double seconds = 8;
  double warmup_seconds = 2;
};

constexpr const char* kUsage =
    "inprocess_load --config config.json --model NAME [--concurrency N] [--seconds S] [--warmup-seconds S]";

Args parse(int argc, char** argv) {
  Args a;
  bench::parseFlags(argc, argv, kUsage, [&](const std::string& k, const std::string& v) {
    if (k == "--config") a.config = v;
    else if (k == "--model") a.model = v;
    else if (k == "--concurrency") a.concurrency = std::max(1, std::atoi(v.c_str()));
    else if (k == "--seconds") a.seconds = std::atof(v.c_str());
    else if (k == "--warmup-seconds") a.warmup_seconds = std::atof(v.c_str());
    else return false;
    return true;
  });
  if (a.config.empty() || a.model.empty()) bench::exitWithUsage(kUsage);
  return a;
}

// The highest numeric version folder, as the default "latest" policy serves it.
std::string latestVersionDir(const std::string& base) {
  int64_t best = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(base, ec)) {
    if (!e.is_directory()) continue;
    const std::string n = e.path().filename().string();
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) continue;
    best = std::max<int64_t>(best, std::atoll(n.c_str()));
  }
  return best < 0 ? "" : (fs::path(base) / std::to_string(best)).string();
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  std::string content;
  serving::ConfigFileContent cfg;
  Status st = serving::loadConfigFile(a.config, &content, &cfg);
  if (!st.ok()) {
    std::fprintf(stderr, "inprocess_load: %s: %s\n", a.config.c_str(), st.message().c_str());
    return 2;
  }
  const serving::ModelConfig* mc = nullptr;
  for (const auto& m : cfg.models)
    if (m.name == a.model) mc = &m;
  if (!mc) {
    std::fprintf(stderr, "inprocess_load: model %s is not in %s\n", a.model.c_str(), a.config.c_str());
    return 2;
  }
  const std::string dir = latestVersionDir(mc->base_path);
  std::unique_ptr<serving::Servable> servable;
  st = dir.empty() ? Status(StatusCode::FILE_INVALID, "no version folder in " + mc->base_path)
                   : serving::Servable::load(dir, *mc, &servable);
  if (!st.ok()) {
    std::fprintf(stderr, "inprocess_load: cannot load %s: %s\n", dir.c_str(), st.message().c_str());
    return 2;
  }

  // One batch-1 FP32 request for the model's only input; dynamic dims are 1.
  if (servable->inputs().size() != 1 || servable->inputs()[0].precision != engine::Precision::FP32) {
    std::fprintf(stderr, "inprocess_load: the model must have one FP32 input\n");
    return 2;
  }
  const auto& info = servable->inputs()[0];
  engine::Shape shape = info.shape;
  for (auto& d : shape)
    if (d < 0) d = 1;
  const size_t n = static_cast<size_t>(engine::elementCount(shape));
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
  serving::InferenceRequest req;
  req.model_name = a.model;
  serving::InferenceInput in;
  in.name = info.name;
  in.tensor = engine::TensorView{engine::Precision::FP32, shape, x.data(), n * sizeof(float), nullptr};
  req.inputs.push_back(std::move(in));

  {  // one checked call: OK with at least one output
    serving::InferenceResponse resp;
    st = servable->infer(req, &resp);
    if (!st.ok() || resp.outputs.empty()) {
      std::fprintf(stderr, "inprocess_load: check call failed: %s\n", st.ok() ? "no outputs" : st.message().c_str());
      return 2;
    }
  }

  const auto t_start = Clock::now();
  const auto t_measure = t_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.warmup_seconds));
  const auto t_end = t_measure + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  std::atomic<bool> stop{false};
  std::vector<bench::WorkerResult> results(a.concurrency);
  std::vector<std::thread> clients;
  for (int c = 0; c < a.concurrency; ++c) {
    clients.emplace_back([&, c] {
      bench::WorkerResult& r = results[c];
      while (!stop.load(std::memory_order_relaxed)) {
        const auto t0 = Clock::now();
        if (t0 >= t_end) break;
        serving::InferenceResponse resp;
        Status s = servable->infer(req, &resp);
        const auto t1 = Clock::now();
        if (s.ok() && !resp.outputs.empty()) {
          ++r.ok;
          if (t1 >= t_measure && t1 <= t_end)  // completed in the window, as grpc_load counts
            r.latencies_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        } else {
          ++r.errors;
          if (r.first_error.empty()) r.first_error = s.message();
          if (r.errors > 100) stop = true;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  const double measured_s =
      std::chrono::duration<double>(std::min(Clock::now(), t_end) - std::min(t_measure, Clock::now())).count();

  const bench::LoadSummary sum = bench::summarize(results, measured_s);
  std::printf(
      "{\"target\":\"in-process\",\"model\":\"%s\",\"nireq\":%u,\"streams\":%u,\"concurrency\":%d,\"seconds\":%.2f,"
      "\"requests\":%zu,\"total_ok\":%ld,\"errors\":%ld,\"req_per_s\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
      "\"p99_ms\":%.3f}\n",
      a.model.c_str(), servable->nireq(), servable->streams(), a.concurrency, measured_s, sum.requests, sum.ok, sum.errors,
      sum.req_per_s, sum.p50_ms, sum.p90_ms, sum.p99_ms);
  if (sum.errors) std::fprintf(stderr, "inprocess_load: %ld errors, first: %s\n", sum.errors, sum.first_error.c_str());
  return sum.errors ? 1 : 0;
}
