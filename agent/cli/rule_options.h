// The rule options shared by `scan`, `rules check|test|coverage`: Sigma paths (--rules), packs
// by name or directory (--pack) and placeholder values (--placeholder NAME=V1;V2), turned into
// the RuleSources every command loads (rule_sources.h).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/rules/rule_sources.h"
#include "common/core/result.h"

namespace t0w::cli {

struct RuleOptions {
  std::vector<std::filesystem::path> rule_paths;
  std::vector<std::string> packs;
  std::vector<std::string> placeholders;  // NAME=V1;V2 as typed
};

// Adds --pack and --placeholder (and --rules when `with_rules`).
void addRuleOptions(CLI::App& cmd, RuleOptions& options, bool with_rules = true);

// Finds the packs (rule_pack.h: beside the executable, the install layout, the source tree) and
// parses the placeholders. Errors name the option.
Result<RuleSources> resolveRuleOptions(const RuleOptions& options);

// "NAME=V1;V2" -> NAME, {V1, V2}; "NAME=" is an empty list.
Result<std::pair<std::string, std::vector<std::string>>> parsePlaceholderOption(
    const std::string& text);

}  // namespace t0w::cli
