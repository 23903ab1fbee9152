#include "agent/cli/scan_command.h"

#include <filesystem>
#include <map>
#include <memory>

#include "agent/cli/rule_options.h"
#include "agent/cli/scan_pipeline.h"
#include "agent/platform/host_info.h"

namespace t0w::cli {

void registerScanCommand(CLI::App& app, CliContext& ctx) {
  auto options = std::make_shared<ScanOptions>();
  auto rule_options = std::make_shared<RuleOptions>();
  CLI::App* scan = app.add_subcommand(
      "scan", "Read .evtx files, rendered-XML event files or directories of them");
  scan->add_flag("--events", options->print_events, "Print every event (see --format)");
  const std::map<std::string, OutputFormat> formats{{"jsonl", OutputFormat::kJsonl},
                                                    {"table", OutputFormat::kTable}};
  scan->add_option("--format", options->format,
                   "jsonl: one JSON object per line (schemas/event.schema.json); table: text")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case))
      ->default_str("jsonl");
  scan->add_option("-o,--output", options->output_path, "Write to FILE instead of stdout");
  scan->add_flag("--recovered", options->include_recovered,
                 "Also read records libevtx recovers from unallocated EVTX space");
  // With rules, alerts are printed as JSON lines.
  addRuleOptions(*scan, *rule_options);
  auto rule_cache = std::make_shared<std::filesystem::path>();
  scan->add_option("--rule-cache", *rule_cache,
                   "Keep what the rule files compile to in FILE and reuse it while they are "
                   "unchanged (as `run` does in its state directory)");
  scan->add_option("PATH", options->paths,
                   ".evtx file, XML file of <Event> elements, or directory (recursive)")
      ->required()
      ->check(CLI::ExistingPath);
  scan->callback([options, rule_options, rule_cache, &ctx] {
    auto rules = resolveRuleOptions(*rule_options);
    if (!rules) {
      ctx.io.err << "error: " << rules.error().message << '\n';
      ctx.exit_code = kExitUsage;
      return;
    }
    options->rules = std::move(*rules);
    if (!rule_cache->empty()) {
      options->rules.cache_file = *rule_cache;
      options->rules.cache_stamp = executableStamp(T0W_VERSION);
    }
    ctx.exit_code = runScan(*options, ctx.io);
  });
}

}  // namespace t0w::cli
