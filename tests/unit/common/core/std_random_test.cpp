#include "common/core/std_random.h"

#include <gtest/gtest.h>

#include <vector>

namespace t0w {
namespace {

TEST(StdRandom, StaysBelowBound) {
  StdRandom r;
  for (int i = 0; i < 1000; ++i) EXPECT_LT(r.uniform(7), 7u);
  EXPECT_EQ(r.uniform(1), 0u);
}

TEST(StdRandom, FixedSeedRepeats) {
  StdRandom a(42);
  StdRandom b(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.uniform(1000000), b.uniform(1000000));
}

TEST(StdRandom, CoversTheRange) {
  StdRandom r(1);
  std::vector<int> seen(4, 0);
  for (int i = 0; i < 400; ++i) ++seen[r.uniform(4)];
  for (int n : seen) EXPECT_GT(n, 0);
}

}  // namespace
}  // namespace t0w
