// `tier0watch scan --events` throughput in process (runScan, the code the command runs, output to
// /dev/null), each input next to a baseline measured in the same run on the same bytes, so that
// the figures compare as ratios whatever the machine:
//   XML  (a generated domain controller sample, 50,000 background events by default):
//        reading the file in the collector's chunks (the I/O floor), pugixml load_buffer of the
//        whole file (one DOM parse of every byte, no event built), scan without --events (read
//        and parse only), and scan --events.
//   JSON (the serializer alone, over events parsed once): the direct writer eventToJsonLine vs
//        the ordered_json tree dump it replaced (byte-identical output).
//   EVTX (the corpus .evtx files): libevtx rendering every record as XML (what evtxexport does,
//        without printing) vs scan --events of the same files.
// Rates are items_per_second = events (records) per second.
//   scan_bench [--benchmark_filter=...]   env: T0W_BENCH_EVENTS (background events, 50000),
//                                               T0W_CORPUS (corpus directory)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pugixml.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "agent/cli/scan_pipeline.h"
#include "agent/core/event_json.h"
#include "collectors/eventlog/xml_file_collector.h"
#include "collectors/evtx/libevtx_handles.h"
#include "tools/bench/sample_generator.h"

namespace t0w {
namespace {

namespace fs = std::filesystem;

// The generated sample, written once to a temporary file and removed at exit.
struct XmlSample {
  fs::path path;
  uint64_t events = 0;
  uint64_t bytes = 0;

  XmlSample() {
    bench::SampleOptions options;
    options.seed = 42;
    const char* n = std::getenv("T0W_BENCH_EVENTS");
    options.background_events = n ? std::strtoull(n, nullptr, 10) : 50000;
    const std::vector<bench::SampleEvent> sample = bench::generateDcSample(options);
    events = sample.size();
    path = fs::temp_directory_path() /
           ("t0w-scan-bench-" + std::to_string(static_cast<long>(::getpid())) + ".xml");
    std::ofstream out(path, std::ios::binary);
    bench::writeEventsXml(sample, out);
    out.close();
    bytes = fs::file_size(path);
    std::fprintf(stderr, "XML sample: %llu events, %llu bytes, %s\n",
                 static_cast<unsigned long long>(events), static_cast<unsigned long long>(bytes),
                 path.string().c_str());
  }
  ~XmlSample() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

const XmlSample& xmlSample() {
  static const XmlSample sample;
  return sample;
}

std::string readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<fs::path> corpusEvtxFiles() {
  const char* env = std::getenv("T0W_CORPUS");
  const fs::path corpus = env ? fs::path(env) : fs::path(T0W_CORPUS_DIR);
  std::vector<fs::path> out;
  for (const char* sub : {"evtx-attack-samples", "sigma/regression"}) {
    const fs::path dir = corpus / sub;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
      if (e.is_regular_file() && e.path().extension() == ".evtx") out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<fs::path>& evtxFiles() {
  static const std::vector<fs::path> files = corpusEvtxFiles();
  return files;
}

// runScan as `tier0watch scan [--events] --output /dev/null PATH...` runs it.
cli::ScanReport scan(const std::vector<fs::path>& paths, bool events) {
  cli::ScanOptions options;
  options.paths = paths;
  options.print_events = events;
  options.output_path = "/dev/null";
  std::ostringstream out, err;
  cli::ScanReport report;
  cli::runScan(options, cli::CliIo{out, err, false}, &report);
  return report;
}

void checkRecords(benchmark::State& state, uint64_t got, uint64_t expected) {
  if (got != expected) {
    state.SkipWithError(
        ("read " + std::to_string(got) + " records, expected " + std::to_string(expected)).c_str());
  }
}

// ---- XML ------------------------------------------------------------------------------------

void BM_XmlBaselineReadFile(benchmark::State& state) {
  const XmlSample& s = xmlSample();
  std::vector<char> chunk(XmlFileCollector::kDefaultChunkBytes);
  for (auto _ : state) {
    std::FILE* f = std::fopen(s.path.c_str(), "rb");
    uint64_t total = 0;
    size_t n;
    while ((n = std::fread(chunk.data(), 1, chunk.size(), f)) > 0) total += n;
    std::fclose(f);
    checkRecords(state, total, s.bytes);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.events));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.bytes));
}
BENCHMARK(BM_XmlBaselineReadFile)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_XmlBaselinePugixmlLoadBuffer(benchmark::State& state) {
  const XmlSample& s = xmlSample();
  const std::string xml = readAll(s.path);
  for (auto _ : state) {
    pugi::xml_document doc;
    if (!doc.load_buffer(xml.data(), xml.size())) state.SkipWithError("pugixml failed");
    benchmark::DoNotOptimize(doc.first_child());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.events));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.bytes));
}
BENCHMARK(BM_XmlBaselinePugixmlLoadBuffer)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_XmlScanNoOutput(benchmark::State& state) {
  const XmlSample& s = xmlSample();
  for (auto _ : state) checkRecords(state, scan({s.path}, false).records, s.events);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.events));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.bytes));
}
BENCHMARK(BM_XmlScanNoOutput)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_XmlScanEvents(benchmark::State& state) {
  const XmlSample& s = xmlSample();
  for (auto _ : state) checkRecords(state, scan({s.path}, true).records, s.events);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.events));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.bytes));
}
BENCHMARK(BM_XmlScanEvents)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- JSON serializer alone ------------------------------------------------------------------

