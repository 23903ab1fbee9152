// The agent's threading model measured (docs/adr/0003-threads.md): the same 40,000 generated DC
// events read by 1, 2 or 4 XML sources, each on its own thread, all through one RuleSet (the
// built-in tier0 pack) under its mutex, into a real SQLite queue. Process CPU time and wall time
// per event show what the shared rules mutex and the extra threads cost.
//   pipeline_threads_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "agent/pipeline/pipeline.h"
#include "agent/rules/rule_sources.h"
#include "tools/bench/sample_generator.h"

namespace t0w {
namespace {

namespace fs = std::filesystem;
constexpr size_t kEvents = 40'000;

fs::path workDir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() /
                 ("t0w-pipeline-threads-" + std::to_string(std::random_device{}()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// The sample split into `parts` files of consecutive events (one source each).
std::vector<SourceConfig> sources(size_t parts) {
  static const std::vector<bench::SampleEvent> events = [] {
    bench::SampleOptions o;
    o.background_events = kEvents;
    return bench::generateDcSample(o);
  }();
  std::vector<SourceConfig> out;
  const size_t per = (events.size() + parts - 1) / parts;
  for (size_t p = 0; p < parts; ++p) {
    const fs::path file =
        workDir() / ("part" + std::to_string(parts) + "_" + std::to_string(p) + ".xml");
    if (!fs::exists(file)) {
      std::ofstream f(file, std::ios::binary);
      const auto first = events.begin() + std::min(events.size(), p * per);
      const auto last = events.begin() + std::min(events.size(), (p + 1) * per);
      bench::writeEventsXml({first, last}, f);
    }
    SourceConfig s;
    s.type = SourceType::kXml;
    s.path = file;
    out.push_back(s);
  }
  return out;
}

RuleSet& packRules() {
  static LoadedRuleSet loaded = [] {
    RuleSources r;
    r.packs = {fs::path(T0W_SOURCE_DIR) / "packs" / "tier0"};
    return loadRuleSources(r);
  }();
  return *loaded.rules;
}

void BM_PipelineSources(benchmark::State& state) {
  const size_t parts = static_cast<size_t>(state.range(0));
  const auto configured = sources(parts);
  RuleSet& rules = packRules();
  SystemClock clock;
  size_t events = 0;
  int run = 0;
  for (auto _ : state) {
    state.PauseTiming();
    QueueOptions qo;
    qo.path = workDir() / ("queue" + std::to_string(parts) + "_" + std::to_string(run++) + ".db");
    auto queue = EventQueue::open(qo, clock);
    if (!queue) {
      state.SkipWithError(queue.error().toString().c_str());
      return;
    }
    AgentMetrics metrics;
    state.ResumeTiming();
    {
      Pipeline p(configured, **queue, &rules, metrics, nullptr);
      p.start();
      p.join();
    }
    state.PauseTiming();
    for (const SourceConfig& s : configured) events += metrics.source(s.path.string()).events_in;
    queue->reset();
    fs::remove(qo.path);
    fs::remove(qo.path.string() + "-wal");
    fs::remove(qo.path.string() + "-shm");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
}
BENCHMARK(BM_PipelineSources)
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace
}  // namespace t0w

BENCHMARK_MAIN();
