// Sigma correlation rules (SigmaHQ sigma-specification, "Sigma Correlation Rules Specification"
// v2): parsing of a correlation document and the stateful engine that evaluates the correlations
// over the stream of base-rule matches.
//
// How RuleSet uses this:
//   1. For each YAML document with a top-level `correlation:` key, call parseCorrelationRule().
//   2. Build one CorrelationEngine from all of them. Check engine.validate() (reference cycles)
//      and that every engine.references()[i].ref (is_correlation == false) names the id or the
//      `name` of a loaded base rule.
//   3. For every base-rule match, in event order, call onRuleMatch(). Base rules for which
//      suppressesStandalone() is true do not alert on their own (Sigma `generate: false`, the
//      default); they still feed the engine.
//   4. Optionally call advanceTo() with each event's time, so that windows that can only be decided
//      when they close (conditions with lt/lte/eq) close as soon as event time has passed them,
//      even when no base rule matches. At end of input (offline scan), call flush().
//
// Semantics (the exact choices; the specification leaves them to the implementation):
//
// * Time is EVENT time: Event::system.time_created (FILETIME ticks), never the wall clock, so an
//   offline scan and a live stream give the same alerts. The engine keeps a watermark, the newest
//   event time seen. An event's effective time is max(time_created, watermark): event time never
//   runs backwards, so an event older than the watermark (a slightly unordered merged stream)
//   counts as happening at the watermark (counted in stats().clamped_events). An event without
//   TimeCreated also takes the watermark (0 before any timed event), i.e. it is placed by arrival
//   order in the current window (counted in stats().untimed_events).
//   There is one watermark PER SOURCE (Event::origin.source: channel, replay file, trace file;
//   agent/rules/correlation_clocks.h): a backlog read from one channel keeps its own event times
//   while another channel is live, and each source's watermark decides (closes, frees) only the
//   windows whose newest event came from it. Groups may still mix sources: counting always uses
//   the events' own times.
//
// * Windows. A window of timespan T ending at t is [t - T, t], both ends inclusive.
//   - Conditions that are monotone in the count (gt, gte; and for temporal types any upper bound
//     that cannot be exceeded, e.g. eq: <number of rules>) use a SLIDING window: at each new event
//     of a group at time t, the group's events within [t - T, t] are counted. The first time the
//     condition holds, one alert is emitted and the group's state is cleared, so one burst yields
//     one alert rather than one per further event; the group starts counting afresh with the next
//     event. (Why: a sliding window finds every burst regardless of where it falls, unlike fixed
//     buckets, and the reset keeps a 1000-event burst with gte: 10 from raising 991 alerts.)
//   - Conditions with an upper bound (lt, lte, eq, or a range such as gt+lte) cannot be decided
//     while events may still arrive, so they use a TUMBLING window anchored at the group's first
//     event s: [s, s + T]. It is decided when it closes: when the watermark passes s + T (an
//     onRuleMatch() or advanceTo() with a later time), or at flush(). If the condition holds on
//     the window's final count, one alert is emitted; the next event of the group opens a new
//     window. A group exists only once it has an event, so "lt: 1" never fires.
//
// * Counting. event_count counts the group's events; the same Event object matched by several of
//   the correlation's rules counts once. value_count counts distinct values of `field` (a list
//   of fields counts distinct tuples); matches where the field is absent are not counted
//   (stats: missing_value_field). temporal counts the distinct rules of `rules:` seen in the
//   window; without a condition it requires all of them. temporal_ordered counts the length of
//   the longest prefix of `rules:` seen in that order (strictly later events, by effective time
//   and then arrival order); without a condition it requires the whole list.
//
// * group-by. Each name is resolved per base rule through `aliases` (a rule not named in an
//   alias uses the alias name itself as the field name), then looked up as a data field
//   (Event::find, first value) and, failing that, as a System field (systemFieldByName:
//   EventID, Computer, Channel, ...). A match whose event lacks a group-by field is not counted
//   (stats: missing_group_field), as SIEM group-by drops null keys. No group-by: one group.
//
// * Chaining. A correlation may name another correlation (by id or name) in `rules:`. Its alert
//   then feeds the outer correlation as a match whose event is the completing event (so group-by
//   fields are read from it) at effective time max(alert time, watermark); the outer alert's
//   contributing_keys/rules include the inner alert's. An inner correlation's alerts are emitted
//   to the sink only if one of the correlations naming it has generate: true (spec: only the
//   outermost correlation alerts). Cycles are reported by validate() and cut at run time.
//
// * Bounds. All state together stays under max_state_bytes (oldest windows first are dropped).
//   At most max_groups_per_rule groups per correlation: a new group evicts the group
//   whose window expires first (the oldest), with its state, counted in groups_evicted. At most
//   max_events_per_group stored events per group: the oldest is dropped and no longer counts,
//   counted in events_evicted. Groups whose window has passed are freed as event time advances.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/event.h"
#include "agent/rules/alert.h"
#include "common/core/result.h"

