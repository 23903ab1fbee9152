#include "agent/rules/correlation.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <functional>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "agent/core/field_key.h"
#include "common/core/time.h"

namespace t0w {

// ---------------------------------------------------------------------------------------------
// Model

const char* correlationTypeName(CorrelationType type) {
  switch (type) {
    case CorrelationType::kEventCount:
      return "event_count";
    case CorrelationType::kValueCount:
      return "value_count";
    case CorrelationType::kTemporal:
      return "temporal";
    case CorrelationType::kTemporalOrdered:
      return "temporal_ordered";
  }
  return "?";
}

bool CorrelationCondition::holds(uint64_t count) const {
  if (gt && !(count > *gt)) return false;
  if (gte && !(count >= *gte)) return false;
  if (lt && !(count < *lt)) return false;
  if (lte && !(count <= *lte)) return false;
  if (eq && count != *eq) return false;
  return true;
}

std::optional<uint64_t> CorrelationCondition::upperBound() const {
  std::optional<uint64_t> bound;
  auto tighten = [&bound](uint64_t v) {
    if (!bound || v < *bound) bound = v;
  };
  if (lt) tighten(*lt == 0 ? 0 : *lt - 1);
  if (lte) tighten(*lte);
  if (eq) tighten(*eq);
  return bound;
}

std::string CorrelationCondition::toString() const {
  std::string out;
  auto add = [&out](const char* op, const std::optional<uint64_t>& v) {
    if (!v) return;
    if (!out.empty()) out += " and ";
    out += op;
    out += ' ';
    out += std::to_string(*v);
  };
  add("gt", gt);
  add("gte", gte);
  add("lt", lt);
  add("lte", lte);
  add("eq", eq);
  return out;
}

const std::string& CorrelationRule::alertId() const {
  if (!id.empty()) return id;
  if (!name.empty()) return name;
  return title;
}

uint64_t CorrelationStats::groupsEvicted() const {
  uint64_t n = 0;
  for (const auto& r : rules) n += r.groups_evicted;
  return n;
}

uint64_t CorrelationStats::eventsEvicted() const {
  uint64_t n = 0;
  for (const auto& r : rules) n += r.events_evicted;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Parsing

Result<int64_t> parseTimespan(std::string_view text) {
  const std::string quoted = "timespan '" + std::string(text) + "'";
  if (text.size() < 2) {
    return makeError(Errc::kParse, quoted + ": expected a number and a unit (s, m, h or d)");
  }
  int64_t unit_seconds = 0;
  switch (text.back()) {
    case 's':
      unit_seconds = 1;
      break;
    case 'm':
      unit_seconds = 60;
      break;
    case 'h':
      unit_seconds = 3600;
      break;
    case 'd':
      unit_seconds = 86400;
      break;
    default:
      return makeError(Errc::kParse, quoted + ": unit must be s, m, h or d (lowercase)");
  }
  std::string_view digits = text.substr(0, text.size() - 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return makeError(Errc::kParse, quoted + ": expected a whole number before the unit");
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  const uint64_t max_n =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / (unit_seconds * kTicksPerSecond));
  if (ec != std::errc() || end != digits.data() + digits.size() || n > max_n) {
    return makeError(Errc::kParse, quoted + ": number out of range");
  }
  if (n == 0) return makeError(Errc::kParse, quoted + ": must be greater than zero");
  return static_cast<int64_t>(n) * unit_seconds * kTicksPerSecond;
}

namespace {

const char* const kLevels[] = {"informational", "low", "medium", "high", "critical"};

// Reads a scalar or a sequence of scalars; false when the node is anything else.
bool readStringList(const YAML::Node& node, std::vector<std::string>& out) {
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
    return true;
  }
  if (!node.IsSequence()) return false;
  for (const auto& item : node) {
    if (!item.IsScalar()) return false;
    out.push_back(item.Scalar());
  }
  return true;
}

bool hasDuplicate(const std::vector<std::string>& values, std::string* dup) {
  std::unordered_set<std::string> seen;
  for (const auto& v : values) {
    if (!seen.insert(v).second) {
      *dup = v;
      return true;
    }
  }
  return false;
}

std::optional<uint64_t> readCount(const YAML::Node& node) {
  if (!node.IsScalar()) return std::nullopt;
  const std::string& s = node.Scalar();
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<bool> readBool(const YAML::Node& node) {
  if (!node.IsScalar()) return std::nullopt;
  const std::string& s = node.Scalar();
  if (s == "true" || s == "True" || s == "TRUE" || s == "yes") return true;
  if (s == "false" || s == "False" || s == "FALSE" || s == "no") return false;
  return std::nullopt;
}

class Parser {
 public:
  Parser(const YAML::Node& doc, const std::string& file) : doc_(doc), file_(file) {}

  Result<CorrelationRule> parse() {
    if (!doc_.IsMap()) return fail("document is not a YAML mapping");
    CorrelationRule rule;
    rule.file = file_;
    // Identify the rule first so that every later error names it.
    if (auto s = optionalScalar("id", rule.id); !s) return s.error();
    if (auto s = optionalScalar("name", rule.name); !s) return s.error();
    const YAML::Node title = doc_["title"];
    if (title && title.IsScalar()) rule.title = title.Scalar();
    who_ = rule.alertId();
    if (!title) return fail("missing 'title'");
    if (!title.IsScalar() || rule.title.empty()) return fail("'title' must be a non-empty string");

    if (auto s = optionalScalar("status", rule.status); !s) return s.error();
    if (auto s = optionalScalar("description", rule.description); !s) return s.error();
    if (const YAML::Node level = doc_["level"]) {
      if (!level.IsScalar()) return fail("'level' must be a string");
      rule.level = level.Scalar();
      if (std::find(std::begin(kLevels), std::end(kLevels), rule.level) == std::end(kLevels)) {
        return fail("unknown level '" + rule.level +
                    "' (expected informational, low, medium, high or critical)");
      }
    }
    if (const YAML::Node tags = doc_["tags"]) {
      if (!tags.IsSequence() || !readStringList(tags, rule.tags)) {
        return fail("'tags' must be a list of strings");
      }
    }
    if (const YAML::Node generate = doc_["generate"]) {
      auto b = readBool(generate);
      if (!b) return fail("'generate' must be true or false");
      rule.generate = *b;
    }
    if (doc_["detection"]) return fail("has both 'correlation' and 'detection'");

    const YAML::Node corr = doc_["correlation"];
    if (!corr) return fail("missing 'correlation'");
    if (!corr.IsMap()) return fail("'correlation' must be a mapping");
    if (auto s = parseCorrelation(corr, rule); !s) return s.error();
    return rule;
  }

 private:
  Error fail(const std::string& problem) const {
    std::string msg = file_ + ": correlation";
    if (!who_.empty()) msg += " '" + who_ + "'";
    return makeError(Errc::kParse, msg + ": " + problem);
  }

  Status optionalScalar(const char* key, std::string& out) {
    const YAML::Node node = doc_[key];
    if (!node) return {};
    if (!node.IsScalar()) return fail(std::string("'") + key + "' must be a string");
    out = node.Scalar();
    return {};
  }

  Status parseCorrelation(const YAML::Node& corr, CorrelationRule& rule) {
    static const char* const kKeys[] = {"type",      "rules",   "group-by", "timespan",
                                        "condition", "aliases", "generate", "field"};
    for (const auto& kv : corr) {
      const std::string key = kv.first.Scalar();
      if (std::find_if(std::begin(kKeys), std::end(kKeys),
                       [&key](const char* k) { return key == k; }) == std::end(kKeys)) {
        return fail("unknown key '" + key + "' in 'correlation'");
      }
    }

    const YAML::Node type = corr["type"];
    if (!type) return fail("missing 'correlation.type'");
    const std::string type_text = type.IsScalar() ? type.Scalar() : std::string("<not a string>");
    if (type_text == "event_count") {
      rule.type = CorrelationType::kEventCount;
    } else if (type_text == "value_count") {
      rule.type = CorrelationType::kValueCount;
    } else if (type_text == "temporal") {
      rule.type = CorrelationType::kTemporal;
    } else if (type_text == "temporal_ordered") {
      rule.type = CorrelationType::kTemporalOrdered;
    } else {
      return fail("unknown correlation type '" + type_text +
                  "' (expected event_count, value_count, temporal or temporal_ordered)");
    }
    const bool temporal =
        rule.type == CorrelationType::kTemporal || rule.type == CorrelationType::kTemporalOrdered;

    const YAML::Node rules = corr["rules"];
    if (!rules) return fail("missing 'correlation.rules'");
    if (!readStringList(rules, rule.rules) || rule.rules.empty()) {
      return fail("'correlation.rules' must be a non-empty list of rule ids or names");
    }
    std::string dup;
    for (const auto& r : rule.rules) {
      if (r.empty()) return fail("'correlation.rules' has an empty entry");
    }
    if (hasDuplicate(rule.rules, &dup)) {
      return fail("'correlation.rules' lists '" + dup + "' twice");
    }
    if (temporal && rule.rules.size() < 2) {
      return fail(std::string(correlationTypeName(rule.type)) + " needs at least two rules");
    }

    if (const YAML::Node group_by = corr["group-by"]) {
      if (!readStringList(group_by, rule.group_by)) {
        return fail("'correlation.group-by' must be a list of field names");
      }
      for (const auto& g : rule.group_by) {
        if (g.empty()) return fail("'correlation.group-by' has an empty field name");
      }
      if (hasDuplicate(rule.group_by, &dup)) {
        return fail("'correlation.group-by' lists '" + dup + "' twice");
      }
    }

    const YAML::Node timespan = corr["timespan"];
    if (!timespan) return fail("missing 'correlation.timespan'");
    rule.timespan_text = timespan.IsScalar() ? timespan.Scalar() : std::string("<not a string>");
    auto ticks = parseTimespan(rule.timespan_text);
    if (!ticks) return fail(ticks.error().message);
    rule.timespan = *ticks;

    if (const YAML::Node aliases = corr["aliases"]) {
      if (!aliases.IsMap()) return fail("'correlation.aliases' must be a mapping");
      for (const auto& alias : aliases) {
        const std::string alias_name = alias.first.Scalar();
        if (!alias.second.IsMap() || alias.second.size() == 0) {
          return fail("alias '" + alias_name + "' must map rule names to field names");
        }
        auto& mapping = rule.aliases[alias_name];
        for (const auto& m : alias.second) {
          if (!m.second.IsScalar() || m.second.Scalar().empty()) {
            return fail("alias '" + alias_name + "' for rule '" + m.first.Scalar() +
                        "' must be a field name");
          }
          mapping[m.first.Scalar()] = m.second.Scalar();
        }
      }
    }

    const YAML::Node condition = corr["condition"];
    if (condition) {
      if (auto s = parseCondition(condition, rule); !s) return s;
    } else if (!temporal) {
      return fail("missing 'correlation.condition' (required for " +
                  std::string(correlationTypeName(rule.type)) + ")");
    }
    if (const YAML::Node field = corr["field"]) {
      // Drafts of the specification put `field` beside `condition`; accept it there too.
      if (!rule.value_fields.empty()) return fail("'field' given twice");
      if (!readStringList(field, rule.value_fields)) {
        return fail("'field' must be a field name or a list of field names");
      }
    }
    if (rule.type == CorrelationType::kValueCount) {
      if (rule.value_fields.empty()) return fail("value_count needs 'condition.field'");
      for (const auto& f : rule.value_fields) {
        if (f.empty()) return fail("'condition.field' has an empty field name");
      }
    } else if (!rule.value_fields.empty()) {
      return fail("'field' is only allowed for value_count");
    }

    if (const YAML::Node generate = corr["generate"]) {
      auto b = readBool(generate);
      if (!b) return fail("'correlation.generate' must be true or false");
      rule.generate = rule.generate || *b;
    }
    return {};
  }

  Status parseCondition(const YAML::Node& node, CorrelationRule& rule) {
    if (!node.IsMap()) {
      return fail("'correlation.condition' must be a mapping such as {gte: 10}");
    }
    CorrelationCondition& c = rule.condition;
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (key == "field") {
        if (!readStringList(kv.second, rule.value_fields) || rule.value_fields.empty()) {
          return fail("'condition.field' must be a field name or a list of field names");
        }
        continue;
      }
      std::optional<uint64_t>* slot = key == "gt"    ? &c.gt
                                      : key == "gte" ? &c.gte
                                      : key == "lt"  ? &c.lt
                                      : key == "lte" ? &c.lte
                                      : key == "eq"  ? &c.eq
                                                     : nullptr;
      if (!slot) {
        return fail("unknown condition operator '" + key + "' (expected gt, gte, lt, lte, eq" +
                    (rule.type == CorrelationType::kValueCount ? ", field)" : ")"));
      }
      auto v = readCount(kv.second);
      if (!v) {
        return fail("condition '" + key + "' must be a non-negative whole number, got '" +
                    (kv.second.IsScalar() ? kv.second.Scalar() : std::string("<not a number>")) +
                    "'");
      }
      *slot = *v;
    }
    if (c.empty()) return fail("'correlation.condition' has no gt, gte, lt, lte or eq");

    // Reject conditions no count can satisfy, which would silently never alert.
    uint64_t low = 0;
    bool impossible = false;
    if (c.gt) {
      if (*c.gt == std::numeric_limits<uint64_t>::max()) impossible = true;
      low = std::max(low, *c.gt + 1);
    }
    if (c.gte) low = std::max(low, *c.gte);
    if (c.eq) low = std::max(low, *c.eq);
    const auto high = c.upperBound();
    if (c.lt && *c.lt == 0) impossible = true;
    if (impossible || (high && low > *high) || !c.holds(low)) {
      return fail("condition '" + c.toString() + "' can never hold");
    }
    const bool temporal =
        rule.type == CorrelationType::kTemporal || rule.type == CorrelationType::kTemporalOrdered;
    if (temporal && low > rule.rules.size()) {
      return fail("condition '" + c.toString() +
                  "' can never hold: " + correlationTypeName(rule.type) + " counts at most " +
                  std::to_string(rule.rules.size()) + " rules");
    }
    return {};
  }

  const YAML::Node& doc_;
  const std::string& file_;
  std::string who_;
};

}  // namespace

Result<CorrelationRule> parseCorrelationRule(const YAML::Node& doc, const std::string& file) {
  try {
    return Parser(doc, file).parse();
  } catch (const YAML::Exception& e) {
    return makeError(Errc::kParse, file + ": correlation: invalid YAML: " + e.what());
  } catch (const std::exception& e) {
    return makeError(Errc::kParse, file + ": correlation: " + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Engine

namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

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
  Entry last;                       // newest event of the window
  std::deque<Entry> entries;        // event_count, value_count
  std::unordered_map<std::string, uint32_t> value_counts;  // value_count
  std::vector<std::optional<Entry>> latest;                // temporal: newest per rule
  std::vector<std::optional<Chain>> best;  // temporal_ordered: best[k] matches rules[0..k]
};

// A group-by or value field as seen in the events of one entry of `rules:`.
struct FieldRef {
  FieldKey key;
  std::optional<SystemField> system;
  // Alias not resolvable from the ref as written (e.g. the alias names the rule by `name` but
  // `rules:` lists its id): resolved per match from the matched rule's id and name.
  const std::map<std::string, std::string>* pending_alias = nullptr;
};

FieldRef makeFieldRef(const std::string& field) {
  FieldRef f;
  f.key = FieldKey(field);
  f.system = systemFieldByName(field);
  return f;
}

std::optional<std::string> lookupField(const Event& event, const FieldKey& key,
                                       const std::optional<SystemField>& system) {
  if (const std::string* v = event.find(key)) return *v;
  if (system) {
    std::string buf;
    if (auto text = event.systemText(*system, buf)) return std::string(*text);
  }
  return std::nullopt;
}

void appendEncoded(std::string& out, std::string_view value) {
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
  std::set<std::pair<int64_t, std::string>> expiry;  // (time the window ends, group key)
  CorrelationRuleStats stats;
};

}  // namespace

class CorrelationEngine::Impl {
 public:
  Impl(std::vector<CorrelationRule> rules, CorrelationLimits limits) : limits_(limits) {
    limits_.max_groups_per_rule = std::max<size_t>(1, limits_.max_groups_per_rule);
    limits_.max_events_per_group = std::max<size_t>(1, limits_.max_events_per_group);
    rules_ = std::move(rules);
    states_.resize(rules_.size());
    for (size_t i = 0; i < rules_.size(); ++i) initState(i);
    buildReferences();
    buildOrder();
  }

  const std::vector<CorrelationRule>& rules() const { return rules_; }
  const std::vector<CorrelationReference>& references() const { return references_; }

  const CorrelationReference* findReference(std::string_view ref) const {
    if (ref.empty()) return nullptr;
    auto it = reference_index_.find(ref);
    return it == reference_index_.end() ? nullptr : &references_[it->second];
  }

  Status validate() const {
    // Depth-first search over "correlation A lists correlation B"; a back edge is a cycle.
    std::vector<int> color(states_.size(), 0);
    std::vector<size_t> path;
    std::string cycle;
    std::function<bool(size_t)> visit = [&](size_t i) {
      color[i] = 1;
      path.push_back(i);
      for (size_t j : edges_[i]) {
        if (color[j] == 1) {
          auto from = std::find(path.begin(), path.end(), j);
          for (auto it = from; it != path.end(); ++it) cycle += rules_[*it].alertId() + " -> ";
          cycle += rules_[j].alertId();
          return true;
        }
        if (color[j] == 0 && visit(j)) return true;
      }
      path.pop_back();
      color[i] = 2;
      return false;
    };
    for (size_t i = 0; i < states_.size(); ++i) {
      if (color[i] == 0 && visit(i)) {
        return makeError(Errc::kInvalidArgument,
                         "correlations refer to each other in a cycle: " + cycle);
      }
    }
    return {};
  }

  void onRuleMatch(std::string_view rule_id, std::string_view rule_name,
                   const std::shared_ptr<const Event>& event, AlertSink& out) {
    if (!event) {
      ++null_events_;
      return;
    }
    int64_t t = 0;
    if (event->system.time_created) {
      t = *event->system.time_created;
      if (watermark_ && t < *watermark_) {
        ++clamped_events_;
        t = *watermark_;
      } else {
        advanceTo(t, out);
      }
    } else {
      ++untimed_events_;
      t = watermark_.value_or(0);
    }
    dispatch(rule_id, rule_name, event, t, nullptr, out, 0);
  }

  void advanceTo(int64_t t, AlertSink& out) {
    if (watermark_ && t <= *watermark_) return;
    watermark_ = t;
    // Called for every event: nothing can have ended before the earliest window end.
    if (t <= next_expiry_) return;
    // Recomputed exactly below; windows opened by alerts raised meanwhile lower it again.
    next_expiry_ = std::numeric_limits<int64_t>::max();
    int64_t next = std::numeric_limits<int64_t>::max();
    for (size_t i : order_) {
      RuleState& rs = states_[i];
      while (!rs.expiry.empty() && rs.expiry.begin()->first < t) {
        Group g = takeGroup(rs, rs.expiry.begin()->second);
        if (rs.tumbling) decideWindow(i, std::move(g), out, 0);
      }
      if (!rs.expiry.empty()) next = std::min(next, rs.expiry.begin()->first);
    }
    next_expiry_ = std::min(next_expiry_, next);
  }

  void flush(AlertSink& out) {
    // Inner correlations first, so that their alerts reach outer windows before those close.
    for (size_t i : order_) {
      RuleState& rs = states_[i];
      while (!rs.expiry.empty()) {
        Group g = takeGroup(rs, rs.expiry.begin()->second);
        if (rs.tumbling) decideWindow(i, std::move(g), out, 0);
      }
    }
    clearGroups();
  }

  void reset() {
    clearGroups();
    watermark_.reset();
  }

  CorrelationStats stats() const {
    CorrelationStats s;
    for (const auto& rs : states_) {
      s.rules.push_back(rs.stats);
      s.rules.back().active_groups = rs.groups.size();
    }
    s.alerts_emitted = alerts_emitted_;
    s.untimed_events = untimed_events_;
    s.clamped_events = clamped_events_;
    s.cycle_drops = cycle_drops_;
    s.null_events = null_events_;
    return s;
  }

  std::optional<int64_t> eventTime() const { return watermark_; }

 private:
  using Targets = std::vector<std::pair<size_t, uint32_t>>;  // (state, index in `rules:`)

  void initState(size_t i) {
    RuleState& rs = states_[i];
    rs.rule = rules_[i];
    rs.stats.id = rs.rule.alertId();
    const size_t n = rs.rule.rules.size();
    const bool temporal = rs.rule.type == CorrelationType::kTemporal ||
                          rs.rule.type == CorrelationType::kTemporalOrdered;
    rs.condition = rs.rule.condition;
    if (temporal && rs.condition.empty()) rs.condition.gte = n;
    // An upper bound makes the condition non-monotone, so it is decided when the window closes;
    // for temporal types a bound at or above the number of rules can never be exceeded.
    const auto upper = rs.condition.upperBound();
    rs.tumbling = upper && !(temporal && *upper >= n);

    auto resolve = [&rs](const std::string& name, const std::string& ref) {
      auto alias = rs.rule.aliases.find(name);
      if (alias == rs.rule.aliases.end()) return makeFieldRef(name);
      auto field = alias->second.find(ref);
      if (field != alias->second.end()) return makeFieldRef(field->second);
      FieldRef f = makeFieldRef(name);
      f.pending_alias = &alias->second;
      return f;
    };
    rs.group_fields.resize(n);
    rs.value_fields.resize(n);
    for (size_t r = 0; r < n; ++r) {
      for (const auto& g : rs.rule.group_by)
        rs.group_fields[r].push_back(resolve(g, rs.rule.rules[r]));
      for (const auto& v : rs.rule.value_fields) {
        rs.value_fields[r].push_back(resolve(v, rs.rule.rules[r]));
      }
      targets_[rs.rule.rules[r]].emplace_back(i, static_cast<uint32_t>(r));
    }
  }

  void buildReferences() {
    for (const auto& rule : rules_) {
      for (const auto& ref : rule.rules) {
        auto [it, inserted] = reference_index_.try_emplace(ref, references_.size());
        if (inserted) references_.push_back(CorrelationReference{ref, {}, false, false});
        CorrelationReference& r = references_[it->second];
        r.referenced_by.push_back(rule.alertId());
        r.generate = r.generate || rule.generate;
      }
    }
    edges_.resize(states_.size());
    for (size_t i = 0; i < states_.size(); ++i) {
      const CorrelationRule& inner = rules_[i];
      const CorrelationReference* by_id = findReference(inner.id);
      const CorrelationReference* by_name = findReference(inner.name);
      for (std::string_view ref : {std::string_view(inner.id), std::string_view(inner.name)}) {
        auto it = ref.empty() ? reference_index_.end() : reference_index_.find(ref);
        if (it != reference_index_.end()) references_[it->second].is_correlation = true;
      }
      // An inner correlation alerts on its own only if an outer one asks for it.
      if (by_id || by_name) {
        states_[i].emit = (by_id && by_id->generate) || (by_name && by_name->generate);
      }
      for (size_t j = 0; j < states_.size(); ++j) {
        const auto& outer_rules = rules_[j].rules;
        const bool lists =
            std::any_of(outer_rules.begin(), outer_rules.end(), [&inner](const std::string& r) {
              return (!inner.id.empty() && r == inner.id) ||
                     (!inner.name.empty() && r == inner.name);
            });
        if (lists) edges_[j].push_back(i);
      }
    }
  }

  // Post-order over "outer lists inner": inner correlations come before the ones that name them.
  void buildOrder() {
    std::vector<bool> seen(states_.size(), false);
    std::function<void(size_t)> visit = [&](size_t i) {
      seen[i] = true;
      for (size_t j : edges_[i]) {
        if (!seen[j]) visit(j);
      }
      order_.push_back(i);
    };
    for (size_t i = 0; i < states_.size(); ++i) {
      if (!seen[i]) visit(i);
    }
  }

  void clearGroups() {
    for (auto& rs : states_) {
      rs.groups.clear();
      rs.expiry.clear();
    }
  }

  Group takeGroup(RuleState& rs, const std::string& key_ref) {
    const std::string key = key_ref;  // key_ref may live in the set entry erased below
    auto it = rs.groups.find(key);
    Group g = std::move(it->second);
    rs.groups.erase(it);
    rs.expiry.erase({g.expiry, key});
    return g;
  }

  void dispatch(std::string_view rule_id, std::string_view rule_name,
                const std::shared_ptr<const Event>& event, int64_t t,
                const std::shared_ptr<const Contribution>& chained, AlertSink& out, size_t depth) {
    if (depth > states_.size()) {
      ++cycle_drops_;
      return;
    }
    Targets targets;
    for (std::string_view ref : {rule_id, rule_name}) {
      if (ref.empty()) continue;
      auto it = targets_.find(ref);
      if (it == targets_.end()) continue;
      for (const auto& target : it->second) {
        // A correlation listing both the id and the name of one rule counts the match once.
        const bool dup = std::any_of(targets.begin(), targets.end(),
                                     [&](const auto& t2) { return t2.first == target.first; });
        if (!dup) targets.push_back(target);
      }
    }
    for (const auto& [state, index] : targets) {
      process(state, index, rule_id, rule_name, event, t, chained, out, depth);
    }
  }

  std::optional<std::string> fieldValue(const FieldRef& f, const Event& event,
                                        std::string_view rule_id, std::string_view rule_name) {
    if (!f.pending_alias) return lookupField(event, f.key, f.system);
    for (std::string_view ref : {rule_name, rule_id}) {
      if (ref.empty()) continue;
      auto it = f.pending_alias->find(std::string(ref));
      if (it != f.pending_alias->end()) {
        return lookupField(event, FieldKey(it->second), systemFieldByName(it->second));
      }
    }
    return lookupField(event, f.key, f.system);
  }

  void process(size_t state, uint32_t index, std::string_view rule_id, std::string_view rule_name,
               const std::shared_ptr<const Event>& event, int64_t t,
               const std::shared_ptr<const Contribution>& chained, AlertSink& out, size_t depth) {
    RuleState& rs = states_[state];
    ++rs.stats.matches;
    const CorrelationType type = rs.rule.type;

    std::vector<std::string> values;
    values.reserve(rs.group_fields[index].size());
    for (const auto& f : rs.group_fields[index]) {
      auto v = fieldValue(f, *event, rule_id, rule_name);
      if (!v) {
        ++rs.stats.missing_group_field;
        return;
      }
      values.push_back(std::move(*v));
    }
    std::string counted;
    if (type == CorrelationType::kValueCount) {
      for (const auto& f : rs.value_fields[index]) {
        auto v = fieldValue(f, *event, rule_id, rule_name);
        if (!v) {
          ++rs.stats.missing_value_field;
          return;
        }
        appendEncoded(counted, *v);
      }
    }
    std::string key;
    for (const auto& v : values) appendEncoded(key, v);
    const int64_t span = rs.rule.timespan;

    auto it = rs.groups.find(key);
    if (it != rs.groups.end() && rs.tumbling && t > satAdd(it->second.window_start, span)) {
      // The group's window ended before this match (a chained alert arriving while windows are
      // being closed): decide it before opening the next one.
      decideWindow(state, takeGroup(rs, key), out, depth);
      it = rs.groups.find(key);
    }
    if (it == rs.groups.end()) {
      if (rs.groups.size() >= limits_.max_groups_per_rule && !rs.expiry.empty()) {
        // The group whose window ends first is the oldest.
        takeGroup(rs, rs.expiry.begin()->second);
        ++rs.stats.groups_evicted;
      }
      Group g;
      g.values = std::move(values);
      g.window_start = t;
      if (type == CorrelationType::kTemporal) g.latest.resize(rs.rule.rules.size());
      if (type == CorrelationType::kTemporalOrdered) g.best.resize(rs.rule.rules.size());
      it = rs.groups.emplace(key, std::move(g)).first;
    } else {
      rs.expiry.erase({it->second.expiry, key});
    }
    Group& g = it->second;
    const int64_t window_low = t - span;  // sliding window [t - span, t]

    Entry e{t, event, index, std::move(counted), chained};
    g.last = e;
    switch (type) {
      case CorrelationType::kEventCount:
      case CorrelationType::kValueCount: {
        if (!rs.tumbling) pruneBefore(rs, g, window_low);
        // One event matched by several of the correlation's rules counts once.
        if (!g.entries.empty() && g.entries.back().event == event) break;
        if (g.entries.size() >= limits_.max_events_per_group) {
          popFront(rs, g);
          ++rs.stats.events_evicted;
        }
        if (type == CorrelationType::kValueCount) ++g.value_counts[e.value];
        g.entries.push_back(std::move(e));
        break;
      }
      case CorrelationType::kTemporal:
        g.latest[index] = std::move(e);
        break;
      case CorrelationType::kTemporalOrdered: {
        if (index == 0) {
          g.best[0] = Chain{t, {std::move(e)}};
          break;
        }
        const auto& prev = g.best[index - 1];
        // The previous step must be an earlier event, and (sliding) still inside the window.
        if (!prev || prev->entries.back().event == event) break;
        if (!rs.tumbling && prev->start < window_low) break;
        Chain c = *prev;
        c.entries.push_back(std::move(e));
        // Prefer the chain that started latest: it stays inside sliding windows longest.
        if (!g.best[index] || c.start >= g.best[index]->start) g.best[index] = std::move(c);
        break;
      }
    }

    if (rs.tumbling) {
      g.expiry = satAdd(g.window_start, span);
    } else {
      if (rs.condition.holds(count(rs, g, window_low))) {
        Alert alert = buildAlert(rs, g, window_low, g.last);
        takeGroupNoExpiry(rs, key);
        raise(state, std::move(alert), out, depth);
        return;
      }
      g.expiry = satAdd(t, span);
    }
    rs.expiry.emplace(g.expiry, key);
    next_expiry_ = std::min(next_expiry_, g.expiry);
  }

  static int64_t satAdd(int64_t a, int64_t b) {
    return a > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max()
                                                       : a + b;
  }

  void takeGroupNoExpiry(RuleState& rs, const std::string& key) { rs.groups.erase(key); }

  void popFront(RuleState& rs, Group& g) {
    if (rs.rule.type == CorrelationType::kValueCount) {
      auto v = g.value_counts.find(g.entries.front().value);
      if (v != g.value_counts.end() && --v->second == 0) g.value_counts.erase(v);
    }
    g.entries.pop_front();
  }

  void pruneBefore(RuleState& rs, Group& g, int64_t low) {
    while (!g.entries.empty() && g.entries.front().time < low) popFront(rs, g);
  }

  // The count the condition applies to. For tumbling windows every held entry is in the window.
  uint64_t count(const RuleState& rs, const Group& g, int64_t window_low) const {
    auto inWindow = [&](int64_t time) { return rs.tumbling || time >= window_low; };
    switch (rs.rule.type) {
      case CorrelationType::kEventCount:
        return g.entries.size();
      case CorrelationType::kValueCount:
        return g.value_counts.size();
      case CorrelationType::kTemporal:
        return std::count_if(g.latest.begin(), g.latest.end(),
                             [&](const auto& e) { return e && inWindow(e->time); });
      case CorrelationType::kTemporalOrdered: {
        uint64_t best = 0;
        for (size_t k = 0; k < g.best.size(); ++k) {
          if (g.best[k] && inWindow(g.best[k]->start)) best = k + 1;
        }
        return best;
      }
    }
    return 0;
  }

  // The events that satisfied the condition: the window's events for counts, the witnesses for
  // temporal types (the newest event of each rule; the in-order chain).
  std::vector<const Entry*> contributors(const RuleState& rs, const Group& g,
                                         int64_t window_low) const {
    std::vector<const Entry*> out;
    auto inWindow = [&](int64_t time) { return rs.tumbling || time >= window_low; };
    switch (rs.rule.type) {
      case CorrelationType::kEventCount:
      case CorrelationType::kValueCount:
        for (const auto& e : g.entries) out.push_back(&e);
        break;
      case CorrelationType::kTemporal:
        for (const auto& e : g.latest) {
          if (e && inWindow(e->time)) out.push_back(&*e);
        }
        std::stable_sort(out.begin(), out.end(),
                         [](const Entry* a, const Entry* b) { return a->time < b->time; });
        break;
      case CorrelationType::kTemporalOrdered: {
        const Chain* chain = nullptr;
        for (const auto& c : g.best) {
          if (c && inWindow(c->start)) chain = &*c;
        }
        if (chain) {
          for (const auto& e : chain->entries) out.push_back(&e);
        }
        break;
      }
    }
    // A window decided on a count of zero (e.g. lt on temporal_ordered) still names its event.
    if (out.empty() && g.last.event) out.push_back(&g.last);
    return out;
  }

  Alert buildAlert(const RuleState& rs, const Group& g, int64_t window_low,
                   const Entry& completing) const {
    Alert a;
    const CorrelationRule& rule = rs.rule;
    a.rule_id = rule.alertId();
    a.rule_title = rule.title;
    a.level = rule.level;
    a.tags = rule.tags;
    a.rule_file = rule.file;
    if (watermark_) a.time = completing.time;
    a.event = completing.event;
    a.correlation_type = correlationTypeName(rule.type);
    for (size_t i = 0; i < rule.group_by.size() && i < g.values.size(); ++i) {
      a.group_by.push_back(MatchedField{rule.group_by[i], g.values[i]});
    }
    std::unordered_set<std::string> seen_keys;
    std::unordered_set<std::string> seen_rules;
    auto addKey = [&](std::string k) {
      if (seen_keys.insert(k).second) a.contributing_keys.push_back(std::move(k));
    };
    auto addRule = [&](const std::string& r) {
      if (seen_rules.insert(r).second) a.contributing_rules.push_back(r);
    };
    for (const Entry* e : contributors(rs, g, window_low)) {
      addRule(rule.rules[e->rule_index]);
      if (e->chained) {
        for (const auto& k : e->chained->keys) addKey(k);
        for (const auto& r : e->chained->rules) addRule(r);
      } else {
        addKey(eventKey(*e->event));
      }
    }
    return a;
  }

  void decideWindow(size_t state, Group g, AlertSink& out, size_t depth) {
    RuleState& rs = states_[state];
    if (!rs.condition.holds(count(rs, g, 0))) return;
    raise(state, buildAlert(rs, g, 0, g.last), out, depth);
  }

  // Emits the alert (unless an outer correlation consumes it silently) and feeds it to the
  // correlations that name this one.
  void raise(size_t state, Alert alert, AlertSink& out, size_t depth) {
    RuleState& rs = states_[state];
    ++rs.stats.alerts;
    const std::string id = rs.rule.id;
    const std::string name = rs.rule.name;
    const bool chained = findReference(id) || findReference(name);
    std::shared_ptr<const Event> event = alert.event;
    int64_t t = alert.time.value_or(0);
    if (watermark_) t = std::max(t, *watermark_);
    std::shared_ptr<const Contribution> contribution;
    if (chained) {
      contribution = std::make_shared<Contribution>(
          Contribution{alert.contributing_keys, alert.contributing_rules});
    }
    if (rs.emit) {
      ++alerts_emitted_;
      out.onAlert(std::move(alert));
    }
    if (chained) dispatch(id, name, event, t, contribution, out, depth + 1);
  }

  CorrelationLimits limits_;
  std::vector<CorrelationRule> rules_;
  std::vector<RuleState> states_;
  std::unordered_map<std::string, Targets, StringHash, std::equal_to<>> targets_;
  std::vector<CorrelationReference> references_;
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> reference_index_;
  std::vector<std::vector<size_t>> edges_;  // edges_[outer] = inner correlations it lists
  std::vector<size_t> order_;               // inner correlations before outer ones
  std::optional<int64_t> watermark_;
  // At most the earliest window end of all rules (a lower bound: removals do not raise it).
  int64_t next_expiry_ = std::numeric_limits<int64_t>::max();
  uint64_t alerts_emitted_ = 0;
  uint64_t untimed_events_ = 0;
  uint64_t clamped_events_ = 0;
  uint64_t cycle_drops_ = 0;
  uint64_t null_events_ = 0;
};

CorrelationEngine::CorrelationEngine(std::vector<CorrelationRule> rules, CorrelationLimits limits)
    : impl_(std::make_unique<Impl>(std::move(rules), limits)) {}
CorrelationEngine::~CorrelationEngine() = default;
CorrelationEngine::CorrelationEngine(CorrelationEngine&&) noexcept = default;
CorrelationEngine& CorrelationEngine::operator=(CorrelationEngine&&) noexcept = default;

const std::vector<CorrelationRule>& CorrelationEngine::rules() const { return impl_->rules(); }

const std::vector<CorrelationReference>& CorrelationEngine::references() const {
  return impl_->references();
}

bool CorrelationEngine::isReferenced(std::string_view rule_id, std::string_view rule_name) const {
  return impl_->findReference(rule_id) || impl_->findReference(rule_name);
}

bool CorrelationEngine::suppressesStandalone(std::string_view rule_id,
                                             std::string_view rule_name) const {
  const CorrelationReference* by_id = impl_->findReference(rule_id);
  const CorrelationReference* by_name = impl_->findReference(rule_name);
  if (!by_id && !by_name) return false;
  return !((by_id && by_id->generate) || (by_name && by_name->generate));
}

Status CorrelationEngine::validate() const { return impl_->validate(); }

void CorrelationEngine::onRuleMatch(std::string_view rule_id, std::string_view rule_name,
                                    const std::shared_ptr<const Event>& event, AlertSink& out) {
  impl_->onRuleMatch(rule_id, rule_name, event, out);
}

void CorrelationEngine::advanceTo(int64_t event_time, AlertSink& out) {
  impl_->advanceTo(event_time, out);
}

void CorrelationEngine::flush(AlertSink& out) { impl_->flush(out); }

void CorrelationEngine::reset() { impl_->reset(); }

CorrelationStats CorrelationEngine::stats() const { return impl_->stats(); }

std::optional<int64_t> CorrelationEngine::eventTime() const { return impl_->eventTime(); }

}  // namespace t0w
