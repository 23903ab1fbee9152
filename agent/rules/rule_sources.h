// The one way every command builds its RuleSet: Sigma files and directories, rule packs, and the
// values of the Sigma placeholders their rules use (`|expand`: %name%). Packs bring defaults for
// their placeholders (pack.yaml); the configuration (rules.placeholders, Group Policy
// RulePlaceholders, `--placeholder`) replaces a default list as a whole.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/rules/rule_pack.h"
#include "agent/rules/rule_set.h"

namespace t0w {

struct RuleSources {
  std::vector<std::filesystem::path> paths;  // Sigma files or directories
  std::vector<std::filesystem::path> packs;  // pack directories (see locatePack)
  std::map<std::string, std::vector<std::string>> placeholders;
  bool read_catalogs = false;  // the packs' catalog.yaml (coverage only)
  // When set, rule files are looked up in this cache and it is rewritten after loading
  // (RuleCache). `cache_stamp` names the build that writes it: another build's cache is unused;
  // without a stamp there is no cache.
  std::filesystem::path cache_file;
  std::string cache_stamp;
};

struct LoadedRuleSet {
  std::unique_ptr<RuleSet> rules;
  RuleLoadReport report;
  std::vector<RulePack> packs;  // the packs' metadata, in load order
  std::map<std::string, std::vector<std::string>> placeholders;  // the values compiled in
  size_t cache_hits = 0;                                         // rule files taken from the cache
  std::string cache_problem;  // why the cache was not read or written ("" if fine)
};

// Loads everything and finalizes the set. A pack whose pack.yaml or catalog.yaml is unreadable is
// reported as a rejection ("invalid pack") and its rules are loaded all the same.
LoadedRuleSet loadRuleSources(const RuleSources& sources, RuleCompileOptions options = {});

}  // namespace t0w
