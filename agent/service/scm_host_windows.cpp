// The SCM side of the service: StartServiceCtrlDispatcherW -> ServiceMain ->
// RegisterServiceCtrlHandlerExW, SetServiceStatus from ServiceStateMachine reports, rotating log
// file under %ProgramData%\Tier0Watch\logs, Group Policy watcher. The service logic itself is
// ServiceHost (portable).
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/spdlog.h>
#include <windows.h>

#include <mutex>

#include "agent/config/policy_overlay.h"
#include "agent/platform/windows/error_text.h"
#include "agent/platform/windows/known_folders.h"
#include "agent/platform/windows/registry_policy_source.h"
#include "agent/platform/windows/utf.h"
#include "agent/service/windows_service.h"

namespace t0w::win {
namespace {

// The SCM calls ServiceMain and the control handler without a pointer of ours to ServiceMain:
// the one service of this process finds its context here. Set before the dispatcher starts.
struct ServiceContext {
  std::filesystem::path config;
  std::mutex mu;
  ServiceHost* host = nullptr;  // while ServiceHost::run() is on the stack
  int exit_code = 0;
};
ServiceContext* g_context = nullptr;

class ScmStatusReporter final : public ServiceStatusReporter {
 public:
  explicit ScmStatusReporter(SERVICE_STATUS_HANDLE handle) : handle_(handle) {}
  void report(const ServiceStatusReport& r) override {
    SERVICE_STATUS s{};
    s.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    s.dwCurrentState = static_cast<DWORD>(r.state);
    s.dwControlsAccepted = r.controls_accepted;
    s.dwWin32ExitCode = r.win32_exit_code;
    s.dwServiceSpecificExitCode = r.service_exit_code;
    s.dwCheckPoint = r.checkpoint;
    s.dwWaitHint = r.wait_hint_ms;
    if (!SetServiceStatus(handle_, &s)) {
      spdlog::error("SetServiceStatus({}): {}", serviceStateName(r.state),
                    errorText(GetLastError()));
    }
  }

 private:
  SERVICE_STATUS_HANDLE handle_;
};

// Errors the agent logs about its queue (a corrupt file quarantined, an incident that could not
// be stored) also go to the Application log, where monitoring looks first.
class QueueIncidentSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit QueueIncidentSink(ServiceEventLog& log) : log_(log) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level < spdlog::level::err) return;
    const std::string text(msg.payload.data(), msg.payload.size());
    if (text.starts_with("queue:")) {
      log_.write(ServiceEventLog::Severity::kError, ServiceEventLog::kAgentError, text);
    }
  }
  void flush_() override {}

 private:
  ServiceEventLog& log_;
};

DWORD WINAPI controlHandler(DWORD control, DWORD, LPVOID, LPVOID context) {
  auto* ctx = static_cast<ServiceContext*>(context);
  std::lock_guard lock(ctx->mu);
  switch (control) {
    case SERVICE_CONTROL_STOP:
      if (ctx->host != nullptr) ctx->host->control(StopReason::kStop);
      return NO_ERROR;
    case SERVICE_CONTROL_PRESHUTDOWN:
      if (ctx->host != nullptr) ctx->host->control(StopReason::kPreshutdown);
      return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
      if (ctx->host != nullptr) ctx->host->interrogate();
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

void setUpLogging(ServiceEventLog& events) {
  std::vector<spdlog::sink_ptr> sinks;
  if (auto dir = serviceLogDirectory(); dir) {
    try {
      // 10 MiB per file, 5 files kept.
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          (*dir / "tier0watch.log").string(), 10 << 20, 5));
    } catch (const spdlog::spdlog_ex& e) {
      events.write(ServiceEventLog::Severity::kWarning, ServiceEventLog::kStartFailed,
                   std::string("cannot open the log file: ") + e.what());
    }
  } else {
    events.write(ServiceEventLog::Severity::kWarning, ServiceEventLog::kStartFailed,
                 "no log directory: " + dir.error().message);
  }
  sinks.push_back(std::make_shared<QueueIncidentSink>(events));
  auto logger = std::make_shared<spdlog::logger>("tier0watch-service", sinks.begin(), sinks.end());
  // Every line at info and above is flushed as written (the service logs little at info), so
  // the file is complete even when the process is ended. No spdlog::flush_every: with it the
  // process crashed at stop under Wine (page fault in pthread_mutex_lock, seen with addr2line),
  // and the lines since the last periodic flush were lost.
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
}

void WINAPI serviceMain(DWORD argc, LPWSTR* argv) {
  ServiceContext* ctx = g_context;
  const wchar_t* name = argc > 0 && argv[0] != nullptr ? argv[0] : L"Tier0Watch";
  SERVICE_STATUS_HANDLE status = RegisterServiceCtrlHandlerExW(name, &controlHandler, ctx);
  if (status == nullptr) {
    ctx->exit_code = 1;
    return;
  }
  ApplicationEventLog events("Tier0Watch");
  setUpLogging(events);
  ScmStatusReporter reporter(status);
  RegistryPolicySource policy(kPolicyKeyPath);
  ServiceHostOptions options;
  options.config_file = ctx->config;
  options.policy = &policy;
  options.event_log = &events;
  options.timings.preshutdown_timeout = ServiceSpec{}.preshutdown_timeout;
  ServiceHost host(reporter, options);
  {
    std::lock_guard lock(ctx->mu);
    ctx->host = &host;
  }
  auto watcher = RegistryWatcher::start(kPolicyKeyPath, [&host] { host.policyChanged(); });
  if (!watcher) spdlog::error("Group Policy changes are not watched: {}", watcher.error().message);
  const ServiceExit exit = host.run();
  if (watcher) watcher->reset();  // no callback into a destroyed host
  {
    std::lock_guard lock(ctx->mu);
    ctx->host = nullptr;
  }
  ctx->exit_code = exit == ServiceExit::kOk ? 0 : 1;
  spdlog::shutdown();
}

}  // namespace

Result<std::filesystem::path> serviceLogDirectory() {
  auto data = knownFolderPath(KnownFolder::kProgramData);
  if (!data) return data.error();
  const std::filesystem::path dir = *data / "Tier0Watch" / "logs";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return makeError(Errc::kIo, dir.string() + ": " + ec.message());
  return dir;
}

Result<int> runAsService(const std::filesystem::path& config_file) {
  ServiceContext ctx;
  std::error_code ec;
  ctx.config = std::filesystem::absolute(config_file, ec);
  g_context = &ctx;
  wchar_t service_name[] = L"Tier0Watch";  // ignored for SERVICE_WIN32_OWN_PROCESS
  SERVICE_TABLE_ENTRYW table[] = {{service_name, &serviceMain}, {nullptr, nullptr}};
  if (!StartServiceCtrlDispatcherW(table)) {
    const DWORD e = GetLastError();
    g_context = nullptr;
    if (e == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      return makeError(Errc::kInvalidArgument,
                       "not started by the service control manager (use `tier0watch run "
                       "--config FILE` in a console, or `sc start Tier0Watch`)");
    }
    return win32Error(Errc::kIo, "StartServiceCtrlDispatcher", e);
  }
  g_context = nullptr;
  return ctx.exit_code;
}

}  // namespace t0w::win
