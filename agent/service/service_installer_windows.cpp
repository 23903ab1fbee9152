// tier0watch service install | configure | uninstall: CreateServiceW and ChangeServiceConfig2W
// with the ServiceSpec (service_spec.h explains the account and SID choice). The MSI's custom
// action calls `service configure`, because wixl cannot express these settings.
#include <spdlog/spdlog.h>
#include <windows.h>

#include <vector>

#include "agent/platform/host_info.h"
#include "agent/platform/windows/error_text.h"
#include "agent/platform/windows/handle.h"
#include "agent/platform/windows/utf.h"
#include "agent/service/windows_service.h"

namespace t0w::win {
namespace {

// The source's messages: EventLogMessages.dll of the .NET Framework 4 (in-box on Windows Server
// 2016 and later) formats every event id as "%1", so the text we write is shown as it is.
constexpr wchar_t kEventSourceKey[] =
    L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\Tier0Watch";
constexpr wchar_t kEventMessageFile[] =
    L"%SystemRoot%\\Microsoft.NET\\Framework64\\v4.0.30319\\EventLogMessages.dll";

Status registerEventSource() {
  HKEY key = nullptr;
  LSTATUS rc = RegCreateKeyExW(HKEY_LOCAL_MACHINE, kEventSourceKey, 0, nullptr, 0,
                               KEY_SET_VALUE | KEY_WOW64_64KEY, nullptr, &key, nullptr);
  if (rc != ERROR_SUCCESS) return win32Error(Errc::kIo, "event source registration", rc);
  const DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
  rc = RegSetValueExW(key, L"EventMessageFile", 0, REG_EXPAND_SZ,
                      reinterpret_cast<const BYTE*>(kEventMessageFile), sizeof(kEventMessageFile));
  if (rc == ERROR_SUCCESS) {
    rc = RegSetValueExW(key, L"TypesSupported", 0, REG_DWORD, reinterpret_cast<const BYTE*>(&types),
                        sizeof(types));
  }
  RegCloseKey(key);
  if (rc != ERROR_SUCCESS) return win32Error(Errc::kIo, "event source registration", rc);
  return {};
}

Status config2(SC_HANDLE service, DWORD level, void* info, const char* what) {
  if (!ChangeServiceConfig2W(service, level, info)) {
    const DWORD e = GetLastError();
    // Wine 8 implements neither delayed auto-start, the failure-actions flag nor the service SID
    // type; without this the MSI's configure action (Return="check") rolls every Wine install
    // back. Windows has every level used here, so there it stays an error.
    if (e == ERROR_INVALID_LEVEL && runningUnderWine()) {
      spdlog::warn("ChangeServiceConfig2({}): not implemented by Wine, skipped", what);
      return {};
    }
    return win32Error(Errc::kIo, std::string("ChangeServiceConfig2(") + what + ")", e);
  }
  return {};
}

Status applySettings(SC_HANDLE service, const ServiceSpec& spec) {
  auto description = toWide(spec.description);
  if (!description) return description.error();
  std::vector<std::string> failed;
  const auto keep = [&failed](Status s) {
    if (!s) failed.push_back(s.error().message);
  };

  SERVICE_DESCRIPTIONW desc{description->data()};
  keep(config2(service, SERVICE_CONFIG_DESCRIPTION, &desc, "description"));

  SERVICE_DELAYED_AUTO_START_INFO delayed{spec.delayed_auto_start ? TRUE : FALSE};
  keep(config2(service, SERVICE_CONFIG_DELAYED_AUTO_START_INFO, &delayed, "delayed auto-start"));

  std::vector<SC_ACTION> actions;
  for (const auto& delay : spec.restart_delays) {
    actions.push_back({SC_ACTION_RESTART, static_cast<DWORD>(delay.count())});
  }
  SERVICE_FAILURE_ACTIONSW failure{};
  failure.dwResetPeriod = static_cast<DWORD>(spec.failure_reset_period.count());
  failure.cActions = static_cast<DWORD>(actions.size());
  failure.lpsaActions = actions.data();
  keep(config2(service, SERVICE_CONFIG_FAILURE_ACTIONS, &failure, "failure actions"));

  SERVICE_FAILURE_ACTIONS_FLAG flag{spec.failure_actions_on_non_crash ? TRUE : FALSE};
  keep(config2(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &flag, "failure actions flag"));

  SERVICE_PRESHUTDOWN_INFO preshutdown{static_cast<DWORD>(spec.preshutdown_timeout.count())};
  keep(config2(service, SERVICE_CONFIG_PRESHUTDOWN_INFO, &preshutdown, "preshutdown timeout"));

  SERVICE_SID_INFO sid{static_cast<DWORD>(spec.sid_type)};
  keep(config2(service, SERVICE_CONFIG_SERVICE_SID_INFO, &sid, "service SID type"));

  keep(registerEventSource());
  if (failed.empty()) return {};
  std::string msg = spec.name + ": some settings were not applied: ";
  for (size_t i = 0; i < failed.size(); ++i) msg += (i ? "; " : "") + failed[i];
  return makeError(Errc::kIo, msg);
}

Result<std::wstring> account(const ServiceSpec& spec) {
  // nullptr means LocalSystem to CreateService; any other name is passed through.
  if (spec.account == "LocalSystem") return std::wstring();
  return toWide(spec.account);
}

}  // namespace

Status installService(const ServiceSpec& spec) {
  auto name = toWide(spec.name);
  auto display = toWide(spec.display_name);
  auto image = toWide(serviceCommandLine(spec));
  auto acct = account(spec);
  if (!name || !display || !image || !acct) {
    return makeError(Errc::kInvalidArgument, "service install: a name or path is not UTF-8");
  }
  ServiceHandle scm(
      OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE));
  if (!scm) return win32Error(Errc::kIo, "OpenSCManager", GetLastError());
  // The Event Log service must run before the agent subscribes to it.
  static const wchar_t kDependencies[] = L"EventLog\0";
  ServiceHandle service(CreateServiceW(
      scm.get(), name->c_str(), display->c_str(), SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
      SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, image->c_str(), nullptr, nullptr, kDependencies,
      acct->empty() ? nullptr : acct->c_str(), nullptr));
  if (!service) {
    const DWORD e = GetLastError();
    if (e == ERROR_SERVICE_EXISTS) {
      return makeError(Errc::kInvalidArgument,
                       spec.name +
                           ": the service exists already (use `tier0watch service "
                           "configure` to update it)");
    }
    return win32Error(Errc::kIo, "CreateService(" + spec.name + ")", e);
  }
  return applySettings(service.get(), spec);
}

