// Sigma `logsource` → where the rule's events come from: Windows channels (or ETW providers) and
// EventIDs, after Sigma's Windows taxonomy and pySigma's windows/sysmon pipelines, plus the
// Tier0Watch services for Entra Connect and Entra Password Protection. docs/sigma-logsources.md
// documents the table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/result.h"

namespace t0w {

// Field names of a log source that differ from the Sigma taxonomy (e.g. process_creation read from
// Security 4688 events: Image → NewProcessName).
struct FieldMapping {
  std::vector<std::pair<std::string, std::string>> renames;  // sigma name → event field name
  std::string_view map(std::string_view sigma_name) const;
};

struct LogSourceTarget {
  std::string name;                    // e.g. "sysmon", "security-4688"; for diagnostics
  std::vector<std::string> channels;   // any of, compared case-insensitively; empty = any
  std::vector<std::string> providers;  // used when channels is empty (ETW providers, trace files)
  std::vector<uint32_t> event_ids;     // any of; empty = any
  const FieldMapping* fields = nullptr;
};

// Provider_Name that the trace-file collector must give to lines of Entra Connect trace-*.log
// files: `service: aadconnect-trace` rules match events from this provider.
inline constexpr std::string_view kAadConnectTraceProvider = "AADConnect-Trace";

struct LogSourceSpec {
  std::string product, category, service;
};

// Errc::kUnsupported: not a Windows/Tier0Watch log source (out of scope, e.g. product: cisco).
// Errc::kNotFound: a Windows log source this table does not know.
Result<std::vector<LogSourceTarget>> resolveLogSource(const LogSourceSpec& spec);

}  // namespace t0w