namespace YAML {
class Node;
}

namespace t0w {

enum class CorrelationType { kEventCount, kValueCount, kTemporal, kTemporalOrdered };

// "event_count", "value_count", "temporal", "temporal_ordered".
const char* correlationTypeName(CorrelationType type);

// A conjunction of bounds on a count ("gt: 100, lte: 200" is the range 101..200).
struct CorrelationCondition {
  std::optional<uint64_t> gt;
  std::optional<uint64_t> gte;
  std::optional<uint64_t> lt;
  std::optional<uint64_t> lte;
  std::optional<uint64_t> eq;

  bool holds(uint64_t count) const;
  bool empty() const { return !gt && !gte && !lt && !lte && !eq; }
  // Largest count that satisfies the condition; nullopt when unbounded above.
  std::optional<uint64_t> upperBound() const;
  std::string toString() const;  // "gt 100 and lte 200"
};

struct CorrelationRule {
  std::string title;
  std::string id;                // optional in Sigma; alerts use `name` (then title) when empty
  std::string name;              // optional; other correlations and aliases may refer to it
  std::string level = "medium";  // Sigma level; "medium" when the document has none
  std::string status;
  std::string description;
  std::vector<std::string> tags;
  std::string file;

  CorrelationType type = CorrelationType::kEventCount;
  std::vector<std::string> rules;     // ids or names of base rules or correlations, unique
  std::vector<std::string> group_by;  // field names or alias names
  // alias name -> (rule id or name -> field name in that rule's events)
  std::map<std::string, std::map<std::string, std::string>> aliases;
  int64_t timespan = 0;                   // FILETIME ticks, > 0
  std::string timespan_text;              // as written, e.g. "5m"
  CorrelationCondition condition;         // for temporal types, empty means "all rules"
  std::vector<std::string> value_fields;  // value_count `condition.field` (one or more)
  bool generate = false;                  // the referenced rules also alert on their own

