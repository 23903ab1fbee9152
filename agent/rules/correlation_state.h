// The correlation engine's state: groups, entries, chains and per-rule state
// (correlation_engine.cpp only; not part of the engine's interface).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "agent/core/field_key.h"
#include "agent/rules/correlation.h"
#include "agent/rules/correlation_clocks.h"

namespace t0w::correlation_detail {

// What a correlation alert passes on to the correlations that name it.
struct Contribution {
  std::vector<std::string> keys;
  std::vector<std::string> rules;
};

struct Entry {
  int64_t time = 0;
  std::shared_ptr<const Event> event;
  uint32_t rule_index = 0;
  std::string value;                            // value_count: the counted value (encoded tuple)
  std::shared_ptr<const Contribution> chained;  // set when the match is a correlation's alert
};

// temporal_ordered: an in-order chain matching a prefix of `rules:`.
struct Chain {
  int64_t start = 0;
  std::vector<Entry> entries;
};

struct Group {
  std::vector<std::string> values;  // group-by values
  int64_t window_start = 0;         // tumbling windows: time of the first event
  int64_t expiry = 0;               // key in RuleState::expiry
  CorrelationClocks::Id clock = 0;  // the source clock of its newest event (decides expiry)
  Entry last;                       // newest event of the window
  std::deque<Entry> entries;        // event_count, value_count
  std::unordered_map<std::string, uint32_t> value_counts;  // value_count
  std::vector<std::optional<Entry>> latest;                // temporal: newest per rule
  std::vector<std::optional<Chain>> best;  // temporal_ordered: best[k] matches rules[0..k]
  size_t bytes = 0;                        // charged to CorrelationLimits::max_state_bytes
};

inline size_t entryBytes(const Entry& e) {
  size_t n = sizeof(Entry) + e.value.size() + (e.event ? e.event->memoryBytes() : 0);
  if (e.chained) {
    for (const auto& k : e.chained->keys) n += sizeof(std::string) + k.size();
    for (const auto& r : e.chained->rules) n += sizeof(std::string) + r.size();
  }
  return n;
}

// What a group holds, counted from scratch (temporal types: a few entries per rule).
inline size_t groupBytes(const std::string& key, const Group& g) {
  size_t n = sizeof(Group) + 2 * key.size() + 64;  // the map node and the expiry entry
  for (const auto& v : g.values) n += sizeof(std::string) + v.size();
  n += entryBytes(g.last);
  for (const auto& e : g.entries) n += entryBytes(e);
  for (const auto& [value, count] : g.value_counts) n += value.size() + 48;
  for (const auto& e : g.latest) {
    if (e) n += entryBytes(*e);
  }
  for (const auto& c : g.best) {
    if (!c) continue;
    for (const auto& e : c->entries) n += entryBytes(e);
  }
  return n;
}

// A group-by or value field as seen in the events of one entry of `rules:`.
struct FieldRef {
  FieldKey key;
  std::optional<SystemField> system;
  // Alias not resolvable from the ref as written (e.g. the alias names the rule by `name` but
  // `rules:` lists its id): resolved per match from the matched rule's id and name.
  const std::map<std::string, std::string>* pending_alias = nullptr;
};

inline FieldRef makeFieldRef(const std::string& field) {
  FieldRef f;
  f.key = FieldKey(field);
  f.system = systemFieldByName(field);
  return f;
}

inline std::optional<std::string> lookupField(const Event& event, const FieldKey& key,
                                              const std::optional<SystemField>& system) {
  if (const std::string* v = event.find(key)) return *v;
  if (system) {
    std::string buf;
    if (auto text = event.systemText(*system, buf)) return std::string(*text);
  }
  return std::nullopt;
}

inline void appendEncoded(std::string& out, std::string_view value) {
  // Length-prefixed so that no value can forge another tuple.
  out += std::to_string(value.size());
  out += ':';
  out += value;
}

struct RuleState {
  CorrelationRule rule;
  CorrelationCondition condition;  // the rule's, or "all rules" for temporal types without one
  bool tumbling = false;
  bool emit = true;
  std::vector<std::vector<FieldRef>> group_fields;  // [rule index][group-by index]
  std::vector<std::vector<FieldRef>> value_fields;  // [rule index][value field index]
  std::unordered_map<std::string, Group> groups;
  // (source clock, time the window ends, group key): each clock expires its own groups.
  std::set<std::tuple<CorrelationClocks::Id, int64_t, std::string>> expiry;
  CorrelationRuleStats stats;
};

}  // namespace t0w::correlation_detail
