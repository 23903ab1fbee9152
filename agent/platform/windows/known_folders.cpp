#include "agent/platform/windows/known_folders.h"

#include <windows.h>
// windows.h first: shlobj.h and knownfolders.h need its types.
#include <knownfolders.h>
#include <shlobj.h>

#include "agent/platform/windows/error_text.h"

namespace t0w::win {
namespace {

const KNOWNFOLDERID& folderId(KnownFolder folder) {
  switch (folder) {
    case KnownFolder::kProgramData:
      return FOLDERID_ProgramData;
    case KnownFolder::kProgramFiles:
      return FOLDERID_ProgramFiles;
    case KnownFolder::kSystem:
      return FOLDERID_System;
    case KnownFolder::kLocalAppData:
      return FOLDERID_LocalAppData;
  }
  return FOLDERID_ProgramData;
}

const char* folderName(KnownFolder folder) {
  switch (folder) {
    case KnownFolder::kProgramData:
      return "ProgramData";
    case KnownFolder::kProgramFiles:
      return "ProgramFiles";
    case KnownFolder::kSystem:
      return "System";
    case KnownFolder::kLocalAppData:
      return "LocalAppData";
  }
  return "?";
}

}  // namespace

Result<std::filesystem::path> knownFolderPath(KnownFolder folder) {
  PWSTR raw = nullptr;
  const HRESULT hr = ::SHGetKnownFolderPath(folderId(folder), KF_FLAG_DEFAULT, nullptr, &raw);
  if (FAILED(hr)) {
    ::CoTaskMemFree(raw);  // documented: free even on failure
    // HRESULT_FROM_WIN32 wraps a Win32 code in the low 16 bits (facility 7).
    const uint32_t code = HRESULT_FACILITY(hr) == FACILITY_WIN32
                              ? static_cast<uint32_t>(HRESULT_CODE(hr))
                              : static_cast<uint32_t>(hr);
    return win32Error(Errc::kNotFound,
                      std::string("SHGetKnownFolderPath(") + folderName(folder) + ")", code);
  }
  std::filesystem::path out(raw);
  ::CoTaskMemFree(raw);
  return out;
}

}  // namespace t0w::win
