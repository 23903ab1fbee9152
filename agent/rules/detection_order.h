// Evaluation order of a compiled detection: AND/OR short-circuit, so cheap tests go first (an
// `Image|endswith` before a list of `CommandLine|contains`, those before regexes and keyword
// scans). Order never changes the result, only how soon a non-matching event is rejected.
#pragma once

#include "agent/rules/compiled_rule.h"

namespace t0w {

// Reorders the conditions of every selection and the operands of every AND/OR by cost.
void orderDetectionByCost(Detection& d);

// Gives conditions without `all` that test several case-insensitive `contains` literals (keyword
// lists, long `|contains` lists) a LiteralSet, so that a value is searched once for all of them.
void useLiteralSets(Detection& d);

}  // namespace t0w