class CollectingSink final : public EventSink {
 public:
  void onEvent(Event&& e) override { events.push_back(std::move(e)); }
  void onError(const InputError&) override {}
  std::vector<Event> events;
};

const std::vector<Event>& parsedSample() {
  static const std::vector<Event> events = [] {
    CollectingSink sink;
    XmlFileCollector(xmlSample().path).run(sink);
    return std::move(sink.events);
  }();
  return events;
}

void BM_JsonLineDirect(benchmark::State& state) {
  const std::vector<Event>& events = parsedSample();
  std::string line;
  for (auto _ : state) {
    for (const Event& e : events) {
      line.clear();
      appendEventJsonLine(line, e);
      benchmark::DoNotOptimize(line.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events.size()));
}
BENCHMARK(BM_JsonLineDirect)->Unit(benchmark::kMillisecond)->UseRealTime();

// The serializer eventToJsonLine used before (same bytes): build the tree, dump it.
void BM_JsonTreeDump(benchmark::State& state) {
  const std::vector<Event>& events = parsedSample();
  for (auto _ : state) {
    for (const Event& e : events) {
      std::string line =
          eventToJson(e).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
      benchmark::DoNotOptimize(line.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events.size()));
}
BENCHMARK(BM_JsonTreeDump)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- EVTX -----------------------------------------------------------------------------------

void BM_EvtxBaselineLibevtxXml(benchmark::State& state) {
  if (evtxFiles().empty()) {
    state.SkipWithError("no corpus .evtx files (set T0W_CORPUS)");
    return;
  }
  uint64_t records = 0;
  for (auto _ : state) {
    records = 0;
    for (const fs::path& p : evtxFiles()) {
      auto file = evtx::EvtxFile::open(p.string());
      if (!file) continue;
      auto count = file->recordCount();
      if (!count) continue;
      for (int i = 0; i < *count; ++i) {
        auto record = file->record(i);
        if (!record) continue;
        auto xml = evtx::recordXml(record->get());
        if (xml) ++records;
        benchmark::DoNotOptimize(xml);
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.counters["records"] = static_cast<double>(records);
}
BENCHMARK(BM_EvtxBaselineLibevtxXml)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_EvtxScanEvents(benchmark::State& state) {
  if (evtxFiles().empty()) {
    state.SkipWithError("no corpus .evtx files (set T0W_CORPUS)");
    return;
  }
  uint64_t records = 0;
  for (auto _ : state) records = scan(evtxFiles(), true).records;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.counters["records"] = static_cast<double>(records);
}
BENCHMARK(BM_EvtxScanEvents)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace t0w

BENCHMARK_MAIN();
