// Well-known folders (ProgramData for the queue and state) via SHGetKnownFolderPath, never
// via environment variables that a service account may not have.
#pragma once

#include <filesystem>

#include "common/core/result.h"

namespace t0w::win {

enum class KnownFolder {
  kProgramData,   // C:\ProgramData: the agent's queue, state and logs
  kProgramFiles,  // C:\Program Files: where the installer puts the agent
  kSystem,        // C:\Windows\System32
  kLocalAppData,  // per-user data, for console runs by a developer
};

Result<std::filesystem::path> knownFolderPath(KnownFolder folder);

}  // namespace t0w::win