  // The identity put on alerts: id, else name, else title.
  const std::string& alertId() const;
};

// Parses "30s", "5m", "1h", "2d" (a positive integer and a lowercase unit) into FILETIME ticks.
Result<int64_t> parseTimespan(std::string_view text);

// Parses one Sigma correlation document (top-level keys title, id, name, status, description,
// level, tags, generate, correlation: {type, rules, group-by, timespan, condition, aliases,
// generate}; other top-level metadata such as author, date or falsepositives is ignored).
// Errors (Errc::kParse) read "<file>: correlation '<id|name|title>': <problem>". Never throws.
Result<CorrelationRule> parseCorrelationRule(const YAML::Node& doc, const std::string& file);

struct CorrelationLimits {
  size_t max_groups_per_rule = 100000;
  size_t max_events_per_group = 10000;
  // One budget for the state of all correlations together (groups, kept events, counted
  // values): past it, the group whose window ends first, of any correlation, is dropped
  // (counted in budget_evictions). Events shared by several windows are charged to each.
  size_t max_state_bytes = size_t{32} << 20;
};

struct CorrelationRuleStats {
  std::string id;                    // CorrelationRule::alertId()
  uint64_t matches = 0;              // matches received (base rules and chained correlations)
  uint64_t alerts = 0;               // alerts raised (emitted or fed to an outer correlation)
  uint64_t groups_evicted = 0;       // groups dropped at max_groups_per_rule
  uint64_t events_evicted = 0;       // events dropped at max_events_per_group
  uint64_t budget_evictions = 0;     // groups dropped because all state passed max_state_bytes
  uint64_t missing_group_field = 0;  // matches not counted: a group-by field was absent
  uint64_t missing_value_field = 0;  // value_count matches not counted: `field` was absent
  size_t active_groups = 0;          // groups currently held
};

struct CorrelationStats {
  std::vector<CorrelationRuleStats> rules;  // in the order given to the engine
  uint64_t alerts_emitted = 0;              // alerts handed to the sink
  uint64_t untimed_events = 0;              // matches whose event had no TimeCreated
  uint64_t clamped_events = 0;              // matches whose event was older than the watermark
  uint64_t cycle_drops = 0;  // chained matches dropped because correlations form a cycle
  uint64_t null_events = 0;  // onRuleMatch() calls with a null event (ignored)
  size_t state_bytes = 0;    // held by all groups now, as charged to max_state_bytes
  uint64_t groupsEvicted() const;
  uint64_t eventsEvicted() const;
};

// One entry of a correlation's `rules:` list, merged over all correlations.
struct CorrelationReference {
  std::string ref;                         // as written: a rule id or name
  std::vector<std::string> referenced_by;  // alertId() of each correlation listing it
  bool generate = false;                   // some correlation listing it has generate: true
  bool is_correlation = false;             // names a correlation of this engine (by id or name)
};

class CorrelationEngine {
 public:
  explicit CorrelationEngine(std::vector<CorrelationRule> rules, CorrelationLimits limits = {});
  ~CorrelationEngine();
  CorrelationEngine(CorrelationEngine&&) noexcept;
  CorrelationEngine& operator=(CorrelationEngine&&) noexcept;
  CorrelationEngine(const CorrelationEngine&) = delete;
  CorrelationEngine& operator=(const CorrelationEngine&) = delete;

  const std::vector<CorrelationRule>& rules() const;

  // Every id/name that some correlation refers to, in first-seen order. Refs with
  // is_correlation == false must name loaded base rules (RuleSet checks that).
  const std::vector<CorrelationReference>& references() const;
  // True when a correlation refers to this rule (by id or by name).
  bool isReferenced(std::string_view rule_id, std::string_view rule_name) const;
  // True when the rule is referenced and no referencing correlation has generate: true: its own
  // matches must not raise alerts (they still go to onRuleMatch).
  bool suppressesStandalone(std::string_view rule_id, std::string_view rule_name) const;

  // Error (Errc::kInvalidArgument) naming the correlations that refer to each other in a cycle.
  Status validate() const;

  // Called for every base-rule match, in event order. rule_id and rule_name are both given so
  // that a correlation's `rules:` list can refer to either (either may be empty). Emits
  // correlation alerts to out, including those decided because event time moved past a window.
  void onRuleMatch(std::string_view rule_id, std::string_view rule_name,
                   const std::shared_ptr<const Event>& event, AlertSink& out);

  // Moves event time forward to `event_time` (FILETIME ticks; earlier times are ignored) and
  // decides the windows that closed before it.
  // Advances the clock of `source` (Event::origin.source; tests: the default "").
  void advanceTo(int64_t event_time, AlertSink& out, std::string_view source = {});

  // End of input: decides every open window (lt/lte/eq conditions), then clears all state.
  void flush(AlertSink& out);

  // Clears all groups and the watermark (e.g. between unrelated offline scans); keeps stats.
  void reset();

  CorrelationStats stats() const;  // evicted groups/events per rule, alerts emitted
  // The state's charge counted from scratch (stats().state_bytes is kept incrementally; the
  // two agree unless the bookkeeping is wrong). O(state): for tests and diagnostics.
  size_t recountStateBytes() const;
  // Cheap reads for the agent's metrics (stats() copies every rule's counters).
  size_t stateBytes() const;
  uint64_t budgetEvictions() const;

  // The watermark: newest event time seen, if any.
  std::optional<int64_t> eventTime() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace t0w
