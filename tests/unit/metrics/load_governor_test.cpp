#include "agent/metrics/load_governor.h"

#include <gtest/gtest.h>

namespace t0w {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Work = LoadThrottle::Work;

ProcessSample at(double cpu_seconds, uint64_t mb) {
  ProcessSample s;
  s.cpu_time = std::chrono::microseconds(static_cast<int64_t>(cpu_seconds * 1e6));
  s.memory_bytes = mb << 20;
  s.peak_memory_bytes = mb << 20;
  return s;
}

class LoadGovernorTest : public ::testing::Test {
 protected:
  LoadGovernor gov{LoadCeilings{}};  // 5% of one core over 60 s, 200 MB
  std::chrono::steady_clock::time_point t0{};
  // Feeds one sample per second for `n` seconds at `percent` of one core.
  double cpu = 0;
  int second = 0;
  void run(int n, double percent, uint64_t mb = 50) {
    for (int i = 0; i < n; ++i) {
      cpu += percent / 100.0;
      ++second;
      gov.observe(at(cpu, mb), t0 + seconds(second));
    }
  }
};

TEST_F(LoadGovernorTest, UnderTheCeilingNothingIsSlowed) {
  gov.observe(at(0, 50), t0);
  run(120, 2.0);
  EXPECT_FALSE(gov.throttled());
  EXPECT_EQ(gov.delayFor(Work::kBackfill), milliseconds(0));
  EXPECT_EQ(gov.delayFor(Work::kRules), milliseconds(0));
  EXPECT_NEAR(gov.state().cpu_percent, 2.0, 0.1);
}

TEST_F(LoadGovernorTest, ABriefSpikeIsNotSustained) {
  gov.observe(at(0, 50), t0);
  run(10, 50.0);  // 10 s at 50%: over the ceiling but not for a whole window
  EXPECT_FALSE(gov.throttled());
}

TEST_F(LoadGovernorTest, SustainedCpuSlowsBackfillFirstAndMostThenReleasesWithHysteresis) {
  gov.observe(at(0, 50), t0);
  run(61, 8.0);
  ASSERT_TRUE(gov.throttled());
  EXPECT_TRUE(gov.state().over_cpu);
  EXPECT_EQ(gov.state().throttle_episodes, 1u);
  EXPECT_GT(gov.delayFor(Work::kBackfill), gov.delayFor(Work::kRules));
  EXPECT_GT(gov.delayFor(Work::kRules), milliseconds(0));
  run(120, 4.5);  // under the ceiling, above 80% of it: still throttled
  EXPECT_TRUE(gov.throttled());
  run(120, 2.0);
  EXPECT_FALSE(gov.throttled());
}

TEST_F(LoadGovernorTest, MemoryOverTheCeilingThrottlesAtOnce) {
  gov.observe(at(0, 250), t0);
  EXPECT_TRUE(gov.throttled());
  EXPECT_TRUE(gov.state().over_memory);
  EXPECT_EQ(gov.state().peak_memory_bytes, uint64_t{250} << 20);
  run(1, 0.0, 150);
  EXPECT_FALSE(gov.throttled());
  EXPECT_EQ(gov.state().throttle_episodes, 1u);
}

}  // namespace
}  // namespace t0w
