// Tests of Windows behaviour that Wine does not implement skip under Wine, saying why; the
// manual procedure on Windows Server is in docs/windows-verification.md.
#pragma once

#ifdef _WIN32
#include <windows.h>
#endif

namespace t0w::test {

// Windows under Wine: ntdll exports wine_get_version. Always false elsewhere.
inline bool underWine() {
#ifdef _WIN32
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
#else
  return false;
#endif
}

}  // namespace t0w::test
