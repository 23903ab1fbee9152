// The prepare step's custom action data and the command line it runs, kept portable so that
// Linux tests cover the parsing and quoting the Windows DLL relies on.
//
// The MSI hands a deferred custom action one string (CustomActionData). Ours is
//   <tier0watch.exe>|<data dir>|<default config>|<collector URL>|<sources>|<enrolment token>
// where <sources> is `key=value;key=value...` (the SOURCE_* properties; an empty value leaves that
// source as configured). '|' cannot occur in a Windows path; the URL and the source switches are
// checked by `install prepare`; the token is the rest of the string (anything but control
// characters).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/text/windows_argument.h"

namespace t0w::installer {

struct PrepareActionData {
  std::string exe;
  std::string data_dir;
  std::string default_config;
  std::string collector_url;
  std::vector<std::string> sources;  // "key=value" with a value, for `--source`
  std::string token;                 // empty: the token file is left as it is
};

// nullopt when a field is missing or a path is empty.
std::optional<PrepareActionData> parsePrepareActionData(std::string_view data);

// `"<exe>" install prepare --data-dir ... --default-config ... [--collector-url ...]
// [--source key=value]... [--token-stdin]`: the token itself never appears on the command line.
std::string prepareCommandLine(const PrepareActionData& data);

}  // namespace t0w::installer
