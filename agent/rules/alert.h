// Alert: what a rule (or a correlation) produces for one match.
#pragma once

#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/event.h"

namespace t0w {

struct MatchedField {
  std::string name;
  std::string value;
};

struct Alert {
  std::string rule_id;
  std::string rule_title;
  std::string level;  // informational | low | medium | high | critical
  std::vector<std::string> tags;
  std::string rule_file;
  // Event time (FILETIME ticks) of the match; for correlations, of the event that completed it.
  std::optional<int64_t> time;
  // The matching event; for correlations, the event that completed the correlation.
  std::shared_ptr<const Event> event;
  std::vector<MatchedField> matched;  // fields whose values satisfied the detection
  // Correlations only.
  std::string correlation_type;                 // event_count | value_count | temporal | ...
  std::vector<MatchedField> group_by;           // the group's values
  std::vector<std::string> contributing_keys;   // eventKey() of each contributing event
  std::vector<std::string> contributing_rules;  // ids/names of the base rules
};

// Sigma's levels in rank order. A rule without a level ranks above them all: nothing filters it.
inline constexpr const char* kAlertLevels[] = {"informational", "low", "medium", "high",
                                               "critical"};
inline int alertLevelRank(std::string_view level) {
  const int n = static_cast<int>(std::size(kAlertLevels));
  for (int i = 0; i < n; ++i) {
    if (level == kAlertLevels[i]) return i;
  }
  return n;
}

class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual void onAlert(Alert&& alert) = 0;
};

}  // namespace t0w
