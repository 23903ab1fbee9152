// ServiceHost: runs the agent the way the SCM expects (ServiceStateMachine) and keeps it in step
// with Group Policy while it runs. Portable: the Windows adapter (scm_host_windows.cpp) feeds it
// SCM controls and registry change notifications; tests feed it the same calls.
//
//   run():            START_PENDING (load configuration, start agent) -> RUNNING, then waits for
//                     a stop or a policy change; drains with STOP_PENDING progress; STOPPED.
//   control():        SERVICE_CONTROL_STOP / PRESHUTDOWN (any thread).
//   policyChanged():  the policy key changed (watcher thread): reload file + policy; the log
//                     level is applied in place, the other live settings by restarting the
//                     agent inside the running service (queue and checkpoints make that
//                     lossless); restart-only settings are reported and keep their values.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config_source.h"
#include "agent/config/policy_source.h"
#include "agent/service/service_state.h"

namespace t0w {

class Agent;

// Important lifecycle events: the Windows Application log under the SCM (ReportEventW).
class ServiceEventLog {
 public:
  enum class Severity { kInfo, kWarning, kError };
  // Event ids of the "Tier0Watch" source (docs/group-policy.md lists them).
  enum Id : uint32_t {
    kStarted = 1000,
    kStopped = 1001,
    kConfigError = 1002,
    kStartFailed = 1003,
    kPolicyApplied = 1004,
    kPolicyIssue = 1005,
    kAgentError = 1006,  // an error logged by the agent (queue quarantined, ...)
  };
  virtual ~ServiceEventLog() = default;
  virtual void write(Severity severity, uint32_t id, const std::string& message) = 0;
};

struct ServiceHostOptions {
  std::filesystem::path config_file;
  ServiceTimings timings;
  PolicySource* policy = nullptr;        // nullptr: the file alone
  ServiceEventLog* event_log = nullptr;  // nullptr: the spdlog log only
  // A reload waits until the policy key has been quiet this long: the Group Policy client
  // deletes a key's values and writes them again one by one, and a reload in between would
  // briefly fall back to the file's values (and restart the agent twice).
  std::chrono::milliseconds reload_settle{2'000};
};

// What the last reload did, for tests and the log.
struct ReloadOutcome {
  ConfigDiff diff;
  bool agent_restarted = false;
  std::vector<std::string> issues;
  std::optional<Error> error;  // the new configuration could not be loaded (old one kept)
};

class ServiceHost {
 public:
  ServiceHost(ServiceStatusReporter& reporter, ServiceHostOptions options);
  ~ServiceHost();
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  // Blocks until the service has stopped; the exit reported with STOPPED.
  ServiceExit run();
  // Thread-safe. Ignored (logged) when a stop is already under way.
  void control(StopReason reason);
  // Thread-safe. Handled on run()'s thread.
  void policyChanged();
  // SERVICE_CONTROL_INTERROGATE.
  void interrogate();

  // Number of reloads handled so far, and the last outcome (tests wait for a count).
  uint64_t reloads() const;
  ReloadOutcome lastReload() const;
  // Blocks until reloads() > n (a condition, not a timer).
  void waitForReload(uint64_t n) const;
  // The configuration the running agent uses.
  AgentConfig current() const;
  // How many times an agent was started (1 + restarts for live reloads).
  uint64_t agentStarts() const;

 private:
  void event(ServiceEventLog::Severity severity, uint32_t id, const std::string& message);
  Status startAgent(const AgentConfig& config);
  std::string config_origin_;  // of the last loaded configuration, for the heartbeat
  void reload();
  ServiceExit drain(StopReason reason);

  ServiceStatusReporter& reporter_;
  ServiceHostOptions options_;
  // The state machine is driven from several threads (run, SCM handler for INTERROGATE).
  std::mutex sm_mu_;
  ServiceStateMachine sm_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::optional<StopReason> stop_;
  bool reload_pending_ = false;
  uint64_t change_seq_ = 0;  // policyChanged() calls, for the settle wait
  uint64_t reloads_ = 0;
  uint64_t agent_starts_ = 0;
  ReloadOutcome last_reload_;
  AgentConfig current_;
  std::unique_ptr<Agent> agent_;
};

}  // namespace t0w
