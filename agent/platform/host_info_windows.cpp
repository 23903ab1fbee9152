#include <windows.h>

#include <string>

#include "agent/platform/host_info.h"
#include "agent/platform/windows/utf.h"

namespace t0w {

std::string hostName() {
  // First call asks for the size (ERROR_MORE_DATA), the second fills the buffer.
  DWORD size = 0;
  GetComputerNameExW(ComputerNameDnsFullyQualified, nullptr, &size);
  if (size > 0) {
    std::wstring name(size, L'\0');
    if (GetComputerNameExW(ComputerNameDnsFullyQualified, name.data(), &size) && size > 0) {
      name.resize(size);
      return win::toUtf8(name);
    }
  }
  // No DNS name (workgroup machine without a primary DNS suffix gives the host name above;
  // this is the last resort): the NetBIOS name.
  wchar_t netbios[MAX_COMPUTERNAME_LENGTH + 1] = {};
  DWORD n = MAX_COMPUTERNAME_LENGTH + 1;
  if (GetComputerNameW(netbios, &n) && n > 0) return win::toUtf8(std::wstring_view(netbios, n));
  return "unknown";
}

std::filesystem::path executablePath() {
  // Long paths: grow the buffer while the name is truncated (the call returns the buffer size).
  std::wstring buf(MAX_PATH, L'\0');
  while (true) {
    const DWORD n = GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
    if (n == 0) return {};
    if (n < buf.size()) {
      buf.resize(n);
      return std::filesystem::path(buf);
    }
    if (buf.size() >= 32768) return {};
    buf.resize(buf.size() * 2);
  }
}

bool runningUnderWine() {
  const HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

}  // namespace t0w
