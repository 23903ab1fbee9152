#include <windows.h>

#include <atomic>
#include <mutex>

#include "agent/platform/host_stop_signal.h"
#include "agent/platform/windows/error_text.h"

namespace t0w {
namespace {

class WindowsStopSignal;
// The console control handler is a plain function called on a system thread: it finds the
// installed instance here (one per process, see install()).
std::atomic<WindowsStopSignal*> g_installed{nullptr};

const char* ctrlName(DWORD type) {
  switch (type) {
    case CTRL_C_EVENT:
      return "Ctrl+C";
    case CTRL_BREAK_EVENT:
      return "Ctrl+Break";
    case CTRL_CLOSE_EVENT:
      return "console close";
    case CTRL_LOGOFF_EVENT:
      return "logoff";
    case CTRL_SHUTDOWN_EVENT:
      return "shutdown";
    default:
      return nullptr;
  }
}

class WindowsStopSignal final : public StopSignal {
 public:
  WindowsStopSignal(HANDLE stop, HANDLE done) : stop_(stop), done_(done) {}

  ~WindowsStopSignal() override {
    // Lets a close/logoff/shutdown handler return (the process ends then), then uninstalls.
    SetEvent(done_);
    SetConsoleCtrlHandler(&WindowsStopSignal::handler, FALSE);
    g_installed = nullptr;
    CloseHandle(stop_);
    // done_ stays open: a handler still waiting on it may not have returned yet, and the
    // process ends right after it does.
  }

  std::optional<std::string> wait() override {
    WaitForSingleObject(stop_, INFINITE);
    std::lock_guard lock(mu_);
    if (name_ == nullptr) return std::nullopt;
    return std::string(name_);
  }

  void cancel() override { SetEvent(stop_); }

  static BOOL WINAPI handler(DWORD type) {
    WindowsStopSignal* self = g_installed.load();
    const char* name = ctrlName(type);
    if (self == nullptr || name == nullptr) return FALSE;  // the default handling
    // `self` may be destroyed once stop_ is set: nothing of it is used after SetEvent.
    const HANDLE done = self->done_;
    {
      std::lock_guard lock(self->mu_);
      if (self->name_ == nullptr) self->name_ = name;
    }
    SetEvent(self->stop_);
    if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT) {
      // Returning ends the process: hold it until the agent has stored and flushed.
      WaitForSingleObject(done, INFINITE);
    }
    return TRUE;
  }

 private:
  HANDLE stop_;
  HANDLE done_;
  std::mutex mu_;
  const char* name_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<StopSignal>> StopSignal::install() {
  if (g_installed.load() != nullptr) {
    return makeError(Errc::kInvalidArgument, "a stop signal handler is already installed");
  }
  HANDLE stop = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  HANDLE done = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (stop == nullptr || done == nullptr) {
    const DWORD e = GetLastError();
    if (stop != nullptr) CloseHandle(stop);
    if (done != nullptr) CloseHandle(done);
    return win::win32Error(Errc::kIo, "CreateEvent", e);
  }
  auto signal = std::make_unique<WindowsStopSignal>(stop, done);
  g_installed = signal.get();
  if (!SetConsoleCtrlHandler(&WindowsStopSignal::handler, TRUE)) {
    const DWORD e = GetLastError();
    g_installed = nullptr;
    return win::win32Error(Errc::kIo, "SetConsoleCtrlHandler", e);
  }
  return std::unique_ptr<StopSignal>(std::move(signal));
}

}  // namespace t0w
