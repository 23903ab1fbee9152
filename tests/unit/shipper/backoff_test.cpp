#include "agent/shipper/backoff.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/fakes/fake_random.h"

namespace t0w {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using testing::FakeRandom;

BackoffPolicy policy(milliseconds base, milliseconds cap) {
  BackoffPolicy p;
  p.base = base;
  p.cap = cap;
  return p;
}

TEST(BackoffTest, WindowDoublesFromBaseUpToCap) {
  auto random = FakeRandom::maximum();
  Backoff backoff(policy(milliseconds(100), milliseconds(1000)), random);
  std::vector<int64_t> delays;
  for (int i = 0; i < 7; ++i) delays.push_back(backoff.next().count());
  // Full jitter upper ends: 100, 200, 400, 800, then the cap.
  EXPECT_EQ(delays, (std::vector<int64_t>{100, 200, 400, 800, 1000, 1000, 1000}));
  // random(0, ceiling) is inclusive of the ceiling: the generator is asked for ceiling + 1.
  EXPECT_EQ(random.bounds().front(), 101u);
  EXPECT_EQ(random.bounds().back(), 1001u);
}

TEST(BackoffTest, JitterLowerBoundIsZero) {
  auto random = FakeRandom::minimum();
  Backoff backoff(policy(milliseconds(100), milliseconds(1000)), random);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(backoff.next(), milliseconds(0));
}

TEST(BackoffTest, JitterStaysWithinWindowForManyDraws) {
  auto random = FakeRandom::seeded(42);
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
  auto random = FakeRandom::maximum();
  Backoff backoff(policy(milliseconds(10), milliseconds(10'000)), random);
  for (int i = 0; i < 5; ++i) (void)backoff.next();
  EXPECT_EQ(backoff.ceiling(), milliseconds(320));
  backoff.reset();
  EXPECT_EQ(backoff.attempt(), 0u);
  EXPECT_EQ(backoff.next(), milliseconds(10));
}

TEST(BackoffTest, RetryAfterIsAFloor) {
  auto random = FakeRandom::minimum();
  Backoff backoff(policy(milliseconds(100), milliseconds(1000)), random);
  EXPECT_EQ(backoff.next(seconds(7)), seconds(7));  // above the cap: still honoured
}

TEST(BackoffTest, JitterAboveRetryAfterWins) {
  auto random = FakeRandom::maximum();
  Backoff backoff(policy(milliseconds(1000), milliseconds(1000)), random);
  EXPECT_EQ(backoff.next(milliseconds(300)), milliseconds(1000));
}

TEST(BackoffTest, RetryAfterIsClampedToMaximum) {
  auto random = FakeRandom::minimum();
  BackoffPolicy p = policy(milliseconds(100), milliseconds(1000));
  p.max_retry_after = seconds(60);
  Backoff backoff(p, random);
  EXPECT_EQ(backoff.next(std::chrono::hours(24 * 30)), seconds(60));
  EXPECT_EQ(backoff.next(milliseconds(-5)), milliseconds(0));
}

TEST(BackoffTest, ManyAttemptsSaturateWithoutOverflow) {
  auto random = FakeRandom::maximum();
  Backoff backoff(policy(milliseconds(1), std::chrono::hours(1)), random);
  milliseconds last{0};
  for (int i = 0; i < 10'000; ++i) last = backoff.next();
  EXPECT_EQ(last, std::chrono::hours(1));
  EXPECT_LT(backoff.attempt(), 64u);
}

TEST(BackoffTest, DegeneratePolicyIsRepaired) {
  auto random = FakeRandom::maximum();
  Backoff backoff(policy(milliseconds(0), milliseconds(0)), random);
  EXPECT_EQ(backoff.next(), milliseconds(1));  // base 0 would mean no backoff at all
}

}  // namespace
}  // namespace t0w
