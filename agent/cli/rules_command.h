// `tier0watch rules check|test|coverage`:
//   check     loads Sigma rules and packs and reports what loaded and why the rest did not;
//   test      runs rule fixtures (rule_fixtures.h): exit 0 only when every case raises exactly
//             the alerts it expects and every alerting rule has a passing positive and negative
//             case;
//   coverage  prints which catalog rows a pack answers, with rules, prerequisites and tests, as
//             Markdown (docs/detections.md is its output for the tier0 pack).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <vector>

#include "agent/cli/cli_context.h"
#include "agent/cli/rule_options.h"
#include "agent/rules/rule_set.h"

namespace t0w::cli {

void registerRulesCommand(CLI::App& app, CliContext& ctx);

// Prints counts, every rejection (file, id, reason) and a summary by reason to io.out.
// Returns kExitOk when every in-scope rule loaded, kExitInputErrors otherwise.
int runRulesCheck(const RuleOptions& options, CliIo io);

// `fixtures`: spec files or directories of *.test.yaml.
int runRulesTest(const RuleOptions& options, const std::vector<std::filesystem::path>& fixtures,
                 CliIo io);

// `tests`: fixture specs to run for the Tests columns (none: the columns are left out).
int runRulesCoverage(const RuleOptions& options, const std::vector<std::filesystem::path>& tests,
                     CliIo io);

// Writes the report of a load (shared with `scan --rules`, which prints it to stderr).
void printRuleLoadReport(const RuleLoadReport& report, std::ostream& out, bool details);

}  // namespace t0w::cli
