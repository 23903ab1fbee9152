// CompiledRule: a Sigma rule compiled once at load time: its metadata, and one compiled detection
// per log-source variant (e.g. process_creation as Sysmon 1 and as Security 4688, whose field names
// differ). Evaluation reads fields through precomputed FieldKeys and never allocates.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/event.h"
#include "agent/rules/alert.h"
#include "agent/rules/literal_set.h"
#include "agent/rules/logsource_map.h"
#include "agent/rules/rule_issue.h"
#include "agent/rules/rule_limits.h"
#include "agent/rules/rule_loader.h"
#include "agent/rules/value_matcher.h"

namespace YAML {
class Node;
}

namespace t0w {

struct RuleCompileOptions {
  RuleLimits limits;
  // `expand` modifier placeholders: "%Admins%" → values.
  std::map<std::string, std::vector<std::string>> placeholders;
  // Literal prefilter (GateIndex) in front of long candidate lists. Off only to cross-check it.
  bool prefilter = true;
  // One-pass search of many `contains` literals (LiteralSet). Off only to cross-check it.
  bool literal_sets = true;
};

// How a field is read from an event.
struct FieldRef {
  std::string sigma_name;  // as the rule writes it (alerts report this name)
  FieldKey key;            // data field name after log-source mapping
  std::optional<SystemField> system;
  bool data_first = false;  // a System name that EventData may use too (Version, Level, ...)
};

// Scratch space for one evaluation; reused across events so rendering System numbers does not
// allocate.
struct EvalContext {
  std::string buf;
  std::string ref_buf;  // fieldref: the other field's value (keeps its capacity across events)
  std::vector<MatchedField>* matched = nullptr;  // set only when recording an alert's fields
};

// Calls fn(std::string_view) for each value of the field (data fields, then the System field for
// System names); returns how many values there were. No allocation.
template <typename Fn>
size_t forEachFieldValueOf(const FieldRef& f, const Event& event, EvalContext& ctx, Fn&& fn) {
  if (!f.system || f.data_first) {
    size_t n = event.forEachValue(f.key, [&](const std::string& v) { fn(std::string_view(v)); });
    if (n > 0 || !f.system) return n;
  }
  auto v = event.systemText(*f.system, ctx.buf);
  if (!v) return 0;
  fn(*v);
  return 1;
}

struct FieldCondition {
  enum class Mode : uint8_t { kValues, kKeywords, kExists, kFieldRef };
  Mode mode = Mode::kValues;
  FieldRef field;
  bool all = false;                    // `|all`: every group must match
  bool exists = true;                  // kExists: expected presence
  std::vector<ValueMatcher> matchers;  // kValues/kKeywords: OR, or AND of groups with `all`
  std::vector<uint32_t> group_ends;    // `all`: end index of each group in matchers
  FieldRef other;                      // kFieldRef
  ValueMatcher::Kind ref_kind = ValueMatcher::Kind::kExact;
  bool ref_cased = false;
  // Set (by useLiteralSets) when several matchers of a condition without `all` are
  // case-insensitive `contains` literals: those are tested in one pass over the value, the
  // matchers listed in `others` one by one.
  std::shared_ptr<const LiteralSet> literals;
  std::vector<uint32_t> others;

  bool evaluate(const Event& event, EvalContext& ctx) const;
  // Whether any matcher matches the value (not for `all`).
  bool matchesAny(std::string_view value) const;
};

struct Selection {
  std::string name;
  std::vector<std::vector<FieldCondition>> alternatives;  // OR of (AND of conditions)
  bool evaluate(const Event& event, EvalContext& ctx) const;
};

struct CondExpr {
  enum class Kind : uint8_t { kAnd, kOr, kNot, kSel };
  Kind kind = Kind::kSel;
  uint32_t sel = 0;
  std::vector<CondExpr> children;
};

class Detection {
 public:
  std::vector<Selection> selections;
  CondExpr root;
  std::vector<std::string> placeholders;  // names of the %placeholders% it expanded (sorted)
  bool evaluate(const Event& event, EvalContext& ctx) const;
  // EventIDs the detection requires when it is a conjunction containing a plain EventID
  // selection; empty when any EventID could match.
  std::vector<uint32_t> requiredEventIds() const;

 private:
  bool eval(const CondExpr& e, const Event& event, EvalContext& ctx) const;
};

struct RuleInfo {
  std::string id, name, title, status, level, description, author, file;
  std::vector<std::string> tags, falsepositives, fields;
  LogSourceSpec logsource;
};

struct RuleVariant {
  LogSourceTarget target;
  std::vector<uint32_t> event_ids;  // logsource ∩ detection; empty = any
  Detection detection;
};

struct CompiledRule {
  RuleInfo info;
  std::vector<RuleVariant> variants;
};

struct RuleCompileResult {
  std::optional<CompiledRule> rule;
  RuleIssue issue;            // when !rule
  bool out_of_scope = false;  // not a Windows rule: skipped, not an error
};

RuleCompileResult compileRule(const RuleDoc& doc, const RuleCompileOptions& options);

// Compiles just a detection block (tests, fuzzing).
Result<Detection> compileDetection(const YAML::Node& detection, const FieldMapping* fields,
                                   const RuleCompileOptions& options);

}  // namespace t0w
