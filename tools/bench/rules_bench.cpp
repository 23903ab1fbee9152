// Sigma rule evaluation cost: the corpus .evtx files read with no rules vs with every Windows
// rule loaded (same run), and evaluation alone over events pre-parsed in memory.
//   rules_bench [--benchmark_filter=...]      (corpus from T0W_CORPUS_DIR or $T0W_CORPUS)
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <new>
#include <vector>

#include "agent/rules/rule_set.h"
#include "agent/rules/rule_stage.h"
#include "collectors/evtx/evtx_file_collector.h"

// Counts heap allocations so that the evaluation benchmarks can report allocations per event.
// Not inlined: GCC 12 at -O2 would match the malloc/free inside against the standard new/delete
// and fail the build with -Wmismatched-new-delete.
static std::atomic<uint64_t> g_allocations{0};
[[gnu::noinline]] void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace t0w {
namespace {

namespace fs = std::filesystem;

fs::path corpus() {
  const char* env = std::getenv("T0W_CORPUS");
  return env ? fs::path(env) : fs::path(T0W_CORPUS_DIR);
}

const std::vector<fs::path>& evtxFiles() {
  static const std::vector<fs::path> files = [] {
    std::vector<fs::path> out;
    for (const char* sub : {"evtx-attack-samples", "sigma/regression"}) {
      const fs::path dir = corpus() / sub;
      if (!fs::is_directory(dir)) continue;
      for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file() && e.path().extension() == ".evtx") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }();
  return files;
}

RuleSet& windowsRules() {
  static RuleSet* set = [] {
    auto* s = new RuleSet();
    RuleLoadReport report;
    for (const char* sub :
         {"sigma/rules/windows", "sigma/rules-emerging-threats", "sigma/rules-threat-hunting"})
      s->loadPath(corpus() / sub, report);
    s->finalize(report);
    auto st = s->indexStats();
    std::cerr << "rules: " << report.loaded << " loaded, " << report.rejected.size()
              << " rejected, " << report.out_of_scope << " out of scope; index: " << st.channels
              << " channels, " << st.providers << " providers, " << st.global << " unindexed, "
              << st.indexed_by_event_id << " variants by EventID\n";
    return s;
  }();
  return *set;
}

class CountingSink final : public EventSink, public AlertSink {
 public:
  void onEvent(Event&&) override { ++events; }
  void onError(const InputError&) override { ++errors; }
  void onAlert(Alert&&) override { ++alerts; }
  uint64_t events = 0, errors = 0, alerts = 0;
};

void requireCorpus(benchmark::State& state) {
  if (evtxFiles().empty()) state.SkipWithError("no corpus .evtx files (set T0W_CORPUS)");
}

// Reading cost alone: libevtx + XML parse into Events.
void BM_ReadEvtx_NoRules(benchmark::State& state) {
  requireCorpus(state);
  uint64_t events = 0;
  for (auto _ : state) {
    CountingSink sink;
    for (const auto& f : evtxFiles()) EvtxFileCollector(f).run(sink);
    events += sink.events;
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
}

// Reading + every Windows rule (alerts built, not printed).
void BM_ReadEvtx_AllWindowsRules(benchmark::State& state) {
  requireCorpus(state);
  RuleSet& rules = windowsRules();
  uint64_t events = 0, alerts = 0;
  for (auto _ : state) {
    CountingSink sink;
    RuleStage stage(rules, sink, sink);
    for (const auto& f : evtxFiles()) EvtxFileCollector(f).run(stage);
    stage.finish();
    events += sink.events;
    alerts += sink.alerts;
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
  state.counters["alerts/iter"] =
      benchmark::Counter(static_cast<double>(alerts), benchmark::Counter::kAvgIterations);
}

class Collect final : public EventSink {
 public:
  void onEvent(Event&& e) override { events.push_back(std::move(e)); }
  void onError(const InputError&) override {}
  std::vector<Event> events;
};

const std::vector<Event>& parsedEvents() {
  static const std::vector<Event> events = [] {
    Collect c;
    for (const auto& f : evtxFiles()) EvtxFileCollector(f).run(c);
    return std::move(c.events);
  }();
  return events;
}

// Evaluation alone: match test per event (no alert construction).
void BM_Evaluate_MatchOnly(benchmark::State& state) {
  requireCorpus(state);
  RuleSet& rules = windowsRules();
  const auto& events = parsedEvents();
  uint64_t n = 0, matches = 0;
  for (const auto& e : events) rules.countMatches(e);  // warm-up: RE2 builds its DFA lazily
  const uint64_t allocs_before = g_allocations.load();
  for (auto _ : state) {
    for (const auto& e : events) matches += rules.countMatches(e);
    n += events.size();
  }
  state.counters["allocs/event"] =
      static_cast<double>(g_allocations.load() - allocs_before) / static_cast<double>(n ? n : 1);
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["ns/event"] = benchmark::Counter(
      static_cast<double>(n), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["matches/iter"] =
      benchmark::Counter(static_cast<double>(matches), benchmark::Counter::kAvgIterations);
}

// Evaluation with alerts built (event shared, matched fields recorded).
void BM_Evaluate_WithAlerts(benchmark::State& state) {
  requireCorpus(state);
  RuleSet& rules = windowsRules();
  const auto& events = parsedEvents();
  uint64_t n = 0;
  CountingSink sink;
  for (auto _ : state) {
    for (const auto& e : events)
      rules.evaluate(
          e, [&e] { return std::make_shared<const Event>(e); }, sink);
    n += events.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["ns/event"] = benchmark::Counter(
      static_cast<double>(n), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_ReadEvtx_NoRules)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_ReadEvtx_AllWindowsRules)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Evaluate_MatchOnly)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Evaluate_WithAlerts)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
}  // namespace t0w

BENCHMARK_MAIN();
