// TraceGlob: a path pattern with '*' and '?' in any component (e.g.
// "%SystemDrive%\Users\*\AppData\Local\AADConnect\trace-*.log"), expanded over a TraceFileSystem.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/tracefile/file_system.h"

namespace t0w {

// Looks an environment variable up (injected: tests do not depend on the process environment).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup processEnvironment();

// "%NAME%" replaced by the variable's value; unknown names and a lone '%' stay as written (the
// folder will not exist and is reported absent with the text as written).
std::string expandEnvironment(std::string_view text, const EnvLookup& env);

// Wildcards '*' (any run) and '?' (one character); `fold_case` for Windows names.
bool wildcardMatch(std::string_view pattern, std::string_view name, bool fold_case);

struct GlobResult {
  // Matched files, sorted by path (trace-YYYYMMDD-HHMMSS names sort oldest first).
  std::vector<std::string> files;
  // No directory of the pattern exists (component not installed): kAbsent, not an error.
  bool absent = false;
  bool access_denied = false;
  std::string detail;  // why absent / denied / what failed
};

class TraceGlob {
 public:
  // `pattern` after environment expansion. Windows: '\' and '/' separate, names fold case.
  explicit TraceGlob(std::string pattern, bool windows_paths = kWindowsPaths);
  const std::string& pattern() const { return pattern_; }
  GlobResult expand(TraceFileSystem& fs) const;

#ifdef _WIN32
  static constexpr bool kWindowsPaths = true;
#else
  static constexpr bool kWindowsPaths = false;
#endif

 private:
  std::string pattern_;
  bool windows_;
  std::string root_;                    // the fixed leading part ("C:\", "/", "" = relative)
  std::vector<std::string> components;  // the rest, one per path component
};

}  // namespace t0w
