#pragma once
// How many CPU cores this process may use: what thread pools are sized by. A container limited to
// 2 CPUs on a 64-core node must not start 64 engine threads: std::thread::hardware_concurrency()
// counts the node's cores, so the CPU affinity mask (taskset, cpuset) and the cgroup CPU quota
// (Kubernetes `limits.cpu`, `docker run --cpus`) are applied to it here.
#include <optional>
#include <string>

namespace ovms {

struct CpuBudget {
  unsigned online = 1;                  // cores of the machine
  unsigned affinity = 1;                // cores in this process's affinity mask
  std::optional<double> quota_cores;    // cgroup CPU quota in cores, if one is set
  unsigned usable = 1;                  // what the server sizes its threads by
};

// Computed once, on first use.
const CpuBudget& cpuBudget();
inline unsigned usableCores() { return cpuBudget().usable; }

// The quota in cores from a cgroup v2 `cpu.max` line ("max 100000" or "200000 100000"); none if unlimited
// or malformed.
std::optional<double> quotaFromCpuMax(const std::string& line);
// The quota in cores from cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us (quota -1 = unlimited).
std::optional<double> quotaFromCfs(long long quota_us, long long period_us);
// Quota cores rounded up (1.5 CPUs may run 2 threads at once), at least 1, at most `cores`.
unsigned coresWithin(unsigned cores, std::optional<double> quota_cores);

}  // namespace ovms
