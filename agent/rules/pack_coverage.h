// What a rule pack covers, from its rules' tags: each catalog row (tier0watch.guide.<row> or
// tier0watch.pack.<row>) with the rules that answer it, what the server needs for them to see
// anything (tier0watch.prereq.<key> tags and the rules' log sources) and how many fixture cases
// prove them. `tier0watch rules coverage` prints it; docs/detections.md is that output.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/rules/rule_sources.h"

namespace t0w {

// Fixture cases of one rule (spec `rule:`), from `rules test`.
struct RuleTestCounts {
  size_t positive_passed = 0, positive_failed = 0;
  size_t negative_passed = 0, negative_failed = 0;
};

struct CoverageRule {
  std::string id, name, title, level;
  std::string kind;                       // "rule" or the correlation type
  std::string source;                     // "windows/security", "correlation of <ids>"
  std::vector<std::string> rows;          // catalog ids from the tags
  std::vector<std::string> prereqs;       // prerequisite keys (own tags and, for correlations,
                                          // those of the rules they count)
  std::vector<std::string> channels;      // channels (or providers) the rule reads
  std::vector<std::string> placeholders;  // placeholder names its detection expands
  std::vector<std::string> attack;        // attack.* tags
  bool alerts = true;                     // false: only feeds correlations (generate: false)
  bool has_tests = false;
  RuleTestCounts tests;
};

struct CoverageRow {
  CatalogRow row;
  std::vector<std::string> rule_ids;  // alerting rules tagged with the row
  bool covered = false;  // some rule of the row has passing positive and negative cases
};

struct PackCoverage {
  std::vector<RulePack> packs;
  std::vector<CoverageRow> rows;
  std::vector<CoverageRule> rules;        // file order
  std::vector<std::string> unknown_tags;  // tier0watch.* tags naming no row or prerequisite
  std::map<std::string, std::vector<std::string>> placeholder_values;  // as compiled
};

// `tests` empty: no fixture information (the Tests columns are left out).
PackCoverage computeCoverage(const LoadedRuleSet& loaded,
                             const std::map<std::string, RuleTestCounts>& tests);

// The Markdown of docs/detections.md. `command` is the command line that produced it.
std::string renderCoverageMarkdown(const PackCoverage& coverage, bool with_tests,
                                   const std::string& command);

}  // namespace t0w
