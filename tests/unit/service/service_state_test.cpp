#include "agent/service/service_state.h"

#include <gtest/gtest.h>

#include <vector>

namespace t0w {
namespace {

using std::chrono::milliseconds;

// Records every report, as SetServiceStatus would receive it.
class RecordingReporter final : public ServiceStatusReporter {
 public:
  void report(const ServiceStatusReport& status) override { reports.push_back(status); }
  std::vector<ServiceStatusReport> reports;
};

ServiceTimings timings() {
  ServiceTimings t;
  t.start_step_hint = milliseconds(20'000);
  t.stop_step_hint = milliseconds(3'000);
  t.preshutdown_timeout = milliseconds(30'000);
  t.preshutdown_margin = milliseconds(4'000);
  return t;
}

TEST(ServiceStateMachine, StartStepsIncreaseTheCheckpointThenRunningAcceptsStopAndPreshutdown) {
  RecordingReporter rec;
  ServiceStateMachine sm(rec, timings());
  ASSERT_TRUE(sm.startStep("load configuration"));
  ASSERT_TRUE(sm.startStep("open queue"));
  ASSERT_TRUE(sm.startStep("start collectors"));
  ASSERT_TRUE(sm.running());
  ASSERT_EQ(rec.reports.size(), 4u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rec.reports[i].state, ServiceState::kStartPending);
    EXPECT_EQ(rec.reports[i].checkpoint, i + 1);
    EXPECT_EQ(rec.reports[i].wait_hint_ms, 20'000u);
    EXPECT_EQ(rec.reports[i].controls_accepted, 0u) << "no controls while START_PENDING";
  }
  const auto& run = rec.reports[3];
  EXPECT_EQ(run.state, ServiceState::kRunning);
  EXPECT_EQ(run.checkpoint, 0u);
  EXPECT_EQ(run.wait_hint_ms, 0u);
  EXPECT_EQ(run.controls_accepted, kAcceptStop | kAcceptPreshutdown);
  EXPECT_EQ(sm.lastStep(), "running");
}

TEST(ServiceStateMachine, StopDrainsWithGrowingCheckpointsThenStopped) {
  RecordingReporter rec;
  ServiceStateMachine sm(rec, timings());
  ASSERT_TRUE(sm.startStep("start"));
  ASSERT_TRUE(sm.running());
  auto budget = sm.beginStop(StopReason::kStop, milliseconds(10'000));
  ASSERT_TRUE(budget);
  EXPECT_EQ(*budget, milliseconds(10'000)) << "a STOP control has the configured deadline";
  ASSERT_TRUE(sm.stopProgress());
  ASSERT_TRUE(sm.stopProgress());
  ASSERT_TRUE(sm.stopped(ServiceExit::kOk));
  ASSERT_EQ(rec.reports.size(), 6u);
  EXPECT_EQ(rec.reports[2].state, ServiceState::kStopPending);
  EXPECT_EQ(rec.reports[2].checkpoint, 1u);
  EXPECT_EQ(rec.reports[2].controls_accepted, 0u);
  EXPECT_EQ(rec.reports[2].wait_hint_ms, 4'000u) << "first progress report is due within 3 s";
  EXPECT_EQ(rec.reports[3].checkpoint, 2u);
  EXPECT_EQ(rec.reports[4].checkpoint, 3u);
  EXPECT_EQ(rec.reports[4].wait_hint_ms, 4'000u);
  const auto& end = rec.reports[5];
  EXPECT_EQ(end.state, ServiceState::kStopped);
  EXPECT_EQ(end.checkpoint, 0u);
  EXPECT_EQ(end.win32_exit_code, 0u);
  EXPECT_EQ(end.service_exit_code, 0u);
}

TEST(ServiceStateMachine, PreshutdownBudgetIsCappedByTheTimeoutLessTheMargin) {
  RecordingReporter rec;
  ServiceStateMachine sm(rec, timings());
  ASSERT_TRUE(sm.startStep("start"));
  ASSERT_TRUE(sm.running());
  auto budget = sm.beginStop(StopReason::kPreshutdown, milliseconds(120'000));
  ASSERT_TRUE(budget);
  EXPECT_EQ(*budget, milliseconds(26'000));
  // A shorter configured deadline wins over the cap.
  RecordingReporter rec2;
  ServiceStateMachine sm2(rec2, timings());
  ASSERT_TRUE(sm2.startStep("start"));
  ASSERT_TRUE(sm2.running());
  auto short_budget = sm2.beginStop(StopReason::kPreshutdown, milliseconds(2'000));
  ASSERT_TRUE(short_budget);
  EXPECT_EQ(*short_budget, milliseconds(2'000));
  EXPECT_EQ(rec2.reports.back().wait_hint_ms, 3'000u) << "hint covers the short budget + 1 s";
}

TEST(ServiceStateMachine, SecondStopIsRefusedAndReportsNothing) {
  RecordingReporter rec;
  ServiceStateMachine sm(rec, timings());
  ASSERT_TRUE(sm.startStep("start"));
  ASSERT_TRUE(sm.running());
  ASSERT_TRUE(sm.beginStop(StopReason::kStop, milliseconds(1'000)));
  const size_t n = rec.reports.size();
  auto again = sm.beginStop(StopReason::kPreshutdown, milliseconds(1'000));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("while STOP_PENDING"), std::string::npos);
  EXPECT_EQ(rec.reports.size(), n);
}

TEST(ServiceStateMachine, FailureDuringStartReportsStoppedWithAServiceSpecificCode) {
  RecordingReporter rec;
  ServiceStateMachine sm(rec, timings());
  ASSERT_TRUE(sm.startStep("load configuration"));
  auto budget = sm.beginStop(StopReason::kInternal, milliseconds(10'000));
  ASSERT_TRUE(budget);
  EXPECT_EQ(*budget, milliseconds(0)) << "nothing to drain before RUNNING";
  ASSERT_TRUE(sm.stopped(ServiceExit::kConfigError));
  const auto& end = rec.reports.back();
  EXPECT_EQ(end.state, ServiceState::kStopped);
  EXPECT_EQ(end.win32_exit_code, kErrorServiceSpecificError);
  EXPECT_EQ(end.service_exit_code, static_cast<uint32_t>(ServiceExit::kConfigError));
}

TEST(ServiceStateMachine, OutOfOrderTransitionsAreErrors) {
  RecordingReporter rec;
  ServiceStateMachine sm(rec, timings());
  EXPECT_FALSE(sm.running()) << "RUNNING needs START_PENDING first";
  EXPECT_FALSE(sm.stopProgress());
  ASSERT_TRUE(sm.startStep("start"));
  ASSERT_TRUE(sm.running());
  EXPECT_FALSE(sm.startStep("again"));
  EXPECT_FALSE(sm.running());
  ASSERT_TRUE(sm.stopped(ServiceExit::kAgentFailed));
  EXPECT_FALSE(sm.stopped(ServiceExit::kOk));
  EXPECT_FALSE(sm.startStep("restart in the same process"));
  EXPECT_EQ(rec.reports.size(), 3u) << "refused transitions report nothing";
}

TEST(ServiceStateMachine, InterrogateRepeatsTheLastReport) {
  RecordingReporter rec;
  ServiceStateMachine sm(rec, timings());
  ASSERT_TRUE(sm.startStep("a"));
  ASSERT_TRUE(sm.startStep("b"));
  sm.interrogate();
  ASSERT_EQ(rec.reports.size(), 3u);
  EXPECT_EQ(rec.reports[2].state, ServiceState::kStartPending);
  EXPECT_EQ(rec.reports[2].checkpoint, 2u);
}

}  // namespace
}  // namespace t0w
