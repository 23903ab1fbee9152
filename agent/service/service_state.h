// The SCM protocol of the Tier0Watch service as a portable state machine: which state, checkpoint,
// wait hint and accepted controls to report, and how long a drain may take. The Win32 adapter
// (scm_host_windows.cpp) only copies these reports into SERVICE_STATUS and calls
// SetServiceStatus, so the rules below are unit-tested on Linux and under Wine alike.
//
// Rules (SERVICE_STATUS and "Service Control Handler Function", Microsoft Learn):
// - START_PENDING / STOP_PENDING: the checkpoint starts at 1 and grows with every step; the wait
//   hint is the time until the next report. RUNNING / STOPPED: checkpoint 0, wait hint 0.
// - Controls are accepted only while RUNNING (STOP and PRESHUTDOWN); none while pending.
// - After PRESHUTDOWN the SCM waits at most the preshutdown timeout for STOPPED, so the drain
//   budget is the shutdown deadline capped by that timeout minus a margin for the final report.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/core/result.h"

namespace t0w {

// Values of SERVICE_STATUS.dwCurrentState.
enum class ServiceState : uint32_t {
  kStopped = 1,
  kStartPending = 2,
  kStopPending = 3,
  kRunning = 4,
};
const char* serviceStateName(ServiceState state);  // "STOPPED", "START_PENDING", ...

// Bits of SERVICE_STATUS.dwControlsAccepted.
inline constexpr uint32_t kAcceptStop = 0x00000001;         // SERVICE_ACCEPT_STOP
inline constexpr uint32_t kAcceptPreshutdown = 0x00000100;  // SERVICE_ACCEPT_PRESHUTDOWN

struct ServiceStatusReport {
  ServiceState state = ServiceState::kStopped;
  uint32_t controls_accepted = 0;
  uint32_t win32_exit_code = 0;    // 0, or ERROR_SERVICE_SPECIFIC_ERROR with the code below
  uint32_t service_exit_code = 0;  // ServiceExit
  uint32_t checkpoint = 0;
  uint32_t wait_hint_ms = 0;
};

// Where reports go: SetServiceStatus under the SCM, a log line in console mode, a list in tests.
class ServiceStatusReporter {
 public:
  virtual ~ServiceStatusReporter() = default;
  virtual void report(const ServiceStatusReport& status) = 0;
};

// dwServiceSpecificExitCode values (win32 code ERROR_SERVICE_SPECIFIC_ERROR = 1066): a non-zero
// exit makes the SCM run the failure actions (SERVICE_FAILURE_ACTIONS_FLAG is set).
enum class ServiceExit : uint32_t {
  kOk = 0,
  kConfigError = 2,  // the configuration cannot be loaded: restarting will not help much
  kStartFailed = 3,  // queue, TLS, rules: start-up failed
  kAgentFailed = 4,  // the agent stopped on its own with an error
};
inline constexpr uint32_t kErrorServiceSpecificError = 1066;

enum class StopReason { kStop, kPreshutdown, kConsole, kInternal };
const char* stopReasonName(StopReason reason);

struct ServiceTimings {
  // Wait hint for each start-up step (open queue, load rules, start collectors).
  std::chrono::milliseconds start_step_hint{30'000};
  // Wait hint while draining: the host reports progress at least this often.
  std::chrono::milliseconds stop_step_hint{5'000};
  // What the service was configured with (SERVICE_PRESHUTDOWN_INFO), see ServiceSpec.
  std::chrono::milliseconds preshutdown_timeout{60'000};
  // Kept back from the preshutdown timeout for stopping threads and the final report.
  std::chrono::milliseconds preshutdown_margin{5'000};
};

class ServiceStateMachine {
 public:
  ServiceStateMachine(ServiceStatusReporter& reporter, ServiceTimings timings);

  // Each start-up step reports START_PENDING with the next checkpoint. First call from STOPPED.
  Status startStep(const std::string& step);
  // Queue open, collectors running: RUNNING, accepting STOP and PRESHUTDOWN.
  Status running();
  // A stop control (or console event, or an internal failure). Returns the drain budget, i.e.
  // how long the agent may flush before it must report STOPPED; kInvalidArgument when a stop is
  // already under way (a second STOP is ignored by the caller). Allowed from START_PENDING too
  // (a failure half-way through start-up), with a zero drain budget then.
  Result<std::chrono::milliseconds> beginStop(StopReason reason,
                                              std::chrono::milliseconds shutdown_deadline);
  // While draining: STOP_PENDING with the next checkpoint (keeps the SCM from timing out).
  Status stopProgress();
  // Final report. From any state but STOPPED.
  Status stopped(ServiceExit exit);
  // SERVICE_CONTROL_INTERROGATE: the last report again.
  void interrogate();

  ServiceState state() const { return last_.state; }
  const ServiceStatusReport& last() const { return last_; }
  std::string lastStep() const { return step_; }

 private:
  void emit(ServiceState state, uint32_t accepted, uint32_t checkpoint,
            std::chrono::milliseconds hint, ServiceExit exit = ServiceExit::kOk);

  ServiceStatusReporter& reporter_;
  ServiceTimings timings_;
  ServiceStatusReport last_;
  std::string step_;
  bool started_ = false;
};

}  // namespace t0w
