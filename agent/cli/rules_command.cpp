#include "agent/cli/rules_command.h"

#include <algorithm>
#include <map>
#include <memory>

namespace t0w::cli {

void printRuleLoadReport(const RuleLoadReport& report, std::ostream& out, bool details) {
  out << "rules: " << report.files << " files, " << report.loaded << " loaded ("
      << report.correlations << " correlations), " << report.rejected.size() << " rejected, "
      << report.out_of_scope << " out of scope (not Windows log sources)\n";
  if (!details) return;
  for (const auto& r : report.rejected) {
    out << "rejected: " << r.file << ": id " << (r.rule_id.empty() ? "?" : r.rule_id) << ": "
        << r.kind << ": " << r.message << '\n';
  }
  auto summarize = [&](const std::vector<RuleIssue>& issues, const char* title) {
    if (issues.empty()) return;
    std::map<std::string, size_t> by_kind;
    for (const auto& r : issues) ++by_kind[r.kind == "out of scope" ? r.message : r.kind];
    std::vector<std::pair<std::string, size_t>> sorted(by_kind.begin(), by_kind.end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    out << title << ":\n";
    for (const auto& [kind, n] : sorted) out << "  " << n << "  " << kind << '\n';
  };
  summarize(report.rejected, "rejections by reason");
  summarize(report.skipped, "out of scope by log source");
}

int runRulesCheck(const std::vector<std::filesystem::path>& paths, CliIo io) {
  RuleSet rules;
  RuleLoadReport report;
  for (const auto& p : paths) rules.loadPath(p, report);
  rules.finalize(report);
  printRuleLoadReport(report, io.out, true);
  return report.rejected.empty() ? kExitOk : kExitInputErrors;
}

void registerRulesCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* rules = app.add_subcommand("rules", "Work with Sigma rules");
  rules->require_subcommand(1);
  auto paths = std::make_shared<std::vector<std::filesystem::path>>();
  CLI::App* check = rules->add_subcommand(
      "check", "Load Sigma rules (files or directories) and report rejected rules with reasons");
  check->add_option("PATH", *paths, "Sigma rule file or directory (recursive)")
      ->required()
      ->check(CLI::ExistingPath);
  check->callback([paths, &ctx] { ctx.exit_code = runRulesCheck(*paths, ctx.io); });
}

}  // namespace t0w::cli
