#include "agent/cli/rules_command.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "agent/cli/rule_fixtures.h"
#include "agent/rules/pack_coverage.h"

namespace t0w::cli {
namespace {

// The rule options as given, or the error printed (bad usage).
std::optional<RuleSources> sourcesOrReport(const RuleOptions& options, CliIo io) {
  auto sources = resolveRuleOptions(options);
  if (!sources) {
    io.err << "error: " << sources.error().message << '\n';
    return std::nullopt;
  }
  if (sources->paths.empty() && sources->packs.empty()) {
    io.err << "error: give --rules PATH or --pack NAME\n";
    return std::nullopt;
  }
  return std::move(*sources);
}

// The command line that regenerates docs/detections.md, with paths as given.
std::string coverageCommand(const RuleOptions& o, const std::vector<std::filesystem::path>& tests) {
  std::string s = "tier0watch rules coverage";
  for (const auto& p : o.packs) s += " --pack " + p;
  for (const auto& p : o.rule_paths) s += " --rules " + p.generic_string();
  for (const auto& p : o.placeholders) s += " --placeholder " + p;
  for (const auto& t : tests) s += " --tests " + t.generic_string();
  return s;
}

}  // namespace

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

int runRulesCheck(const RuleOptions& options, CliIo io) {
  auto sources = sourcesOrReport(options, io);
  if (!sources) return kExitUsage;
  LoadedRuleSet loaded = loadRuleSources(*sources);
  for (const auto& p : loaded.packs) io.out << "pack " << p.name << ": " << p.dir.string() << '\n';
  printRuleLoadReport(loaded.report, io.out, true);
  return loaded.report.rejected.empty() ? kExitOk : kExitInputErrors;
}

int runRulesTest(const RuleOptions& options, const std::vector<std::filesystem::path>& fixtures,
                 CliIo io) {
  auto sources = sourcesOrReport(options, io);
  if (!sources) return kExitUsage;
  const auto specs = findFixtureSpecs(fixtures);
  if (specs.empty()) {
    io.err << "error: no *.test.yaml fixture specs found\n";
    return kExitUsage;
  }
  const FixtureRun run = runFixtures(*sources, specs);
  printFixtureRun(run, io.out);
  return run.ok() ? kExitOk : kExitInputErrors;
}

int runRulesCoverage(const RuleOptions& options, const std::vector<std::filesystem::path>& tests,
                     CliIo io) {
  RuleOptions with_default = options;
  if (with_default.packs.empty() && with_default.rule_paths.empty())
    with_default.packs.push_back("tier0");
  auto sources = sourcesOrReport(with_default, io);
  if (!sources) return kExitUsage;
  sources->read_catalogs = true;
  LoadedRuleSet loaded = loadRuleSources(*sources);
  std::map<std::string, RuleTestCounts> counts;
  int status = loaded.report.rejected.empty() ? kExitOk : kExitInputErrors;
  for (const auto& r : loaded.report.rejected) io.err << "rejected: " << r.toString() << '\n';
  if (!tests.empty()) {
    const FixtureRun run = runFixtures(*sources, findFixtureSpecs(tests));
    counts = run.by_rule;
    if (!run.ok()) {
      io.err << "warning: some fixtures fail (run `tier0watch rules test`)\n";
      status = kExitInputErrors;
    }
  }
  const PackCoverage cov = computeCoverage(loaded, counts);
  io.out << renderCoverageMarkdown(cov, !tests.empty(), coverageCommand(with_default, tests));
  if (!cov.unknown_tags.empty()) status = kExitInputErrors;
  return status;
}

void registerRulesCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* rules = app.add_subcommand("rules", "Work with Sigma rules and rule packs");
  rules->require_subcommand(1);

  auto check_opts = std::make_shared<RuleOptions>();
  CLI::App* check = rules->add_subcommand(
      "check",
      "Load Sigma rules (files, directories, packs) and report rejected rules with reasons");
  check->add_option("PATH", check_opts->rule_paths, "Sigma rule file or directory (recursive)")
      ->check(CLI::ExistingPath);
  addRuleOptions(*check, *check_opts, /*with_rules=*/false);
  check->callback([check_opts, &ctx] { ctx.exit_code = runRulesCheck(*check_opts, ctx.io); });

  auto test_opts = std::make_shared<RuleOptions>();
  auto fixtures = std::make_shared<std::vector<std::filesystem::path>>();
  CLI::App* test = rules->add_subcommand(
      "test",
      "Run rule fixtures (*.test.yaml): exit 0 only when every case raises exactly the expected "
      "alerts and every alerting rule has a passing positive and negative case");
  test->add_option("PATH", *fixtures, "Fixture spec or directory of *.test.yaml (recursive)")
      ->required()
      ->check(CLI::ExistingPath);
  addRuleOptions(*test, *test_opts);
  test->callback(
      [test_opts, fixtures, &ctx] { ctx.exit_code = runRulesTest(*test_opts, *fixtures, ctx.io); });

  auto cov_opts = std::make_shared<RuleOptions>();
  auto tests = std::make_shared<std::vector<std::filesystem::path>>();
  CLI::App* coverage = rules->add_subcommand(
      "coverage",
      "Print the catalog rows a pack answers (default: tier0) with rules, prerequisites and "
      "tests, as Markdown");
  addRuleOptions(*coverage, *cov_opts);
  coverage->add_option("--tests", *tests, "Fixture specs to run for the Tests columns")
      ->check(CLI::ExistingPath);
  coverage->callback(
      [cov_opts, tests, &ctx] { ctx.exit_code = runRulesCoverage(*cov_opts, *tests, ctx.io); });
}

}  // namespace t0w::cli
