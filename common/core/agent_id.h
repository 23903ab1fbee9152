// The one rule for agent ids, applied by the agent's configuration, the wire-batch decoder and
// the collector's enrolment: 1 to 128 of letters, digits, '.', '_' and '-'. No '|' or ':' (the
// separators of record keys and batch ids, so an id cannot claim another agent's key space), no
// control characters, spaces or non-ASCII (so it prints and compares one way everywhere).
#pragma once

#include <cstddef>
#include <string_view>

namespace t0w {

inline constexpr size_t kMaxAgentIdLength = 128;
inline constexpr std::string_view kAgentIdRule =
    "1-128 characters of letters, digits, '.', '_' and '-'";

constexpr bool isValidAgentId(std::string_view id) {
  if (id.empty() || id.size() > kMaxAgentIdLength) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace t0w
