// The CPU budget threads are sized by: affinity mask and cgroup quota applied to the core count.
#include <gtest/gtest.h>
#include <sched.h>

#include "common/cpu.h"

namespace ovms {

TEST(CpuBudget, CgroupV2CpuMax) {
  EXPECT_FALSE(quotaFromCpuMax("max 100000").has_value());
  EXPECT_DOUBLE_EQ(*quotaFromCpuMax("200000 100000"), 2.0);
  EXPECT_DOUBLE_EQ(*quotaFromCpuMax("150000 100000\n"), 1.5);
  EXPECT_FALSE(quotaFromCpuMax("").has_value());
  EXPECT_FALSE(quotaFromCpuMax("abc 100000").has_value());
  EXPECT_FALSE(quotaFromCpuMax("200000 0").has_value());
}

TEST(CpuBudget, CgroupV1Cfs) {
  EXPECT_FALSE(quotaFromCfs(-1, 100000).has_value());
  EXPECT_DOUBLE_EQ(*quotaFromCfs(50000, 100000), 0.5);
}

TEST(CpuBudget, QuotaRoundsUpAndNeverExceedsTheCores) {
  EXPECT_EQ(coresWithin(64, std::nullopt), 64u);
  EXPECT_EQ(coresWithin(64, 2.0), 2u);
  EXPECT_EQ(coresWithin(64, 1.5), 2u);
  EXPECT_EQ(coresWithin(64, 0.25), 1u);
  EXPECT_EQ(coresWithin(4, 16.0), 4u);
  EXPECT_EQ(coresWithin(0, std::nullopt), 1u);
}

TEST(CpuBudget, UsableCoresFollowTheAffinityMask) {
  const CpuBudget& b = cpuBudget();
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_EQ(b.affinity, static_cast<unsigned>(CPU_COUNT(&set)));
  EXPECT_GE(b.usable, 1u);
  EXPECT_LE(b.usable, b.affinity);
  EXPECT_LE(b.usable, b.online);
  if (b.quota_cores) {
    EXPECT_LE(b.usable, coresWithin(b.online, b.quota_cores));
  }
}

}  // namespace ovms
