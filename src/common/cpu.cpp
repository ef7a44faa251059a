#include "common/cpu.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

namespace ovms {
namespace {

std::string readLine(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  if (f) std::getline(f, line);
  return line;
}

// The process's cgroup paths: "0::/a/b" (v2) and "N:cpu,cpuacct:/a/b" (v1).
void cgroupPaths(std::string* v2, std::string* v1_cpu) {
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (controllers.empty()) {
      *v2 = path;
      continue;
    }
    std::stringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');)
      if (c == "cpu") *v1_cpu = path;
  }
}

// The smallest quota on the way from the process's cgroup up to the root: a parent's limit binds too.
std::optional<double> cgroupQuota() {
  std::string v2, v1;
  cgroupPaths(&v2, &v1);
  std::optional<double> best;
  auto consider = [&best](std::optional<double> q) {
    if (q && (!best || *q < *best)) best = q;
  };
  auto walk = [](std::string path, auto&& visit) {
    for (;;) {
      visit(path);
      if (path.empty() || path == "/") break;
      auto slash = path.find_last_of('/');
      path = slash == 0 ? "/" : path.substr(0, slash);
    }
  };
  if (!v2.empty() || v1.empty())
    walk(v2.empty() ? "/" : v2, [&](const std::string& p) {
      consider(quotaFromCpuMax(readLine("/sys/fs/cgroup" + (p == "/" ? "" : p) + "/cpu.max")));
    });
  if (!v1.empty())
    walk(v1, [&](const std::string& p) {
      std::string dir = "/sys/fs/cgroup/cpu" + (p == "/" ? "" : p);
      std::string q = readLine(dir + "/cpu.cfs_quota_us"), per = readLine(dir + "/cpu.cfs_period_us");
      if (q.empty() || per.empty()) return;
      try {
        consider(quotaFromCfs(std::stoll(q), std::stoll(per)));
      } catch (...) {
      }
    });
  return best;
}

CpuBudget measure() {
  CpuBudget b;
  b.online = std::max(1u, std::thread::hardware_concurrency());
  b.affinity = b.online;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) b.affinity = std::max(1, CPU_COUNT(&set));
  b.quota_cores = cgroupQuota();
  b.usable = coresWithin(std::min(b.online, b.affinity), b.quota_cores);
  return b;
}

}  // namespace

std::optional<double> quotaFromCpuMax(const std::string& line) {
  std::istringstream in(line);
  std::string quota;
  long long period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0) return std::nullopt;
  try {
    size_t used = 0;
    long long q = std::stoll(quota, &used);
    if (used != quota.size()) return std::nullopt;
    return quotaFromCfs(q, period);
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<double> quotaFromCfs(long long quota_us, long long period_us) {
  if (quota_us <= 0 || period_us <= 0) return std::nullopt;
  return static_cast<double>(quota_us) / static_cast<double>(period_us);
}

unsigned coresWithin(unsigned cores, std::optional<double> quota_cores) {
  cores = std::max(1u, cores);
  if (!quota_cores) return cores;
  double up = std::ceil(*quota_cores - 1e-9);
  unsigned q = up < 1 ? 1u : static_cast<unsigned>(std::min<double>(up, cores));
  return std::clamp(q, 1u, cores);
}

const CpuBudget& cpuBudget() {
  static const CpuBudget budget = measure();
  return budget;
}

}  // namespace ovms
