// ServiceHost with the real Agent (xml source, an unreachable collector): the SCM reports from
// start to stop, live policy reloads, and a configuration that cannot load.
#include "agent/service/service_host.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace t0w {
namespace {

class RecordingReporter final : public ServiceStatusReporter {
 public:
  void report(const ServiceStatusReport& status) override {
    std::lock_guard lock(mu_);
    reports_.push_back(status);
    cv_.notify_all();
  }
  void waitFor(ServiceState state) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !reports_.empty() && reports_.back().state == state; });
  }
  std::vector<ServiceStatusReport> reports() {
    std::lock_guard lock(mu_);
    return reports_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ServiceStatusReport> reports_;
};

class RecordingEventLog final : public ServiceEventLog {
 public:
  void write(Severity, uint32_t id, const std::string& message) override {
    std::lock_guard lock(mu_);
    events.push_back({id, message});
  }
  std::vector<std::pair<uint32_t, std::string>> snapshot() {
    std::lock_guard lock(mu_);
    return events;
  }
  std::mutex mu_;
  std::vector<std::pair<uint32_t, std::string>> events;
};

class ServiceHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("t0w-svc-host-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    config_ = dir_ / "agent.yaml";
    std::ofstream(config_) << "agent: {state_dir: " << (dir_ / "state").generic_string()
                           << ", shutdown_deadline_ms: 200}\n"
                           << "collector: {url: \"https://127.0.0.1:1\", token: t}\n"
                           << "windows: {security: false}\n"
                           << "metrics: {log_interval_ms: 0}\n"
                           << "sources:\n  - xml: {path: " << T0W_SOURCE_DIR
                           << "/tests/data/eventlog/dcagent_10016.xml}\n";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    spdlog::set_level(spdlog::level::info);
  }
  ServiceHostOptions options(PolicySource* policy, ServiceEventLog* log) {
    ServiceHostOptions o;
    o.config_file = config_;
    o.policy = policy;
    o.event_log = log;
    o.reload_settle = std::chrono::milliseconds(0);  // the reload's trigger is the call itself
    return o;
  }
  std::filesystem::path dir_, config_;
};

TEST_F(ServiceHostTest, StartsReloadsPolicyLiveAndStopsWithTheScmSequence) {
  RecordingReporter reporter;
  RecordingEventLog events;
  MemoryPolicySource policy;
  ServiceHost host(reporter, options(&policy, &events));
  ServiceExit exit = ServiceExit::kAgentFailed;
  std::thread runner([&] { exit = host.run(); });
  reporter.waitFor(ServiceState::kRunning);
  EXPECT_EQ(host.agentStarts(), 1u);

  // Log level only: applied in place, the agent keeps running.
  policy.set("", "LogLevel", PolicyValue::string("debug"));
  host.policyChanged();
  host.waitForReload(0);
  ReloadOutcome r = host.lastReload();
  EXPECT_EQ(r.diff.live, std::vector<std::string>{"agent.log_level"});
  EXPECT_FALSE(r.agent_restarted);
  EXPECT_EQ(host.agentStarts(), 1u);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);

  // Collector URL and a channel: the agent restarts inside the running service.
  policy.set("", "CollectorUrl", PolicyValue::string("https://127.0.0.1:2"));
  policy.set("Channels", "PasswordProtectionAdmin", PolicyValue::dword(0));
  policy.set("", "QueueMaxMB", PolicyValue::dword(64));
  host.policyChanged();
  host.waitForReload(1);
  r = host.lastReload();
  EXPECT_FALSE(r.error) << r.error->message;
  EXPECT_EQ(r.diff.live, (std::vector<std::string>{"collector.url", "queue.max_bytes",
                                                   "windows.password_protection_admin"}))
      << "PasswordProtectionAdmin 0 switches off a channel that is on by default";
  EXPECT_TRUE(r.agent_restarted);
  EXPECT_EQ(host.agentStarts(), 2u);
  EXPECT_EQ(host.current().url, "https://127.0.0.1:2");
  EXPECT_EQ(host.current().queue_max_bytes, int64_t{64} << 20);

  // A bad value is reported and changes nothing.
  policy.set("", "QueueOverflow", PolicyValue::string("block"));
  host.policyChanged();
  host.waitForReload(2);
  r = host.lastReload();
  EXPECT_TRUE(r.diff.empty());
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_EQ(host.agentStarts(), 2u);

  host.control(StopReason::kStop);
  host.control(StopReason::kPreshutdown);  // a second request is ignored
  runner.join();
  EXPECT_EQ(exit, ServiceExit::kOk);

  const auto reports = reporter.reports();
  ASSERT_GE(reports.size(), 5u);
  EXPECT_EQ(reports[0].state, ServiceState::kStartPending);
  EXPECT_EQ(reports[0].checkpoint, 1u);
  EXPECT_EQ(reports[1].state, ServiceState::kStartPending);
  EXPECT_EQ(reports[1].checkpoint, 2u);
  EXPECT_EQ(reports[2].state, ServiceState::kRunning);
  EXPECT_EQ(reports[3].state, ServiceState::kStopPending);
  EXPECT_EQ(reports[3].checkpoint, 1u);
  for (size_t i = 4; i + 1 < reports.size(); ++i) {
    EXPECT_EQ(reports[i].state, ServiceState::kStopPending);
    EXPECT_EQ(reports[i].checkpoint, reports[i - 1].checkpoint + 1);
  }
  EXPECT_EQ(reports.back().state, ServiceState::kStopped);
  EXPECT_EQ(reports.back().win32_exit_code, 0u);

  std::vector<uint32_t> ids;
  for (const auto& e : events.snapshot()) ids.push_back(e.first);
  const std::vector<uint32_t> want = {ServiceEventLog::kStarted, ServiceEventLog::kPolicyApplied,
                                      ServiceEventLog::kPolicyApplied,
                                      ServiceEventLog::kPolicyIssue, ServiceEventLog::kStopped};
  EXPECT_EQ(ids, want);
}

TEST_F(ServiceHostTest, UnloadableConfigurationStopsWithAServiceSpecificCode) {
  std::ofstream(config_, std::ios::trunc) << "collector: {url: [not, a, string]}\n";
  RecordingReporter reporter;
  RecordingEventLog events;
  ServiceHost host(reporter, options(nullptr, &events));
  EXPECT_EQ(host.run(), ServiceExit::kConfigError);
  const auto reports = reporter.reports();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].state, ServiceState::kStartPending);
  EXPECT_EQ(reports[1].state, ServiceState::kStopPending);
  EXPECT_EQ(reports[2].state, ServiceState::kStopped);
  EXPECT_EQ(reports[2].win32_exit_code, kErrorServiceSpecificError);
  EXPECT_EQ(reports[2].service_exit_code, static_cast<uint32_t>(ServiceExit::kConfigError));
  const auto logged = events.snapshot();
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].first, ServiceEventLog::kConfigError);
  EXPECT_NE(logged[0].second.find("agent.yaml"), std::string::npos) << logged[0].second;
}

}  // namespace
}  // namespace t0w
