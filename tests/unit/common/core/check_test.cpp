// T0W_CHECK: a holding check does nothing; a broken one names file:line, the condition and the
// message on stderr and aborts (death tests: the failing check runs in a child process).
#include "common/core/check.h"

#include <gtest/gtest.h>

#include "common/core/std_random.h"
#include "tests/support/under_wine.h"

namespace t0w {
namespace {

TEST(CheckTest, AHoldingCheckDoesNothing) {
  int evaluated = 0;
  T0W_CHECK(++evaluated == 1, "evaluated once");
  EXPECT_EQ(evaluated, 1);
}

TEST(CheckDeathTest, ABrokenCheckNamesFileLineConditionAndMessageAndAborts) {
  // abort() under Wine goes through its crash handling (a dialog, a debugger); Linux covers it.
  if (test::underWine()) GTEST_SKIP() << "abort() under Wine";
  const int value = 2;
  EXPECT_DEATH(T0W_CHECK(value == 3, "value broke"),
               "check_test.cpp:[0-9]+: check failed: value == 3: value broke");
}

TEST(CheckDeathTest, StdRandomRefusesAZeroBound) {
  if (test::underWine()) GTEST_SKIP() << "abort() under Wine";
  StdRandom random(1);
  EXPECT_DEATH(random.uniform(0), "check failed: bound > 0");
}

}  // namespace
}  // namespace t0w
