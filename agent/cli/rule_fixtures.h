// Rule fixtures: event XML with the alerts a rule set must raise on it, and the runner behind
// `tier0watch rules test`. A spec file (*.test.yaml) holds one YAML document per rule under test
// (documents separated by ---):
//
//   rule: <id>                        the rule or correlation these cases are about
//   placeholders: {name: [values]}    optional, over the packs' defaults
//   cases:
//     - name: what the case shows
//       expect: {<rule id>: 1}        EVERY alert the whole rule set raises, by rule id; {} = none
//       events: |                     rendered event XML (<Event> elements, in time order)
//         <Event ...>...</Event>
//     - name: a burst
//       expect: {<id>: 1}
//       events:                       or a list of items, each XML text or {xml, repeat}:
//         - repeat: 12                "{n}" in xml becomes 1..12
//           xml: <Event ...>...user{n}...</Event>
//
// A case is positive for the spec's rule when it expects at least one alert of it, negative when
// it expects none. Every case runs on a fresh rule set (no correlation state carries over).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "agent/core/event.h"
#include "agent/rules/pack_coverage.h"
#include "agent/rules/rule_sources.h"
#include "common/core/result.h"

namespace t0w::cli {

struct FixtureCase {
  std::string name;
  std::map<std::string, size_t> expect;  // rule id -> alert count
  std::vector<Event> events;
};

struct FixtureSpec {
  std::filesystem::path file;
  std::string rule;
  std::map<std::string, std::vector<std::string>> placeholders;
  std::vector<FixtureCase> cases;
};

// Parses the specs of a file (one per YAML document) and their event XML. Errors name the file,
// the document and the case where there is one.
Result<std::vector<FixtureSpec>> loadFixtureSpecs(const std::filesystem::path& file);

// Every *.test.yaml under the given files or directories (recursive, sorted).
std::vector<std::filesystem::path> findFixtureSpecs(
    const std::vector<std::filesystem::path>& paths);

// Splits text holding <Event> elements (bare, concatenated or inside <Events>) into events.
Result<std::vector<Event>> parseFixtureEvents(const std::string& xml);

struct CaseResult {
  std::filesystem::path file;
  std::string spec_rule;
  std::string name;
  bool positive = false;  // expects alerts of spec_rule
  bool passed = false;
  std::map<std::string, size_t> expected, got;
};

struct FixtureRun {
  std::vector<CaseResult> cases;
  std::vector<Error> errors;                      // unreadable specs, unknown rule ids in specs
  std::map<std::string, RuleTestCounts> by_rule;  // passing and failing cases per spec rule
  // Alerting rules (standalone base rules and correlations) without a passing positive or a
  // passing negative case.
  std::vector<std::string> untested;
  std::map<std::string, std::string> titles;  // rule id -> title, for the report
  bool ok() const;
};

// Runs every case of every spec against the rules `sources` describe (plus each spec's
// placeholders).
FixtureRun runFixtures(const RuleSources& sources, const std::vector<std::filesystem::path>& specs);

// "ok" / "FAIL" lines per case, the failures' expected and actual alerts, the untested rules and
// a summary line.
void printFixtureRun(const FixtureRun& run, std::ostream& out);

}  // namespace t0w::cli
