// `tier0watch install prepare|verify`: what the MSI's deferred custom action does as SYSTEM
// (installer/wix/tier0watch.wxs), because wixl supports neither `Permission` nor text edits:
//   prepare  creates the data directory (queue, logs) with a protected DACL (SYSTEM and
//            BUILTIN\Administrators full control, inherited by everything below), copies the
//            default configuration there on first installation, writes COLLECTOR_URL into it and
//            ENROLL_TOKEN into the token file. An existing configuration and queue are kept.
//   verify   reads the data directory's DACL back and fails unless it is exactly that.
// Linux builds run the same code with POSIX modes (0700 directory, 0600 token) for the tests.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "agent/cli/cli_context.h"
#include "common/core/result.h"

namespace t0w::cli {

void registerInstallCommand(CLI::App& app, CliContext& ctx);

struct PrepareOptions {
  std::filesystem::path data_dir;        // C:\ProgramData\Tier0Watch
  std::filesystem::path default_config;  // C:\Program Files\Tier0Watch\tier0watch.default.yaml
  std::string collector_url;             // empty: keep what the configuration has
  std::string token;                     // empty: keep the token file as it is
  // windows.<key> switches from the MSI properties SOURCE_*: "key=0" / "key=1"; "key=" (an
  // unset property) leaves the configuration as it is.
  std::vector<std::string> sources;
};

// The MSI property → windows.<key> switch of each built-in source (tier0watch.wxs passes them as
// --source key=[PROPERTY]).
struct SourceSwitch {
  const char* property;
  const char* key;
};
const std::vector<SourceSwitch>& sourceSwitches();

// `config_text` with windows.<key> set to `on`, comments and the rest unchanged; the result must
// still be a valid configuration.
Result<std::string> withWindowsSwitch(std::string_view config_text, std::string_view key, bool on,
                                      const std::filesystem::path& base_dir);

inline constexpr const char* kConfigFileName = "tier0watch.yaml";
inline constexpr const char* kTokenFileName = "collector.token";

// Returns one line per action taken, for the install log (never the token).
Result<std::string> prepareDataDir(const PrepareOptions& options);

// `config_text` with collector.url set to `url` (a double-quoted YAML scalar), comments and the
// rest of the text unchanged; the result must still be a valid configuration.
Result<std::string> withCollectorUrl(std::string_view config_text, std::string_view url,
                                     const std::filesystem::path& base_dir);

// Restricts `dir` to SYSTEM and Administrators (Windows: protected DACL, inherited by children;
// POSIX: mode 0700).
Status secureDirectory(const std::filesystem::path& dir);

// The directory's access rules as text (Windows: the DACL in SDDL; POSIX: the mode in octal), or
// an error naming what is wrong with them.
Result<std::string> verifySecuredDirectory(const std::filesystem::path& dir);

}  // namespace t0w::cli
