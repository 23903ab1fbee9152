#include "agent/shipper/backoff.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <vector>

namespace t0w {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Returns scripted fractions of the bound and records every bound it was asked for.
class ScriptedRandom final : public Random {
 public:
  enum Pick { kMin, kMax, kMid };
  explicit ScriptedRandom(Pick pick) : pick_(pick) {}
  uint64_t uniform(uint64_t bound) override {
    bounds.push_back(bound);
    switch (pick_) {
      case kMin:
        return 0;
      case kMax:
        return bound - 1;
      case kMid:
        return bound / 2;
    }
    return 0;
  }
  std::vector<uint64_t> bounds;

 private:
  Pick pick_;
};

class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  uint64_t uniform(uint64_t bound) override {
    return std::uniform_int_distribution<uint64_t>(0, bound - 1)(engine_);
  }

 private:
  std::mt19937_64 engine_;
};

BackoffPolicy policy(milliseconds base, milliseconds cap) {
  BackoffPolicy p;
  p.base = base;
  p.cap = cap;
  return p;
}

TEST(BackoffTest, WindowDoublesFromBaseUpToCap) {
  ScriptedRandom random(ScriptedRandom::kMax);
  Backoff backoff(policy(milliseconds(100), milliseconds(1000)), random);
  std::vector<int64_t> delays;
  for (int i = 0; i < 7; ++i) delays.push_back(backoff.next().count());
  // Full jitter upper ends: 100, 200, 400, 800, then the cap.
  EXPECT_EQ(delays, (std::vector<int64_t>{100, 200, 400, 800, 1000, 1000, 1000}));
  // random(0, ceiling) is inclusive of the ceiling: the generator is asked for ceiling + 1.
  EXPECT_EQ(random.bounds.front(), 101u);
  EXPECT_EQ(random.bounds.back(), 1001u);
}

TEST(BackoffTest, JitterLowerBoundIsZero) {
  ScriptedRandom random(ScriptedRandom::kMin);
  Backoff backoff(policy(milliseconds(100), milliseconds(1000)), random);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(backoff.next(), milliseconds(0));
}

TEST(BackoffTest, JitterStaysWithinWindowForManyDraws) {
  SeededRandom random(42);
  Backoff backoff(policy(milliseconds(50), milliseconds(5000)), random);
  bool saw_low = false;
  bool saw_high = false;
  for (int round = 0; round < 200; ++round) {
    backoff.reset();
    for (int attempt = 0; attempt < 12; ++attempt) {
      const milliseconds window = backoff.ceiling();
      const milliseconds delay = backoff.next();
      ASSERT_GE(delay.count(), 0);
      ASSERT_LE(delay, window);
      if (window == milliseconds(5000)) {
        saw_low = saw_low || delay < milliseconds(1000);
        saw_high = saw_high || delay > milliseconds(4000);
      }
    }
  }
  // Full jitter spreads over the whole window, not just its upper part.
  EXPECT_TRUE(saw_low);
  EXPECT_TRUE(saw_high);
}

TEST(BackoffTest, ResetStartsAgainFromBase) {
  ScriptedRandom random(ScriptedRandom::kMax);
  Backoff backoff(policy(milliseconds(10), milliseconds(10'000)), random);
  for (int i = 0; i < 5; ++i) (void)backoff.next();
  EXPECT_EQ(backoff.ceiling(), milliseconds(320));
  backoff.reset();
  EXPECT_EQ(backoff.attempt(), 0u);
  EXPECT_EQ(backoff.next(), milliseconds(10));
}

TEST(BackoffTest, RetryAfterIsAFloor) {
  ScriptedRandom random(ScriptedRandom::kMin);
  Backoff backoff(policy(milliseconds(100), milliseconds(1000)), random);
  EXPECT_EQ(backoff.next(seconds(7)), seconds(7));  // above the cap: still honoured
}

TEST(BackoffTest, JitterAboveRetryAfterWins) {
  ScriptedRandom random(ScriptedRandom::kMax);
  Backoff backoff(policy(milliseconds(1000), milliseconds(1000)), random);
  EXPECT_EQ(backoff.next(milliseconds(300)), milliseconds(1000));
}

TEST(BackoffTest, RetryAfterIsClampedToMaximum) {
  ScriptedRandom random(ScriptedRandom::kMin);
  BackoffPolicy p = policy(milliseconds(100), milliseconds(1000));
  p.max_retry_after = seconds(60);
  Backoff backoff(p, random);
  EXPECT_EQ(backoff.next(std::chrono::hours(24 * 30)), seconds(60));
  EXPECT_EQ(backoff.next(milliseconds(-5)), milliseconds(0));
}

TEST(BackoffTest, ManyAttemptsSaturateWithoutOverflow) {
  ScriptedRandom random(ScriptedRandom::kMax);
  Backoff backoff(policy(milliseconds(1), std::chrono::hours(1)), random);
  milliseconds last{0};
  for (int i = 0; i < 10'000; ++i) last = backoff.next();
  EXPECT_EQ(last, std::chrono::hours(1));
  EXPECT_LT(backoff.attempt(), 64u);
}

TEST(BackoffTest, DegeneratePolicyIsRepaired) {
  ScriptedRandom random(ScriptedRandom::kMax);
  Backoff backoff(policy(milliseconds(0), milliseconds(0)), random);
  EXPECT_EQ(backoff.next(), milliseconds(1));  // base 0 would mean no backoff at all
}

}  // namespace
}  // namespace t0w
