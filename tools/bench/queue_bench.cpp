// Queue throughput: enqueue -> reserve -> encode (stored v3 frames, or v2 + gzip) -> ack (no
// network) for ~1 KiB events in batches of 1000, against two baselines measured in the same run:
// raw SQLite inserts of the same bytes (one row per event, the design's rejected layout) and batch
// encoding alone. Rates are per wall-clock second (UseRealTime): SQLite's WAL writes are part of
// the cost.
//   queue_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "agent/core/event_json.h"
#include "agent/queue/event_queue.h"
#include "common/core/clock.h"
#include "common/wire/batch_encoder.h"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr size_t kBatch = 1000;

// A 4624-like event of about 1 KiB with varying values, so compression sees realistic text.
t0w::QueueRecord makeEvent(uint64_t n, std::mt19937_64& rng) {
  auto hex = [&](int digits) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string s;
    for (int i = 0; i < digits; ++i) s.push_back(kHex[rng() & 15]);
    return s;
  };
  t0w::Event e;
  e.system.provider_name = "Microsoft-Windows-Security-Auditing";
  e.system.provider_guid = "{54849625-5478-4994-A5BA-3E3B0328C30D}";
  e.system.event_id = 4624;
  e.system.version = 2;
  e.system.task = 12544;
  e.system.keywords = 0x8020000000000000ull;
  e.system.time_created = 133500000000000000 + static_cast<int64_t>(n) * 1000;
  e.system.record_id = n;
  e.system.process_id = 652;
  e.system.thread_id = static_cast<uint32_t>(1000 + rng() % 5000);
  e.system.channel = "Security";
  e.system.computer = "DC01.corp.example.com";
  e.data_section = t0w::Event::DataSection::kEventData;
  e.addField("SubjectUserSid", "S-1-5-18");
  e.addField("SubjectUserName", "DC01$");
  e.addField("SubjectDomainName", "CORP");
  e.addField("SubjectLogonId", "0x3e7");
  e.addField("TargetUserSid",
             "S-1-5-21-3623811015-3361044348-30300820-" + std::to_string(1000 + rng() % 9000));
  e.addField("TargetUserName", "user" + std::to_string(rng() % 5000));
  e.addField("TargetDomainName", "CORP");
  e.addField("TargetLogonId", "0x" + hex(8));
  e.addField("LogonType", std::to_string(2 + rng() % 9));
  e.addField("LogonProcessName", "Kerberos");
  e.addField("AuthenticationPackageName", "Kerberos");
  e.addField("WorkstationName", "-");
  e.addField("LogonGuid",
             "{" + hex(8) + "-" + hex(4) + "-" + hex(4) + "-" + hex(4) + "-" + hex(12) + "}");
  e.addField("ProcessId", "0x0");
  e.addField("ProcessName", "-");
  e.addField("IpAddress", "10." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) +
                              "." + std::to_string(rng() % 256));
  e.addField("IpPort", std::to_string(rng() % 65536));
  e.addField("ImpersonationLevel", "%%1833");
  e.origin = {"Security", n, {}};
  t0w::QueueRecord r;
  r.key = "Security|" + std::to_string(n);
  r.time = e.system.time_created;
  r.body = t0w::eventToJsonLine(e);
  // Pad to ~1 KiB with a comment field of varying words (as rendered messages would add).
  static const char* kWords[] = {"account", "logon",  "network", "session", "privilege",
                                 "service", "ticket", "domain",  "audit",   "success"};
  std::string pad;
  while (r.body.size() + pad.size() + 20 < 1024) {
    pad += kWords[rng() % 10];
    pad += ' ';
  }
  r.body.insert(r.body.size() - 1, ",\"Note\":\"" + pad + "\"");
  return r;
}

const std::vector<t0w::QueueRecord>& events() {
  static const std::vector<t0w::QueueRecord> v = [] {
    std::mt19937_64 rng(42);
    std::vector<t0w::QueueRecord> out;
    for (uint64_t i = 1; i <= kBatch * 8; ++i) out.push_back(makeEvent(i, rng));
    return out;
  }();
  return v;
}

std::vector<t0w::QueueRecord> batchAt(size_t i) {
  const auto& all = events();
  const size_t start = (i % 8) * kBatch;
  return {all.begin() + static_cast<std::ptrdiff_t>(start),
          all.begin() + static_cast<std::ptrdiff_t>(start + kBatch)};
}

