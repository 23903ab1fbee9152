#include "agent/core/source_status.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"

namespace t0w {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;

TEST(SourceStatusTest, StatesHaveStableNames) {
  for (auto s : {SourceState::kStarting, SourceState::kSubscribed, SourceState::kBackfilling,
                 SourceState::kAbsent, SourceState::kAccessDenied, SourceState::kFailing,
                 SourceState::kPaused, SourceState::kStopped}) {
    EXPECT_EQ(parseSourceState(toString(s)), s);
  }
  EXPECT_EQ(toString(SourceState::kAccessDenied), "access_denied");
  EXPECT_FALSE(parseSourceState("healthy"));
}

TEST(SourceStatusTest, StateSinceChangesOnlyWithTheState) {
  FakeClock clock;
  SourceStatusBoard board(clock);
  board.add("Security", "eventlog");
  const auto t0 = clock.now();
  clock.advance(5s);
  board.setState("Security", SourceState::kAbsent, "channel not found");
  clock.advance(5s);
  board.setState("Security", SourceState::kAbsent, "channel not found (15007)");
  auto snap = board.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].kind, "eventlog");
  EXPECT_EQ(snap[0].state, SourceState::kAbsent);
  EXPECT_EQ(snap[0].detail, "channel not found (15007)");
  EXPECT_EQ(snap[0].state_since, t0 + 5s);
}

TEST(SourceStatusTest, RateIsPerWindowAndDecaysWhenIdle) {
  FakeClock clock;
  SourceStatusBoard board(clock, 10s);
  board.add("a", "tracefile");
  clock.advance(5s);
  board.progress("a", 50, "x@100", std::nullopt);
  EXPECT_DOUBLE_EQ(board.snapshot()[0].rate_per_second, 10.0);  // running average, 50 in 5 s
  clock.advance(5s);
  // Window [0,10) closes with the first 50 events; the second 50 open window [10,20).
  board.progress("a", 50, "x@200", std::nullopt);
  EXPECT_DOUBLE_EQ(board.snapshot()[0].rate_per_second, 5.0);
  clock.advance(10s);
  auto s = board.snapshot()[0];
  EXPECT_EQ(s.events, 100u);
  EXPECT_EQ(s.last_position, "x@200");
  EXPECT_DOUBLE_EQ(s.rate_per_second, 5.0);
  // Window [20,30) had no progress: an idle source reads 0/s.
  clock.advance(10s);
  EXPECT_DOUBLE_EQ(board.snapshot()[0].rate_per_second, 0.0);
}

TEST(SourceStatusTest, LagIsMeasuredFromTheNewestEventTime) {
  FakeClock clock;
  SourceStatusBoard board(clock);
  board.progress("Security", 1, "42", clock.now() - 30s);
  board.progress("Security", 1, "41", clock.now() - 90s);  // older event: newest time kept
  auto s = board.snapshot()[0];
  ASSERT_TRUE(s.lag_seconds);
  EXPECT_DOUBLE_EQ(*s.lag_seconds, 30.0);
  EXPECT_EQ(s.last_position, "41");
  board.addGap("Security");
  board.addGap("Security");
  board.setTimeToWrap("Security", 3600.0);
  s = board.snapshot()[0];
  EXPECT_EQ(s.gaps, 2u);
  EXPECT_EQ(s.time_to_wrap_seconds, 3600.0);
}

}  // namespace
}  // namespace t0w
