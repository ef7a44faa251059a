#pragma once
// What the closed-loop load programs (grpc_load, inprocess_load) report: per-worker results merged into
// request count, errors, req/s over the measured window and latency percentiles.
#include <algorithm>
#include <string>
#include <vector>

namespace bench {

struct WorkerResult {
  std::vector<double> latencies_ms;  // measured calls only (after warm-up)
  long ok = 0, errors = 0;
  std::string first_error;
};

struct LoadSummary {
  size_t requests = 0;  // calls completed in the measured window
  long ok = 0, errors = 0;
  std::string first_error;
  double req_per_s = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0;
};

inline LoadSummary summarize(const std::vector<WorkerResult>& results, double measured_s) {
  LoadSummary s;
  std::vector<double> lat;
  for (const auto& r : results) {
    lat.insert(lat.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    s.ok += r.ok;
    s.errors += r.errors;
    if (s.first_error.empty()) s.first_error = r.first_error;
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    if (lat.empty()) return 0.0;
    return lat[std::min(lat.size() - 1, static_cast<size_t>(p * static_cast<double>(lat.size())))];
  };
  s.requests = lat.size();
  s.req_per_s = measured_s > 0 ? static_cast<double>(lat.size()) / measured_s : 0;
  s.p50_ms = pct(0.50);
  s.p90_ms = pct(0.90);
  s.p99_ms = pct(0.99);
  return s;
}

}  // namespace bench
