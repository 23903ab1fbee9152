#include "agent/cli/rule_options.h"

#include "agent/platform/host_info.h"

namespace t0w::cli {

void addRuleOptions(CLI::App& cmd, RuleOptions& options, bool with_rules) {
  if (with_rules) {
    cmd.add_option("--rules", options.rule_paths, "Sigma rule file or directory (repeatable)")
        ->check(CLI::ExistingPath);
  }
  cmd.add_option("--pack", options.packs,
                 "Rule pack by name (e.g. tier0, found where tier0watch is installed or built) "
                 "or by directory (repeatable)");
  cmd.add_option("--placeholder", options.placeholders,
                 "Value of a rule placeholder: NAME=V1;V2 (repeatable; replaces the pack's "
                 "default)");
}

Result<std::pair<std::string, std::vector<std::string>>> parsePlaceholderOption(
    const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    return makeError(Errc::kInvalidArgument,
                     "--placeholder " + text + ": expected NAME=VALUE[;VALUE...]");
  std::vector<std::string> values;
  std::string item;
  for (char c : text.substr(eq + 1) + ";") {
    if (c != ';') {
      item.push_back(c);
    } else if (!item.empty()) {
      values.push_back(std::move(item));
      item.clear();
    }
  }
  return std::make_pair(text.substr(0, eq), std::move(values));
}

Result<RuleSources> resolveRuleOptions(const RuleOptions& options) {
  RuleSources sources;
  sources.paths = options.rule_paths;
  const auto dirs = packSearchDirs(executablePath());
  for (const auto& name : options.packs) {
    auto dir = locatePack(name, dirs);
    if (!dir) return makeError(dir.error().code, "--pack " + name + ": " + dir.error().message);
    sources.packs.push_back(*dir);
  }
  for (const auto& text : options.placeholders) {
    auto p = parsePlaceholderOption(text);
    if (!p) return p.error();
    sources.placeholders[p->first] = std::move(p->second);
  }
  return sources;
}

}  // namespace t0w::cli
