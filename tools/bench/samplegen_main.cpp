// t0w-samplegen: writes the generated DC sample (rendered event XML) to a file or stdout.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <map>

#include "tools/bench/sample_generator.h"

int main(int argc, char** argv) {
  t0w::bench::SampleOptions options;
  std::string output;
  bool list = false;
  CLI::App app{"Writes rendered Windows events of a domain controller under attack (XML)",
               "t0w-samplegen"};
  app.add_option("--seed", options.seed, "Random seed; the same seed writes the same bytes")
      ->default_val(1);
  app.add_option("--background", options.background_events,
                 "Ordinary events mixed with the scenarios")
      ->default_val(400);
  app.add_option("--computer", options.computer, "The DC's FQDN")->default_val(options.computer);
  bool background_only = false;
  app.add_flag("--background-only", background_only,
               "Only the ordinary traffic, none of the attack and health scenarios");
  app.add_option("-o,--output", output, "Output file (default: stdout)");
  app.add_flag("--summary", list, "Print event counts per scenario on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  options.scenarios = !background_only;
  const std::vector<t0w::bench::SampleEvent> events = t0w::bench::generateDcSample(options);
  std::ofstream file;
  if (!output.empty()) {
    file.open(output, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "t0w-samplegen: cannot write " << output << '\n';
      return 1;
    }
  }
  std::ostream& out = output.empty() ? std::cout : file;
  t0w::bench::writeEventsXml(events, out);
  out.flush();
  if (!out) {
    std::cerr << "t0w-samplegen: writing " << (output.empty() ? "stdout" : output) << " failed\n";
    return 1;
  }
  if (list) {
    std::map<std::string, size_t> counts;
    for (const auto& e : events) ++counts[e.scenario];
    for (const std::string& s : t0w::bench::sampleScenarios()) {
      std::cerr << s << ": " << counts[s] << '\n';
    }
  }
  return 0;
}
