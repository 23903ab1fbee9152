// tier0watch service stop: stops the service and waits until no process runs this executable any
// more. The MSI runs it on uninstall between StopServices and RemoveFiles: StopServices waits for
// SERVICE_STOPPED at most (Wine's does not wait at all), a service process still maps its image
// for a moment after reporting STOPPED, and a mapped tier0watch.exe cannot be deleted, so
// RemoveFiles would leave it for a reboot.
#include <windows.h>
// (after windows.h, whose types it uses)
#include <tlhelp32.h>

#include <algorithm>
#include <cwctype>
#include <thread>
#include <vector>

#include "agent/platform/windows/error_text.h"
#include "agent/platform/windows/handle.h"
#include "agent/platform/windows/utf.h"
#include "agent/service/windows_service.h"

namespace t0w::win {
namespace {

using Clock = std::chrono::steady_clock;

DWORD remainingMs(Clock::time_point end) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
  return left.count() > 0 ? static_cast<DWORD>(left.count()) : 0;
}

bool sameFile(std::wstring a, std::wstring b) {
  auto lower = [](std::wstring& s) {
    std::transform(s.begin(), s.end(), s.begin(), [](wchar_t c) { return std::towlower(c); });
  };
  lower(a);
  lower(b);
  return a == b;
}

Result<std::wstring> ownImage() {
  std::wstring path(32768, L'\0');
  const DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
  if (n == 0 || n >= path.size()) {
    return win32Error(Errc::kIo, "GetModuleFileName", GetLastError());
  }
  path.resize(n);
  return path;
}

// Every other process whose image is `image`, opened for waiting and ending.
std::vector<KernelHandle> processesRunning(const std::wstring& image) {
  std::vector<KernelHandle> found;
  FileHandle snapshot(CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0));
  if (!snapshot.valid()) return found;
  PROCESSENTRY32W entry{};
  entry.dwSize = sizeof(entry);
  const DWORD self = GetCurrentProcessId();
  for (BOOL more = Process32FirstW(snapshot.get(), &entry); more;
       more = Process32NextW(snapshot.get(), &entry)) {
    if (entry.th32ProcessID == self || entry.th32ProcessID == 0) continue;
    KernelHandle process(
        OpenProcess(SYNCHRONIZE | PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
                    entry.th32ProcessID));
    if (!process.valid()) continue;  // gone, or not ours to see
    std::wstring path(32768, L'\0');
    DWORD size = static_cast<DWORD>(path.size());
    if (!QueryFullProcessImageNameW(process.get(), 0, path.data(), &size)) continue;
    path.resize(size);
    if (sameFile(path, image)) found.push_back(std::move(process));
  }
  return found;
}

// Sends STOP unless the service is stopped or stopping, then polls until STOPPED or `end`.
Result<std::string> stopService(const std::string& name_utf8, Clock::time_point end) {
  auto name = toWide(name_utf8);
  if (!name) return name.error();
  ServiceHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) return win32Error(Errc::kIo, "OpenSCManager", GetLastError());
  ServiceHandle service(
      OpenServiceW(scm.get(), name->c_str(), SERVICE_STOP | SERVICE_QUERY_STATUS));
  if (!service) {
    const DWORD e = GetLastError();
    if (e == ERROR_SERVICE_DOES_NOT_EXIST) return std::string("not installed");
    return win32Error(Errc::kIo, "OpenService(" + name_utf8 + ")", e);
  }
  SERVICE_STATUS_PROCESS sp{};
  DWORD needed = 0;
  auto query = [&] {
    return QueryServiceStatusEx(service.get(), SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&sp),
                                sizeof(sp), &needed) != FALSE;
  };
  if (!query()) {
    return win32Error(Errc::kIo, "QueryServiceStatusEx(" + name_utf8 + ")", GetLastError());
  }
  if (sp.dwCurrentState != SERVICE_STOPPED && sp.dwCurrentState != SERVICE_STOP_PENDING) {
    SERVICE_STATUS status{};
    if (!ControlService(service.get(), SERVICE_CONTROL_STOP, &status)) {
      const DWORD e = GetLastError();
      if (e != ERROR_SERVICE_NOT_ACTIVE) {
        return win32Error(Errc::kIo, "ControlService(" + name_utf8 + ", STOP)", e);
      }
    }
  }
  // Polled as Microsoft's sample does: a tenth of the wait hint, within [250 ms, 5 s].
  while (query() && sp.dwCurrentState != SERVICE_STOPPED && Clock::now() < end) {
    const DWORD pause = std::clamp<DWORD>(sp.dwWaitHint / 10, 250, 5'000);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(pause, remainingMs(end) + 1)));
  }
  return std::string(sp.dwCurrentState == SERVICE_STOPPED ? "STOPPED" : "still stopping");
}

}  // namespace

Result<StopReport> stopServiceAndWaitForExit(const std::string& name,
                                             std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  StopReport report;
  auto state = stopService(name, end);
  if (!state) return state.error();
  report.service_state = *state;
  auto image = ownImage();
  if (!image) return image.error();
  std::vector<KernelHandle> running = processesRunning(*image);
  report.processes = static_cast<int>(running.size());
  for (KernelHandle& process : running) {
    if (WaitForSingleObject(process.get(), remainingMs(end)) == WAIT_OBJECT_0) continue;
    // The deadline passed: the files must go, and the queue is crash-safe (SQLite WAL), so the
    // process is ended as Windows ends services at shutdown.
    if (TerminateProcess(process.get(), 1)) ++report.terminated;
    if (WaitForSingleObject(process.get(), 5'000) != WAIT_OBJECT_0) ++report.still_running;
  }
  return report;
}

}  // namespace t0w::win
