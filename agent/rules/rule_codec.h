// RuleCodec: what loading one rule file produced (compiled rules, rejections, out-of-scope
// rules) as bytes and back, for the rule cache (RuleCache). Regexes are compiled again and
// literal sets rebuilt when restoring; log-source field maps are looked up again by name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/rules/compiled_rule.h"
#include "agent/rules/rule_issue.h"

namespace t0w {

struct RuleOutcome {
  enum class Kind : uint8_t { kRule, kOutOfScope, kRejected };
  Kind kind = Kind::kRule;
  std::optional<CompiledRule> rule;  // kRule
  RuleIssue issue;                   // otherwise
};

void encodeRule(std::string& out, const CompiledRule& rule);
void encodeIssue(std::string& out, RuleOutcome::Kind kind, const RuleIssue& issue);
// Appends the outcomes of `bytes` to `out`; false (and `out` unchanged) when the bytes are
// damaged or do not restore (a regex that no longer compiles, an unknown log source, ...).
bool decodeOutcomes(std::string_view bytes, const RuleCompileOptions& options,
                    std::vector<RuleOutcome>& out);

}  // namespace t0w
