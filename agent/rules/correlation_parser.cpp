// Parsing of Sigma correlation documents (YAML) into CorrelationRule; the engine that evaluates
// them is in correlation_engine.cpp.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <unordered_set>

#include "agent/rules/correlation.h"
#include "common/core/time.h"

namespace t0w {

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

}  // namespace t0w
