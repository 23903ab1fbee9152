#include "agent/rules/rule_sources.h"

namespace t0w {

LoadedRuleSet loadRuleSources(const RuleSources& sources, RuleCompileOptions options) {
  LoadedRuleSet out;
  std::vector<std::filesystem::path> rule_dirs;
  for (const auto& dir : sources.packs) {
    auto pack = loadRulePack(dir, sources.read_catalogs);
    if (!pack) {
      out.report.rejected.push_back(
          {(dir / "pack.yaml").string(), "", "invalid pack", pack.error().message});
      const auto rules = dir / "rules";
      std::error_code ec;
      rule_dirs.push_back(std::filesystem::is_directory(rules, ec) ? rules : dir);
      continue;
    }
    for (auto& [name, values] : pack->placeholderDefaults())
      options.placeholders[name] = std::move(values);
    rule_dirs.push_back(pack->rules_dir);
    out.packs.push_back(std::move(*pack));
  }
  for (const auto& [name, values] : sources.placeholders) options.placeholders[name] = values;
  out.placeholders = options.placeholders;
  out.rules = std::make_unique<RuleSet>(std::move(options));
  for (const auto& dir : rule_dirs) out.rules->loadPath(dir, out.report);
  for (const auto& p : sources.paths) out.rules->loadPath(p, out.report);
  out.rules->finalize(out.report);
  return out;
}

}  // namespace t0w