Status configureService(const ServiceSpec& spec) {
  auto name = toWide(spec.name);
  auto display = toWide(spec.display_name);
  auto image = toWide(serviceCommandLine(spec));
  if (!name || !display || !image) {
    return makeError(Errc::kInvalidArgument, "service configure: a name or path is not UTF-8");
  }
  ServiceHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) return win32Error(Errc::kIo, "OpenSCManager", GetLastError());
  ServiceHandle service(
      OpenServiceW(scm.get(), name->c_str(), SERVICE_CHANGE_CONFIG | SERVICE_START));
  if (!service) {
    return win32Error(Errc::kNotFound, "OpenService(" + spec.name + ")", GetLastError());
  }
  // The MSI installs the service itself; the image path and start type are re-applied too so
  // that `configure` repairs a service changed by hand.
  if (!ChangeServiceConfigW(service.get(), SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                            SERVICE_ERROR_NORMAL, image->c_str(), nullptr, nullptr, nullptr,
                            nullptr, nullptr, display->c_str())) {
    return win32Error(Errc::kIo, "ChangeServiceConfig(" + spec.name + ")", GetLastError());
  }
  return applySettings(service.get(), spec);
}

Status uninstallService(const std::string& name_utf8) {
  auto name = toWide(name_utf8);
  if (!name) return name.error();
  // Stopped, and its process gone, before the service is deleted (at most 2 minutes).
  auto stopped = stopServiceAndWaitForExit(name_utf8, std::chrono::minutes(2));
  if (!stopped) return stopped.error();
  ServiceHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) return win32Error(Errc::kIo, "OpenSCManager", GetLastError());
  ServiceHandle service(OpenServiceW(scm.get(), name->c_str(), DELETE));
  if (!service) {
    return win32Error(Errc::kNotFound, "OpenService(" + name_utf8 + ")", GetLastError());
  }
  if (!DeleteService(service.get())) {
    const DWORD e = GetLastError();
    if (e != ERROR_SERVICE_MARKED_FOR_DELETE) {
      return win32Error(Errc::kIo, "DeleteService(" + name_utf8 + ")", e);
    }
  }
  RegDeleteKeyExW(HKEY_LOCAL_MACHINE, kEventSourceKey, KEY_WOW64_64KEY, 0);
  return {};
}

Result<std::string> queryServiceState(const std::string& name_utf8) {
  auto name = toWide(name_utf8);
  if (!name) return name.error();
  ServiceHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) return win32Error(Errc::kIo, "OpenSCManager", GetLastError());
  ServiceHandle service(OpenServiceW(scm.get(), name->c_str(), SERVICE_QUERY_STATUS));
  if (!service) {
    return win32Error(Errc::kNotFound, "OpenService(" + name_utf8 + ")", GetLastError());
  }
  SERVICE_STATUS_PROCESS sp{};
  DWORD needed = 0;
  if (!QueryServiceStatusEx(service.get(), SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&sp),
                            sizeof(sp), &needed)) {
    return win32Error(Errc::kIo, "QueryServiceStatusEx(" + name_utf8 + ")", GetLastError());
  }
  switch (sp.dwCurrentState) {
    case SERVICE_STOPPED:
    case SERVICE_START_PENDING:
    case SERVICE_STOP_PENDING:
    case SERVICE_RUNNING:
      return std::string(serviceStateName(static_cast<ServiceState>(sp.dwCurrentState)));
    case SERVICE_CONTINUE_PENDING:
      return std::string("CONTINUE_PENDING");
    case SERVICE_PAUSE_PENDING:
      return std::string("PAUSE_PENDING");
    case SERVICE_PAUSED:
      return std::string("PAUSED");
  }
  return "state " + std::to_string(sp.dwCurrentState);
}

}  // namespace t0w::win
