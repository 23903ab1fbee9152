// The one place that wires `tier0watch scan`: inputs → collectors → stages → output.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/cli/cli_context.h"
#include "agent/rules/rule_sources.h"

namespace t0w::cli {

enum class OutputFormat { kJsonl, kTable };

struct ScanOptions {
  std::vector<std::filesystem::path> paths;
  bool print_events = false;
  OutputFormat format = OutputFormat::kJsonl;
  std::string output_path;  // empty: stdout
  bool include_recovered = false;
  // Sigma rule files or directories (--rules) and packs (--pack): alerts are printed as JSON
  // lines (schemas/alert.schema.json); events only with --events.
  RuleSources rules;
};

struct ScanReport {
  uint64_t files = 0;
  uint64_t records = 0;
  uint64_t errors = 0;
  double seconds = 0;
};

// Reads every input, prints errors (file and record) to io.err as they happen and the one-line
// summary at the end. Returns kExitOk, kExitInputErrors or kExitUsage (output not writable).
int runScan(const ScanOptions& options, CliIo io, ScanReport* report = nullptr);

}  // namespace t0w::cli
