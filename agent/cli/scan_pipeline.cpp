#include "agent/cli/scan_pipeline.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include "agent/cli/event_writers.h"
#include "agent/cli/rules_command.h"
#include "agent/cli/scan_inputs.h"
#include "agent/rules/alert_json.h"
#include "agent/rules/rule_stage.h"
#include "collectors/registry.h"
#include "common/core/clock.h"

namespace t0w::cli {
namespace {

// Drops events: the end of the chain when nothing is printed (scan as a validity check).
class DiscardSink final : public EventSink {
 public:
  void onEvent(Event&&) override {}
  void onError(const InputError&) override {}
};

// First stage after the collectors: counts, reports errors on stderr as they happen, draws the
// progress line, and hands everything on.
class ScanMonitor final : public EventSink {
 public:
  ScanMonitor(EventSink& next, CliIo io, size_t total_files)
      : next_(next), io_(io), total_files_(total_files) {}

  void startFile(const std::string& name) {
    current_ = name;
    ++files_;
    drawProgress();
  }

  void onEvent(Event&& event) override {
    ++records_;
    if (io_.err_is_terminal && (records_ & 0x3FF) == 0) drawProgress();
    next_.onEvent(std::move(event));
  }

  void onError(const InputError& error) override {
    ++errors_;
    clearProgress();
    io_.err << "error: " << error.error.message << '\n';
    next_.onError(error);
  }

  void finish() { clearProgress(); }
  uint64_t records() const { return records_; }
  uint64_t errors() const { return errors_; }

 private:
  void drawProgress() {
    if (!io_.err_is_terminal) return;
    constexpr size_t kBarWidth = 24;
    const size_t done = total_files_ == 0 ? kBarWidth : (files_ - 1) * kBarWidth / total_files_;
    std::string name = current_;
    if (name.size() > 40) name = "..." + name.substr(name.size() - 37);
    io_.err << "\r\x1b[K[" << std::string(done, '#') << std::string(kBarWidth - done, ' ') << "] "
            << files_ << '/' << total_files_ << " files, " << records_ << " records  " << name
            << std::flush;
    drawn_ = true;
  }
  void clearProgress() {
    if (!drawn_) return;
    io_.err << "\r\x1b[K" << std::flush;
    drawn_ = false;
  }

  EventSink& next_;
  CliIo io_;
  size_t total_files_;
  size_t files_ = 0;
  std::string current_;
  uint64_t records_ = 0;
  uint64_t errors_ = 0;
  bool drawn_ = false;
};

}  // namespace

int runScan(const ScanOptions& options, CliIo io, ScanReport* report) {
  const SystemClock clock;
  const auto started = clock.monotonic();

  std::ofstream file_out;
  if (!options.output_path.empty()) {
    file_out.open(options.output_path, std::ios::binary | std::ios::trunc);
    if (!file_out) {
      io.err << "error: cannot write " << options.output_path << '\n';
      return kExitUsage;
    }
  }
  std::ostream& out = options.output_path.empty() ? io.out : file_out;

  // The sink chain, built from the output back to the collectors:
  //   collectors → ScanMonitor → [rule evaluation] → event output
  std::unique_ptr<EventSink> output;
  if (!options.print_events) {
    output = std::make_unique<DiscardSink>();
  } else if (options.format == OutputFormat::kTable) {
    output = std::make_unique<TableEventWriter>(out);
  } else {
    output = std::make_unique<JsonlEventWriter>(out);
  }
  EventSink* after_monitor = output.get();
  // Rule evaluation stage: alerts go straight to the output as JSON lines.
  std::unique_ptr<RuleSet> rules;
  std::unique_ptr<JsonlAlertWriter> alert_writer;
  std::unique_ptr<RuleStage> rule_stage;
  if (!options.rules.paths.empty() || !options.rules.packs.empty()) {
    LoadedRuleSet loaded = loadRuleSources(options.rules);
    rules = std::move(loaded.rules);
    const RuleLoadReport& load = loaded.report;
    for (const auto& r : load.rejected)
      io.err << "warning: rule rejected: " << r.toString() << '\n';
    if (!loaded.cache_problem.empty())
      io.err << "warning: rule cache: " << loaded.cache_problem
             << "; rules parsed from their files\n";
    printRuleLoadReport(load, io.err, false);
    alert_writer = std::make_unique<JsonlAlertWriter>(out);
    rule_stage =
        std::make_unique<RuleStage>(*rules, *alert_writer, *after_monitor, options.print_events);
    after_monitor = rule_stage.get();
  }

  ScanInputs inputs = discoverInputs(options.paths);
  ScanMonitor monitor(*after_monitor, io, inputs.files.size());
  for (const InputError& e : inputs.errors) monitor.onError(e);

  // Each input is a source of the registry (collectors/registry.h), as in `run`.
  SourceContext context;
  context.include_recovered = options.include_recovered;
  for (const ScanInput& input : inputs.files) {
    monitor.startFile(input.path.string());
    SourceConfig source;
    source.type = input.kind == ScanInput::Kind::kEvtx ? SourceType::kEvtxReplay : SourceType::kXml;
    source.path = input.path;
    auto plan = planSource(source, context);
    if (!plan) {
      monitor.onError({input.path.string(), 0, plan.error()});
      continue;
    }
    for (const SourceStream& stream : plan->streams) {
      auto opened = stream.open({}, {});
      if (!opened) {
        monitor.onError({stream.name, 0, opened.error()});
        continue;
      }
      opened->collector->run(monitor);
    }
  }
  monitor.finish();
  if (rule_stage) {
    rule_stage->finish();
    io.err << "alerts: " << alert_writer->count() << '\n';
  }
  out.flush();

  ScanReport r;
  r.files = inputs.files.size();
  r.records = monitor.records();
  r.errors = monitor.errors();
  r.seconds = std::chrono::duration<double>(clock.monotonic() - started).count();
  int exit_code = r.errors == 0 ? kExitOk : kExitInputErrors;
  if (!out) {
    io.err << "error: writing " << (options.output_path.empty() ? "stdout" : options.output_path)
           << " failed\n";
    exit_code = kExitInputErrors;
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.2f", r.seconds);
  io.err << "scan: " << r.files << " files, " << r.records << " records, " << r.errors
         << " errors, " << seconds << " s\n";
  if (report != nullptr) *report = r;
  return exit_code;
}

}  // namespace t0w::cli
