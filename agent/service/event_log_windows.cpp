#include <windows.h>

#include "agent/platform/windows/utf.h"
#include "agent/service/windows_service.h"

namespace t0w::win {

ApplicationEventLog::ApplicationEventLog(const std::string& source) {
  auto wide = toWide(source);
  if (wide) handle_ = RegisterEventSourceW(nullptr, wide->c_str());
}

ApplicationEventLog::~ApplicationEventLog() {
  if (handle_ != nullptr) DeregisterEventSource(static_cast<HANDLE>(handle_));
}

void ApplicationEventLog::write(Severity severity, uint32_t id, const std::string& message) {
  if (handle_ == nullptr) return;  // the file log has it; the event log is a convenience
  const WORD type = severity == Severity::kError     ? EVENTLOG_ERROR_TYPE
                    : severity == Severity::kWarning ? EVENTLOG_WARNING_TYPE
                                                     : EVENTLOG_INFORMATION_TYPE;
  const std::wstring text = toWide(message).ok() ? *toWide(message) : L"(message not UTF-8)";
  LPCWSTR strings[1] = {text.c_str()};
  ReportEventW(static_cast<HANDLE>(handle_), type, 0, id, nullptr, 1, 0, strings, nullptr);
}

}  // namespace t0w::win
