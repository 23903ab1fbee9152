#include "agent/service/service_state.h"

#include <algorithm>

namespace t0w {

const char* serviceStateName(ServiceState state) {
  switch (state) {
    case ServiceState::kStopped:
      return "STOPPED";
    case ServiceState::kStartPending:
      return "START_PENDING";
    case ServiceState::kStopPending:
      return "STOP_PENDING";
    case ServiceState::kRunning:
      return "RUNNING";
  }
  return "UNKNOWN";
}

const char* stopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kStop:
      return "stop control";
    case StopReason::kPreshutdown:
      return "system shutdown (preshutdown)";
    case StopReason::kConsole:
      return "console control event";
    case StopReason::kInternal:
      return "internal failure";
  }
  return "unknown";
}

ServiceStateMachine::ServiceStateMachine(ServiceStatusReporter& reporter, ServiceTimings timings)
    : reporter_(reporter), timings_(timings) {}

void ServiceStateMachine::emit(ServiceState state, uint32_t accepted, uint32_t checkpoint,
                               std::chrono::milliseconds hint, ServiceExit exit) {
  ServiceStatusReport r;
  r.state = state;
  r.controls_accepted = accepted;
  r.checkpoint = checkpoint;
  r.wait_hint_ms = static_cast<uint32_t>(std::max<int64_t>(0, hint.count()));
  if (exit != ServiceExit::kOk) {
    r.win32_exit_code = kErrorServiceSpecificError;
    r.service_exit_code = static_cast<uint32_t>(exit);
  }
  last_ = r;
  reporter_.report(r);
}

Status ServiceStateMachine::startStep(const std::string& step) {
  if (last_.state == ServiceState::kStopped && started_) {
    return makeError(Errc::kInvalidArgument, "service: start step \"" + step + "\" after STOPPED");
  }
  if (last_.state != ServiceState::kStopped && last_.state != ServiceState::kStartPending) {
    return makeError(Errc::kInvalidArgument, std::string("service: start step \"") + step +
                                                 "\" while " + serviceStateName(last_.state));
  }
  started_ = true;
  step_ = step;
  const uint32_t next = last_.state == ServiceState::kStartPending ? last_.checkpoint + 1 : 1;
  emit(ServiceState::kStartPending, 0, next, timings_.start_step_hint);
  return {};
}

Status ServiceStateMachine::running() {
  if (last_.state != ServiceState::kStartPending) {
    return makeError(Errc::kInvalidArgument, std::string("service: RUNNING reported while ") +
                                                 serviceStateName(last_.state));
  }
  step_ = "running";
  emit(ServiceState::kRunning, kAcceptStop | kAcceptPreshutdown, 0, std::chrono::milliseconds(0));
  return {};
}

Result<std::chrono::milliseconds> ServiceStateMachine::beginStop(
    StopReason reason, std::chrono::milliseconds shutdown_deadline) {
  using std::chrono::milliseconds;
  if (last_.state == ServiceState::kStopPending || last_.state == ServiceState::kStopped) {
    return makeError(Errc::kInvalidArgument, std::string("service: ") + stopReasonName(reason) +
                                                 " while " + serviceStateName(last_.state) +
                                                 ": ignored");
  }
  milliseconds budget = std::max(milliseconds(0), shutdown_deadline);
  if (last_.state == ServiceState::kStartPending) budget = milliseconds(0);
  if (reason == StopReason::kPreshutdown) {
    // The SCM moves on with the shutdown when the preshutdown timeout passes, STOPPED or not.
    const milliseconds cap =
        std::max(milliseconds(0), timings_.preshutdown_timeout - timings_.preshutdown_margin);
    budget = std::min(budget, cap);
  }
  step_ = std::string("stopping: ") + stopReasonName(reason);
  // The first hint covers the first progress report or the whole budget, whichever is shorter,
  // so the SCM never sees a checkpoint overdue while the drain is within its budget.
  emit(ServiceState::kStopPending, 0, 1,
       std::min(timings_.stop_step_hint, budget) + milliseconds(1'000));
  return budget;
}

Status ServiceStateMachine::stopProgress() {
  if (last_.state != ServiceState::kStopPending) {
    return makeError(Errc::kInvalidArgument,
                     std::string("service: stop progress while ") + serviceStateName(last_.state));
  }
  emit(ServiceState::kStopPending, 0, last_.checkpoint + 1,
       timings_.stop_step_hint + std::chrono::milliseconds(1'000));
  return {};
}

Status ServiceStateMachine::stopped(ServiceExit exit) {
  if (last_.state == ServiceState::kStopped && started_) {
    return makeError(Errc::kInvalidArgument, "service: STOPPED reported twice");
  }
  started_ = true;
  step_ = "stopped";
  emit(ServiceState::kStopped, 0, 0, std::chrono::milliseconds(0), exit);
  return {};
}

void ServiceStateMachine::interrogate() { reporter_.report(last_); }

}  // namespace t0w
