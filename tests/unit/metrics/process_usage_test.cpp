// ProcessUsage of this process, read from the platform (Linux /proc/self, Windows
// GetProcessTimes / GetProcessMemoryInfo): memory is reported and CPU time only grows.
#include "agent/metrics/process_usage.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/support/under_wine.h"

namespace t0w {
namespace {

TEST(ProcessUsageTest, ReadsThisProcess) {
  auto usage = makeProcessUsage();
  auto s = usage->sample();
  ASSERT_TRUE(s.has_value());
  EXPECT_GT(s->memory_bytes, 0u);
  EXPECT_GE(s->peak_memory_bytes, s->memory_bytes / 2);
  volatile double x = 0;
  for (int i = 0; i < 20'000'000; ++i) x = x + i;  // spend some CPU
  auto later = usage->sample();
  ASSERT_TRUE(later.has_value());
  EXPECT_GE(later->cpu_time, s->cpu_time);
}

TEST(ProcessUsageTest, MemoryFollowsAnAllocationAndThePeakKeepsIt) {
  // Not verified under Wine (its working set figures come from the Linux host's accounting).
  if (test::underWine()) GTEST_SKIP() << "working set under Wine";
  auto usage = makeProcessUsage();
  auto before = usage->sample();
  ASSERT_TRUE(before.has_value());
  {
    // 64 MiB, every page touched so that it is resident.
    std::vector<char> block(64u << 20);
    for (size_t i = 0; i < block.size(); i += 4096) block[i] = static_cast<char>(i);
    auto during = usage->sample();
    ASSERT_TRUE(during.has_value());
    EXPECT_GE(during->memory_bytes, before->memory_bytes + (32u << 20));
    EXPECT_GE(during->peak_memory_bytes, during->memory_bytes);
  }
  auto after = usage->sample();
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(after->peak_memory_bytes, before->memory_bytes + (32u << 20)) << "the peak stays";
}

}  // namespace
}  // namespace t0w
