#include "agent/platform/windows/utf.h"

#include <windows.h>

#include <climits>

namespace t0w::win {

Result<std::wstring> toWide(std::string_view utf8) {
  if (utf8.empty()) return std::wstring();
  if (utf8.size() > static_cast<size_t>(INT_MAX)) {
    return makeError(Errc::kLimit, "string of " + std::to_string(utf8.size()) +
                                       " bytes is too long to convert to UTF-16");
  }
  const int in = static_cast<int>(utf8.size());
  const int n = ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), in, nullptr, 0);
  if (n <= 0) return makeError(Errc::kInvalidArgument, "not valid UTF-8");
  std::wstring out(static_cast<size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), in, out.data(), n);
  return out;
}

std::string toUtf8(std::wstring_view utf16) {
  if (utf16.empty() || utf16.size() > static_cast<size_t>(INT_MAX)) return std::string();
  const int in = static_cast<int>(utf16.size());
  // Flags 0 (not WC_ERR_INVALID_CHARS): unpaired surrogates become U+FFFD instead of failing.
  const int n = ::WideCharToMultiByte(CP_UTF8, 0, utf16.data(), in, nullptr, 0, nullptr, nullptr);
  if (n <= 0) return std::string();
  std::string out(static_cast<size_t>(n), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, utf16.data(), in, out.data(), n, nullptr, nullptr);
  return out;
}

}  // namespace t0w::win