const fs::path& benchDir() {
  static const fs::path dir =
      fs::temp_directory_path() / ("t0w-queue-bench-" + std::to_string(std::random_device()()));
  return dir;
}

fs::path freshPath(const char* name) {
  const fs::path& dir = benchDir();
  fs::create_directories(dir);
  const fs::path p = dir / name;
  for (const char* s : {"", "-wal", "-shm"}) fs::remove(p.string() + s);
  return p;
}

void setBytes(benchmark::State& state, uint64_t count) {
  state.SetItemsProcessed(static_cast<int64_t>(count));
  uint64_t avg = 0;
  for (size_t i = 0; i < kBatch; ++i) avg += events()[i].body.size();
  state.counters["event_bytes"] = static_cast<double>(avg) / kBatch;
  state.SetBytesProcessed(static_cast<int64_t>(count * avg / kBatch));
}

// Baseline: one SQLite row per event, 1000-row transactions, WAL + synchronous=NORMAL, then the
// rows are deleted again (as acks would) so the table does not grow across iterations.
void BM_RawSqliteRowPerEvent(benchmark::State& state) {
  const fs::path path = freshPath("raw.db");
  sqlite3* db = nullptr;
  sqlite3_open(path.string().c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
               "CREATE TABLE events(id INTEGER PRIMARY KEY, body BLOB NOT NULL);",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO events(body) VALUES(?1)", -1, &ins, nullptr);
  uint64_t n = 0;
  size_t round = 0;
  for (auto _ : state) {
    const auto batch = batchAt(round++);
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (const auto& r : batch) {
      sqlite3_bind_blob(ins, 1, r.body.data(), static_cast<int>(r.body.size()), SQLITE_STATIC);
      sqlite3_step(ins);
      sqlite3_reset(ins);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_exec(db, "DELETE FROM events", nullptr, nullptr, nullptr);
    n += batch.size();
  }
  sqlite3_finalize(ins);
  sqlite3_close(db);
  setBytes(state, n);
}
BENCHMARK(BM_RawSqliteRowPerEvent)->Unit(benchmark::kMillisecond)->UseRealTime();

// Baseline: building the batch JSON and gzipping it, nothing else.
void BM_EncodeGzipOnly(benchmark::State& state) {
  const t0w::BatchEncoder enc({"agent-bench", "DC01", "0.1.0"}, static_cast<int>(state.range(0)));
  uint64_t n = 0;
  size_t round = 0;
  double ratio = 0;
  for (auto _ : state) {
    const auto batch = batchAt(round++);
    auto out = enc.encode(static_cast<int64_t>(round), batch);
    benchmark::DoNotOptimize(out);
    ratio = static_cast<double>(out->json_bytes) / static_cast<double>(out->gzip.size());
    n += batch.size();
  }
  state.counters["gzip_ratio"] = ratio;
  setBytes(state, n);
}
BENCHMARK(BM_EncodeGzipOnly)->Arg(1)->Arg(6)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same for v3: the batch JSON in one zstd frame at level range(0) (the compressor alone).
void BM_EncodeZstdOnly(benchmark::State& state) {
  const t0w::BatchEncoder enc({"agent-bench", "DC01", "0.1.0"}, "00112233aabbccdd");
  uint64_t n = 0;
  size_t round = 0;
  double ratio = 0;
  for (auto _ : state) {
    const auto batch = batchAt(round++);
    auto out = enc.encodeV3(static_cast<int64_t>(round), batch, static_cast<int>(state.range(0)));
    benchmark::DoNotOptimize(out);
    ratio = static_cast<double>(out->json_bytes) / static_cast<double>(out->zstd.size());
    n += batch.size();
  }
  state.counters["zstd_ratio"] = ratio;
  setBytes(state, n);
}
BENCHMARK(BM_EncodeZstdOnly)->Arg(1)->Arg(3)->Unit(benchmark::kMillisecond)->UseRealTime();

// The agent's path to a collector that reads v3: enqueue (records -> wire fragment -> one zstd
// frame, one transaction with the checkpoint) -> reserve (frames checked, not parsed) -> the
// batch spliced from the stored frames -> ack. Compressed once.
void BM_QueueStoredV3(benchmark::State& state) {
  t0w::SystemClock clock;
  t0w::QueueOptions o;
  o.path = freshPath("queue-v3.db");
  auto q = t0w::EventQueue::open(o, clock);
  if (!q.ok()) {
    state.SkipWithError(q.error().toString().c_str());
    return;
  }
  const t0w::BatchEncoder enc({"agent-bench", "DC01", "0.1.0"}, (*q)->epoch());
  uint64_t n = 0;
  size_t round = 0;
  for (auto _ : state) {
    const auto batch = batchAt(round++);
    auto stored = (*q)->enqueue(batch, {"Security", "bookmark-" + std::to_string(round)});
    auto lease = (*q)->reserve(kBatch, 8 << 20, 60s, t0w::LeaseContent::kStoredChunks);
    if (!stored.ok() || !lease.ok() || lease->record_count != kBatch) {
      state.SkipWithError("queue round trip failed");
      return;
    }
    std::vector<t0w::StoredFragment> chunks;
    for (const auto& c : lease->chunks) chunks.push_back({c.payload, c.records, c.raw_bytes});
    auto out = enc.encodeStoredV3(lease->id, chunks);
    benchmark::DoNotOptimize(out);
    auto acked = (*q)->ack(*lease);
    benchmark::DoNotOptimize(acked);
    n += lease->record_count;
  }
  setBytes(state, n);
}
BENCHMARK(BM_QueueStoredV3)->Unit(benchmark::kMillisecond)->UseRealTime();

// The path to a collector older than v3: enqueue (chunk compress + one transaction with the
// checkpoint) -> reserve (lease + decompress + parse) -> encode v2 + gzip -> ack. range(0): 0 =
// synchronous NORMAL, 1 = FULL; range(1): gzip level of the wire batch.
void BM_QueuePipeline(benchmark::State& state) {
  t0w::SystemClock clock;
  t0w::QueueOptions o;
  o.path = freshPath("queue.db");
  o.sync = state.range(0) == 1 ? t0w::SyncMode::kFull : t0w::SyncMode::kNormal;
  auto q = t0w::EventQueue::open(o, clock);
  if (!q.ok()) {
    state.SkipWithError(q.error().toString().c_str());
    return;
  }
  const t0w::BatchEncoder enc({"agent-bench", "DC01", "0.1.0"}, static_cast<int>(state.range(1)));
  uint64_t n = 0;
  size_t round = 0;
  for (auto _ : state) {
    const auto batch = batchAt(round++);
    auto stored = (*q)->enqueue(batch, {"Security", "bookmark-" + std::to_string(round)});
    auto lease = (*q)->reserve(kBatch, 8 << 20, 60s);
    if (!stored.ok() || !lease.ok() || lease->records.size() != kBatch) {
      state.SkipWithError("queue round trip failed");
      return;
    }
    auto out = enc.encode(lease->id, lease->records);
    benchmark::DoNotOptimize(out);
    auto acked = (*q)->ack(*lease);
    benchmark::DoNotOptimize(acked);
    n += lease->records.size();
  }
  setBytes(state, n);
}
BENCHMARK(BM_QueuePipeline)
    ->Args({0, 1})
    ->Args({0, 6})
    ->Args({1, 1})
    ->ArgNames({"full_sync", "gzip"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The queue alone (enqueue -> reserve with records decoded -> ack), to split the pipeline's
// cost. range(0): zstd level of the stored chunks (negative: faster, larger).
void BM_QueueOnly(benchmark::State& state) {
  t0w::SystemClock clock;
  t0w::QueueOptions o;
  o.path = freshPath("queue-only.db");
  o.compression_level = static_cast<int>(state.range(0));
  auto q = t0w::EventQueue::open(o, clock);
  if (!q.ok()) {
    state.SkipWithError(q.error().toString().c_str());
    return;
  }
  uint64_t n = 0;
  size_t round = 0;
  for (auto _ : state) {
    const auto batch = batchAt(round++);
    auto stored = (*q)->enqueue(batch, {"Security", "bookmark"});
    auto lease = (*q)->reserve(kBatch, 8 << 20, 60s);
    if (!stored.ok() || !lease.ok()) {
      state.SkipWithError("queue round trip failed");
      return;
    }
    auto acked = (*q)->ack(*lease);
    benchmark::DoNotOptimize(acked);
    n += lease->records.size();
  }
  setBytes(state, n);
}
BENCHMARK(BM_QueueOnly)
    ->ArgName("chunk_level")
    ->Arg(-1)
    ->Arg(1)
    ->Arg(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  fs::remove_all(benchDir(), ec);  // the databases are scratch
  return 0;
}
