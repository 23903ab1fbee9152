// tier0watch-ca.dll: the MSI's deferred custom action that prepares the data directory.
//
// Why a DLL: an EXE custom action receives its input on its command line, and on a DC with
// process-creation auditing (4688 with command lines) the enrolment token would land in the
// Security log, which this agent then ships. A DLL action reads CustomActionData through its
// MSI handle, then runs `tier0watch.exe install prepare --token-stdin` and writes the token to
// the child's standard input: it is never an argument of any process. CustomActionData is kept
// out of the installer log by MsiHiddenProperties and the HideTarget bit (scripts/windows/msi.sh).
#include <windows.h>
// clang-format off: msi.h and msiquery.h need windows.h first
#include <msi.h>
#include <msiquery.h>
// clang-format on

#include <string>

#include "installer/ca/action_data.h"

namespace {

std::string toUtf8(const std::wstring& w) {
  if (w.empty()) return {};
  const int n = WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), nullptr, 0,
                                    nullptr, nullptr);
  std::string out(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), out.data(), n, nullptr,
                      nullptr);
  return out;
}

std::wstring toWide(const std::string& s) {
  if (s.empty()) return {};
  const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

template <typename S>
void wipe(S& s) {
  if (!s.empty()) SecureZeroMemory(s.data(), s.size() * sizeof(s[0]));
  s.clear();
}

// One line in the installer log (msiexec /l*v): "T0WPrepareDataDir: <text>".
void logLine(MSIHANDLE install, const std::string& text) {
  PMSIHANDLE record = MsiCreateRecord(1);
  // The text goes in field 1 and the template only references it, so brackets in a path are
  // not taken for formatting.
  MsiRecordSetStringW(record, 0, L"T0WPrepareDataDir: [1]");
  MsiRecordSetStringW(record, 1, toWide(text).c_str());
  MsiProcessMessage(install, INSTALLMESSAGE_INFO, record);
}

std::wstring customActionData(MSIHANDLE install) {
  DWORD size = 0;
  wchar_t empty[1] = L"";
  if (MsiGetPropertyW(install, L"CustomActionData", empty, &size) != ERROR_MORE_DATA) return {};
  std::wstring value(size + 1, L'\0');
  size = static_cast<DWORD>(value.size());
  if (MsiGetPropertyW(install, L"CustomActionData", value.data(), &size) != ERROR_SUCCESS) {
    wipe(value);
    return {};
  }
  value.resize(size);
  return value;
}

class Handle {
 public:
  Handle() = default;
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  HANDLE* put() {
    reset();
    return &h_;
  }
  HANDLE get() const { return h_; }
  void reset() {
    if (h_ != nullptr && h_ != INVALID_HANDLE_VALUE) CloseHandle(h_);
    h_ = nullptr;
  }

 private:
  HANDLE h_ = nullptr;
};

std::string lastError(const char* what) {
  return std::string(what) + " failed (Windows error " + std::to_string(GetLastError()) + ")";
}

// Runs the prepare command, the token on its stdin; its output goes to the installer log.
UINT runPrepare(MSIHANDLE install, t0w::installer::PrepareActionData& data) {
  SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  Handle in_read, in_write, out_read, out_write;
  if (!CreatePipe(in_read.put(), in_write.put(), &inherit, 0) ||
      !CreatePipe(out_read.put(), out_write.put(), &inherit, 0)) {
    logLine(install, lastError("CreatePipe"));
    return ERROR_INSTALL_FAILURE;
  }
  // Only the child's ends are inherited.
  SetHandleInformation(in_write.get(), HANDLE_FLAG_INHERIT, 0);
  SetHandleInformation(out_read.get(), HANDLE_FLAG_INHERIT, 0);

  STARTUPINFOW si{};
  si.cb = sizeof(si);
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = in_read.get();
  si.hStdOutput = out_write.get();
  si.hStdError = out_write.get();
  std::wstring cmd = toWide(t0w::installer::prepareCommandLine(data));
  const std::wstring exe = toWide(data.exe);
  PROCESS_INFORMATION pi{};
  if (!CreateProcessW(exe.c_str(), cmd.data(), nullptr, nullptr, TRUE, CREATE_NO_WINDOW, nullptr,
                      nullptr, &si, &pi)) {
    logLine(install, lastError("CreateProcess") + ": " + data.exe);
    return ERROR_INSTALL_FAILURE;
  }
  Handle process, thread;
  *process.put() = pi.hProcess;
  *thread.put() = pi.hThread;
  in_read.reset();
  out_write.reset();

  bool sent = true;
  if (!data.token.empty()) {
    // A token is at most a few KiB: it fits the pipe's buffer, so writing before reading the
    // child's output cannot deadlock.
    std::string line = data.token + "\n";
    DWORD written = 0;
    sent = WriteFile(in_write.get(), line.data(), static_cast<DWORD>(line.size()), &written,
                     nullptr) &&
           written == line.size();
    wipe(line);
  }
  wipe(data.token);
  in_write.reset();  // EOF for the child

  std::string output;
  char buffer[4096];
  DWORD got = 0;
  while (ReadFile(out_read.get(), buffer, sizeof(buffer), &got, nullptr) && got > 0) {
    output.append(buffer, got);
  }
  WaitForSingleObject(process.get(), 120'000);
  DWORD code = 1;
  if (!GetExitCodeProcess(process.get(), &code) || code == STILL_ACTIVE) {
    TerminateProcess(process.get(), 1);
    logLine(install, "tier0watch.exe install prepare did not finish within 120 s");
    return ERROR_INSTALL_FAILURE;
  }
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) logLine(install, line);
    start = end + 1;
  }
  if (!sent) {
    logLine(install, "could not write the enrolment token to tier0watch.exe's standard input");
    return ERROR_INSTALL_FAILURE;
  }
  if (code != 0) {
    logLine(install, "tier0watch.exe install prepare exited with " + std::to_string(code));
    return ERROR_INSTALL_FAILURE;
  }
  return ERROR_SUCCESS;
}

}  // namespace

extern "C" __declspec(dllexport) UINT __stdcall T0WPrepareDataDir(MSIHANDLE install) {
  std::wstring raw = customActionData(install);
  std::string utf8 = toUtf8(raw);
  wipe(raw);
  auto data = t0w::installer::parsePrepareActionData(utf8);
  wipe(utf8);
  if (!data) {
    logLine(install, "CustomActionData is not <exe>|<data dir>|<default config>|<url>|<token>");
    return ERROR_INSTALL_FAILURE;
  }
  const UINT rc = runPrepare(install, *data);
  wipe(data->token);
  return rc;
}
