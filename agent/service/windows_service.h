// The Win32 side of the service (WIN32 only): the SCM dispatcher that runs ServiceHost, the
// Application event log source, and install / configure / uninstall with the ServiceSpec.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "agent/service/service_host.h"
#include "agent/service/service_spec.h"
#include "common/core/result.h"

namespace t0w::win {

// Reports to the Application log with the source "Tier0Watch" (RegisterEventSourceW). The
// source's message file is registered by installService; without it the text still shows.
class ApplicationEventLog final : public ServiceEventLog {
 public:
  explicit ApplicationEventLog(const std::string& source);
  ~ApplicationEventLog() override;
  void write(Severity severity, uint32_t id, const std::string& message) override;

 private:
  void* handle_ = nullptr;  // HANDLE
};

// Called from `tier0watch service run --config FILE`: connects to the SCM
// (StartServiceCtrlDispatcherW) and runs the service until it stops. Returns the process exit
// code; an error when the process was not started by the SCM.
Result<int> runAsService(const std::filesystem::path& config_file);

// The directory of the service's rotating log files: %ProgramData%\Tier0Watch\logs.
Result<std::filesystem::path> serviceLogDirectory();

Status installService(const ServiceSpec& spec);    // CreateServiceW + configureService
Status configureService(const ServiceSpec& spec);  // re-applies every setting of the spec
Status uninstallService(const std::string& name);  // stops it (bounded) and deletes it
// What stopServiceAndWaitForExit saw and did.
struct StopReport {
  std::string service_state;  // "STOPPED", "still stopping" or "not installed"
  int processes = 0;          // other processes running this executable, waited for
  int terminated = 0;         // of those, ended after the deadline
  int still_running = 0;      // of those, alive even after TerminateProcess
};
// Stops the service (unless stopped) and waits, until `timeout`, for it to report STOPPED and for
// every other process running this executable to exit; ends those left at the deadline. For the
// MSI's uninstall (a running tier0watch.exe cannot be deleted) and `service uninstall`.
Result<StopReport> stopServiceAndWaitForExit(const std::string& name,
                                             std::chrono::milliseconds timeout);
// QueryServiceStatusEx: "RUNNING", "STOPPED", ... (the states of ServiceState, plus the others).
Result<std::string> queryServiceState(const std::string& name);

}  // namespace t0w::win
