// Sigma condition expressions → AST. Grammar (precedence not > and > or, all left-associative):
//   expr    := and ('or' and)*
//   and     := unary ('and' unary)*
//   unary   := 'not' unary | primary
//   primary := '(' expr ')' | quant 'of' (pattern | 'them') | name
//   quant   := '1' | 'any' | 'all'
// Keywords are case-insensitive. Aggregations (`| count() ...`, Sigma v1) are rejected: Sigma v2
// expresses them as correlation rules.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/rules/rule_limits.h"
#include "common/core/result.h"

namespace t0w {

struct ConditionNode {
  enum class Kind { kAnd, kOr, kNot, kName, kOneOf, kAllOf };
  Kind kind = Kind::kName;
  std::string name;  // kName: selection name; kOneOf/kAllOf: pattern, or "them"
  std::vector<ConditionNode> children;
};

Result<ConditionNode> parseCondition(std::string_view text, const RuleLimits& limits);

// Sigma name patterns in `1 of selection_*`: '*' matches any run of characters.
bool matchNamePattern(std::string_view pattern, std::string_view name);

}  // namespace t0w
