#include "agent/service/service_host.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "agent/agent.h"
#include "agent/config/policy_overlay.h"

namespace t0w {
namespace {

using Severity = ServiceEventLog::Severity;
using std::chrono::milliseconds;

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out.empty() ? "-" : out;
}

}  // namespace

ServiceHost::ServiceHost(ServiceStatusReporter& reporter, ServiceHostOptions options)
    : reporter_(reporter), options_(std::move(options)), sm_(reporter, options_.timings) {}

ServiceHost::~ServiceHost() = default;

void ServiceHost::event(Severity severity, uint32_t id, const std::string& message) {
  switch (severity) {
    case Severity::kInfo:
      spdlog::info("{}", message);
      break;
    case Severity::kWarning:
      spdlog::warn("{}", message);
      break;
    case Severity::kError:
      spdlog::error("{}", message);
      break;
  }
  if (options_.event_log != nullptr) options_.event_log->write(severity, id, message);
}

Status ServiceHost::startAgent(const AgentConfig& config) {
  AgentRunOptions ro;
  ro.config_origin = config_origin_;
  // At the deadline with an upload in flight the agent ends the process: report STOPPED first,
  // or the SCM would count a crash and run the failure actions (restart) after a STOP.
  ro.before_forced_exit = [this] {
    std::lock_guard lock(sm_mu_);
    if (sm_.state() != ServiceState::kStopped) (void)sm_.stopped(ServiceExit::kOk);
  };
  auto agent = std::make_unique<Agent>(config, ro);
  Status started = agent->start();
  if (!started) return started;
  std::lock_guard lock(mu_);
  agent_ = std::move(agent);
  current_ = config;
  ++agent_starts_;
  return {};
}

ServiceExit ServiceHost::run() {
  {
    std::lock_guard lock(sm_mu_);
    (void)sm_.startStep("load configuration");
  }
  auto loaded = loadEffectiveConfig(options_.config_file, options_.policy);
  const auto fail = [this](ServiceExit exit, uint32_t id, const std::string& message) {
    event(Severity::kError, id, message);
    std::lock_guard lock(sm_mu_);
    (void)sm_.beginStop(StopReason::kInternal, milliseconds(0));
    (void)sm_.stopped(exit);
    return exit;
  };
  if (!loaded) {
    return fail(ServiceExit::kConfigError, ServiceEventLog::kConfigError,
                "Tier0Watch cannot start: " + loaded.error().message);
  }
  for (const auto& issue : loaded->issues) {
    event(Severity::kWarning, ServiceEventLog::kPolicyIssue, issue);
  }
  config_origin_ = configOrigin(loaded->provenance, !options_.config_file.empty());
  spdlog::set_level(spdlog::level::from_str(loaded->config.log_level));
  {
    std::lock_guard lock(sm_mu_);
    (void)sm_.startStep("start agent");
  }
  if (Status started = startAgent(loaded->config); !started) {
    return fail(ServiceExit::kStartFailed, ServiceEventLog::kStartFailed,
                "Tier0Watch cannot start: " + started.error().message);
  }
  {
    std::lock_guard lock(sm_mu_);
    (void)sm_.running();
  }
  event(Severity::kInfo, ServiceEventLog::kStarted,
        "Tier0Watch started; " + loaded->config.describe());

  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_.has_value() || reload_pending_; });
    if (stop_) break;
    // Settle: wait until no further change arrived for reload_settle (or a stop).
    for (uint64_t seen = change_seq_; !stop_;) {
      cv_.wait_for(lock, options_.reload_settle, [&] { return stop_ || change_seq_ != seen; });
      if (stop_ || change_seq_ == seen) break;
      seen = change_seq_;
    }
    if (stop_) break;
    reload_pending_ = false;
    lock.unlock();
    reload();
    lock.lock();
    ++reloads_;
    cv_.notify_all();
  }
  const StopReason reason = *stop_;
  lock.unlock();
  return drain(reason);
}

