#include "agent/rules/rule_sources.h"

#include <optional>

#include "agent/rules/rule_cache.h"

namespace t0w {
namespace {

// The build and everything in the options that changes what a rule compiles to.
std::string cacheStamp(const RuleSources& sources, const RuleCompileOptions& o) {
  std::string s = sources.cache_stamp;
  const RuleLimits& l = o.limits;
  for (uint64_t v :
       {uint64_t{l.max_file_bytes}, uint64_t{l.max_documents_per_file}, uint64_t{l.max_yaml_depth},
        uint64_t{l.max_yaml_nodes}, uint64_t{l.max_values_per_rule}, uint64_t{l.max_value_bytes},
        uint64_t{l.max_condition_bytes}, uint64_t{l.max_condition_depth},
        uint64_t{l.max_condition_nodes}, static_cast<uint64_t>(l.max_regex_memory),
        static_cast<uint64_t>(l.max_regex_program_size), uint64_t{l.max_windash_dashes},
        uint64_t{o.literal_sets}})
    s += "|" + std::to_string(v);
  // Names and values with their lengths, so that no two different maps give the same text.
  for (const auto& [name, values] : o.placeholders) {
    s += "|" + std::to_string(name.size()) + ":" + name + "=" + std::to_string(values.size());
    for (const auto& v : values) s += "," + std::to_string(v.size()) + ":" + v;
  }
  return s;
}

}  // namespace

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
  std::optional<RuleCache> cache;
  if (!sources.cache_file.empty() && !sources.cache_stamp.empty())
    cache.emplace(sources.cache_file, cacheStamp(sources, options));
  out.rules = std::make_unique<RuleSet>(std::move(options));
  if (cache) out.rules->setCache(&*cache);
  for (const auto& dir : rule_dirs) out.rules->loadPath(dir, out.report);
  for (const auto& p : sources.paths) out.rules->loadPath(p, out.report);
  out.rules->setCache(nullptr);
  if (cache) {  // saved and freed before the index is built: the two never share the peak
    out.cache_hits = cache->hits();
    out.cache_problem = cache->problem();
    if (std::string st = cache->save(); !st.empty())
      out.cache_problem += (out.cache_problem.empty() ? "" : "; ") + st;
    cache.reset();
  }
  out.rules->finalize(out.report);
  return out;
}

}  // namespace t0w
