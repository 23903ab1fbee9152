// Rendered-XML parser cost per event, next to pugixml's load_buffer alone on the same bytes
// (the floor any DOM-based parser pays), so that the parser's own work shows as a ratio.
// ParseEventXml is a one-off parse (a new Event each time); EventXmlParser the collectors'
// path, one parser and one Event reused from event to event; EventXmlParserPugixmlOnly the same
// without the direct scan (every document through pugixml).
//   xml_parser_bench [--benchmark_filter=...]
// Inputs are the golden files tests/data/eventlog/security_4624.xml and security_4662.xml,
// read at run time; "compact" strips the indentation, as EvtRender emits one line per event.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "collectors/eventlog/event_xml_parser.h"
#include "collectors/eventlog/xml_tree.h"

namespace {

std::string readGolden(const std::string& name) {
  const std::string path = std::string(T0W_SOURCE_DIR) + "/tests/data/eventlog/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::ostringstream out;
  out << in.rdbuf();
  std::string xml = out.str();
  // Only the <Event> element: the golden files open with a provenance comment.
  const size_t start = xml.find('<', xml.find("-->"));
  return xml.substr(start, xml.rfind('>') + 1 - start);
}

// Drops whitespace between tags, as EvtRender output has none.
std::string compact(const std::string& xml) {
  std::string out;
  out.reserve(xml.size());
  for (size_t i = 0; i < xml.size(); ++i) {
    if (xml[i] == '>') {
      out.push_back('>');
      size_t j = i + 1;
      while (j < xml.size() && (xml[j] == ' ' || xml[j] == '\n' || xml[j] == '\r')) ++j;
      if (j < xml.size() && xml[j] == '<') i = j - 1;
    } else {
      out.push_back(xml[i]);
    }
  }
  return out;
}

void parseEvent(benchmark::State& state, const std::string& xml) {
  for (auto _ : state) {
    t0w::Result<t0w::Event> event = t0w::parseEventXml(xml);
    if (!event.ok()) {
      state.SkipWithError(event.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(event);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * xml.size()));
}

// The collectors' path: one parser and one Event refilled for every event (storage reused).
// pugixml_only: the same with every document read by pugixml (what the direct scan saves).
void parseReused(benchmark::State& state, const std::string& xml, bool pugixml_only) {
  t0w::EventXmlParser parser;
  parser.setPugixmlOnly(pugixml_only);
  t0w::Event event;
  for (auto _ : state) {
    t0w::Status st = parser.parse(xml, event);
    if (!st) {
      state.SkipWithError(st.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(event);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * xml.size()));
}

// The direct scan alone (XML -> XmlTree), the counterpart of PugiLoadBuffer.
void scanTree(benchmark::State& state, const std::string& xml) {
  t0w::XmlTree tree;
  for (auto _ : state) {
    if (!t0w::scanSimpleXml(xml, tree)) {
      state.SkipWithError("scanSimpleXml refused the input");
      break;
    }
    benchmark::DoNotOptimize(tree);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * xml.size()));
}

void pugiLoadBuffer(benchmark::State& state, const std::string& xml) {
  for (auto _ : state) {
    pugi::xml_document doc;
    pugi::xml_parse_result r =
        doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata_single,
                        pugi::encoding_utf8);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * xml.size()));
}

// Console output plus, at the end, ParseEventXml / PugiLoadBuffer CPU time per input (CPU
// time, not wall time: the build machines are shared and wall time swings with their load).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      const std::string name = run.benchmark_name();
      const size_t slash = name.find('/');
      if (slash == std::string::npos) continue;
      times_[name.substr(slash + 1)][name.substr(0, slash)] = run.GetAdjustedCPUTime();
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nparser CPU time relative to pugixml load_buffer alone:\n");
    for (const auto& [input, by_bench] : times_) {
      auto parse = by_bench.find("ParseEventXml");
      auto reused = by_bench.find("EventXmlParser");
      auto pugi = by_bench.find("PugiLoadBuffer");
      if (parse == by_bench.end() || pugi == by_bench.end()) continue;
      std::printf("  %-14s parseEventXml %8.0f ns  load_buffer %8.0f ns  ratio %.2fx\n",
                  input.c_str(), parse->second, pugi->second, parse->second / pugi->second);
      if (reused == by_bench.end()) continue;
      std::printf("  %-14s EventXmlParser, Event reused %8.0f ns  ratio %.2fx\n", input.c_str(),
                  reused->second, reused->second / pugi->second);
    }
  }

 private:
  std::map<std::string, std::map<std::string, double>> times_;
};

}  // namespace

int main(int argc, char** argv) {
  // Leaked on purpose: benchmarks keep references to the inputs until exit.
  auto* inputs = new std::vector<std::pair<std::string, std::string>>;
  for (const char* id : {"4624", "4662"}) {
    const std::string xml = readGolden(std::string("security_") + id + ".xml");
    inputs->emplace_back(std::string(id) + "_compact", compact(xml));
    inputs->emplace_back(std::string(id) + "_indented", xml);
  }
  for (const auto& [id, xml] : *inputs) {
    const std::string& ref = xml;
    benchmark::RegisterBenchmark(("ParseEventXml/" + id).c_str(),
                                 [&ref](benchmark::State& s) { parseEvent(s, ref); });
    benchmark::RegisterBenchmark(("EventXmlParser/" + id).c_str(),
                                 [&ref](benchmark::State& s) { parseReused(s, ref, false); });
    benchmark::RegisterBenchmark(("EventXmlParserPugixmlOnly/" + id).c_str(),
                                 [&ref](benchmark::State& s) { parseReused(s, ref, true); });
    benchmark::RegisterBenchmark(("ScanSimpleXml/" + id).c_str(),
                                 [&ref](benchmark::State& s) { scanTree(s, ref); });
    benchmark::RegisterBenchmark(("PugiLoadBuffer/" + id).c_str(),
                                 [&ref](benchmark::State& s) { pugiLoadBuffer(s, ref); });
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