ServiceExit ServiceHost::drain(StopReason reason) {
  Result<milliseconds> budget = milliseconds(0);
  {
    std::lock_guard lock(sm_mu_);
    budget = sm_.beginStop(reason, milliseconds(current().shutdown_deadline_ms));
  }
  const milliseconds flush = budget ? *budget : milliseconds(0);
  spdlog::info("stopping ({}): flushing the queue for at most {} ms", stopReasonName(reason),
               flush.count());
  Agent* agent = nullptr;
  {
    std::lock_guard lock(mu_);
    agent = agent_.get();
  }
  agent->stop(flush);
  // The drain runs on its own thread so that this one keeps the SCM informed.
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  std::optional<Result<AgentRunReport>> report;
  std::thread waiter([&] {
    auto r = agent->wait();
    std::lock_guard l(done_mu);
    report.emplace(std::move(r));
    done = true;
    done_cv.notify_all();
  });
  {
    std::unique_lock l(done_mu);
    while (!done_cv.wait_for(l, options_.timings.stop_step_hint / 2, [&] { return done; })) {
      std::lock_guard sl(sm_mu_);
      (void)sm_.stopProgress();
    }
  }
  waiter.join();
  ServiceExit exit = ServiceExit::kOk;
  if (!*report) {
    exit = ServiceExit::kAgentFailed;
    event(Severity::kError, ServiceEventLog::kAgentError,
          "Tier0Watch stopped with an error: " + report->error().message);
  } else {
    event(Severity::kInfo, ServiceEventLog::kStopped,
          "Tier0Watch stopped (" + std::string(stopReasonName(reason)) +
              "): " + std::to_string((*report)->shipped) + " records shipped this run, " +
              std::to_string((*report)->left_in_queue) + " left in the queue");
  }
  {
    std::lock_guard lock(mu_);
    agent_.reset();
  }
  std::lock_guard lock(sm_mu_);
  (void)sm_.stopped(exit);
  return exit;
}

void ServiceHost::reload() {
  ReloadOutcome out;
  auto loaded = loadEffectiveConfig(options_.config_file, options_.policy);
  if (!loaded) {
    out.error = loaded.error();
    event(
        Severity::kError, ServiceEventLog::kConfigError,
        "configuration reload failed, the running configuration stays: " + loaded.error().message);
  } else {
    out.issues = loaded->issues;
    config_origin_ = configOrigin(loaded->provenance, !options_.config_file.empty());
    for (const auto& issue : out.issues) {
      event(Severity::kWarning, ServiceEventLog::kPolicyIssue, issue);
    }
    const AgentConfig before = current();
    out.diff = diffConfig(before, loaded->config);
    if (!out.diff.empty()) {
      const AgentConfig next = mergeLive(before, loaded->config);
      spdlog::set_level(spdlog::level::from_str(next.log_level));
      const bool restart_agent =
          std::any_of(out.diff.live.begin(), out.diff.live.end(),
                      [](const std::string& k) { return k != "agent.log_level"; });
      if (restart_agent) {
        // Collectors stop after their current batch (stored with its checkpoint), the queue is
        // closed, and the new agent resumes from the checkpoints: nothing lost, nothing skipped.
        std::unique_ptr<Agent> old;
        {
          std::lock_guard lock(mu_);
          old = std::move(agent_);
        }
        old->stop();
        (void)old->wait();
        old.reset();
        if (Status s = startAgent(next); s) {
          out.agent_restarted = true;
        } else {
          out.error = s.error();
          event(Severity::kError, ServiceEventLog::kConfigError,
                "the reloaded configuration does not start (" + s.error().message +
                    "); going back to the previous one");
          if (Status back = startAgent(before); !back) {
            event(Severity::kError, ServiceEventLog::kStartFailed,
                  "the previous configuration does not start either: " + back.error().message);
            control(StopReason::kInternal);
          }
        }
      } else {
        std::lock_guard lock(mu_);
        current_ = next;
      }
      if (!out.error) {
        std::string msg = "configuration reloaded; applied: " + joined(out.diff.live);
        if (!out.diff.restart.empty()) {
          msg +=
              "; changed but only effective after a service restart: " + joined(out.diff.restart);
        }
        event(out.diff.restart.empty() ? Severity::kInfo : Severity::kWarning,
              ServiceEventLog::kPolicyApplied, msg);
      }
    }
  }
  std::lock_guard lock(mu_);
  last_reload_ = std::move(out);
}

void ServiceHost::control(StopReason reason) {
  std::lock_guard lock(mu_);
  if (stop_) {
    spdlog::info("{} while stopping: ignored", stopReasonName(reason));
    return;
  }
  stop_ = reason;
  cv_.notify_all();
}

void ServiceHost::policyChanged() {
  std::lock_guard lock(mu_);
  reload_pending_ = true;
  ++change_seq_;
  cv_.notify_all();
}

void ServiceHost::interrogate() {
  std::lock_guard lock(sm_mu_);
  sm_.interrogate();
}

uint64_t ServiceHost::reloads() const {
  std::lock_guard lock(mu_);
  return reloads_;
}

ReloadOutcome ServiceHost::lastReload() const {
  std::lock_guard lock(mu_);
  return last_reload_;
}

void ServiceHost::waitForReload(uint64_t n) const {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return reloads_ > n; });
}

AgentConfig ServiceHost::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

uint64_t ServiceHost::agentStarts() const {
  std::lock_guard lock(mu_);
  return agent_starts_;
}

}  // namespace t0w
