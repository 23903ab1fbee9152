// `tier0watch rules check PATH...`: loads Sigma rules and reports what loaded and why the rest
// did not.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <vector>

#include "agent/cli/cli_context.h"
#include "agent/rules/rule_set.h"

namespace t0w::cli {

void registerRulesCommand(CLI::App& app, CliContext& ctx);

// Prints counts, every rejection (file, id, reason) and a summary by reason to io.out.
// Returns kExitOk when every in-scope rule loaded, kExitInputErrors otherwise.
int runRulesCheck(const std::vector<std::filesystem::path>& paths, CliIo io);

// Writes the report of a load (shared with `scan --rules`, which prints it to stderr).
void printRuleLoadReport(const RuleLoadReport& report, std::ostream& out, bool details);

}  // namespace t0w::cli
