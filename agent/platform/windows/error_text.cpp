#include "agent/platform/windows/error_text.h"

#include <windows.h>

#include "agent/platform/windows/utf.h"

namespace t0w::win {

std::string errorText(uint32_t code) {
  const std::string suffix = "(Win32 error " + std::to_string(code) + ")";
  wchar_t* buf = nullptr;
  const DWORD flags =
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS;
  // English first, so logs read the same on every machine; then the user's language.
  DWORD n = ::FormatMessageW(flags, nullptr, code, MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US),
                             reinterpret_cast<LPWSTR>(&buf), 0, nullptr);
  if (n == 0) {
    n = ::FormatMessageW(flags, nullptr, code, 0, reinterpret_cast<LPWSTR>(&buf), 0, nullptr);
  }
  if (n == 0 || buf == nullptr) return "Win32 error " + std::to_string(code);
  std::wstring_view text(buf, n);
  while (!text.empty() && (text.back() == L'\r' || text.back() == L'\n' || text.back() == L' ')) {
    text.remove_suffix(1);
  }
  std::string out = toUtf8(text);
  ::LocalFree(buf);
  if (out.empty()) return "Win32 error " + std::to_string(code);
  return out + " " + suffix;
}

Error win32Error(Errc errc, std::string_view what, uint32_t code) {
  return Error{errc, std::string(what) + ": " + errorText(code)};
}

}  // namespace t0w::win
