// e2e_ship_bench: events/s and CPU seconds per million events through the agent's delivery path
// enqueue → reserve → encode (JSON + gzip) → BeastTransport HTTPS → ack, against the loopback
// t0w-fake-collector (--no-record). The collector's CPU is read from /proc/<pid>/stat so that its
// cost can be told apart from the agent's (this process: producer thread + shipper thread).
//
// usage: e2e_ship_bench [EVENTS=1000000] [BATCH_EVENTS=5000]
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "agent/core/event_json.h"
#include "agent/queue/event_queue.h"
#include "agent/shipper/shipper.h"
#include "common/core/std_random.h"
#include "common/http/beast_transport.h"
#include "common/wire/batch_encoder.h"
#include "tests/fakes/fake_process.h"

namespace {

using namespace t0w;

double cpuSecondsSelf() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// utime + stime of another process (fields 14 and 15 of /proc/<pid>/stat).
double cpuSecondsOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A realistic 4624 logon event body, as the pipeline encodes it.
QueueRecord makeRecord(uint64_t i) {
  Event e;
  e.system.provider_name = "Microsoft-Windows-Security-Auditing";
  e.system.provider_guid = "{54849625-5478-4994-A5BA-3E3B0328C30D}";
  e.system.event_id = 4624;
  e.system.version = 2;
  e.system.task = 12544;
  e.system.keywords = 0x8020000000000000ull;
  e.system.time_created = 133'601'472'000'000'000 + static_cast<int64_t>(i) * 10'000;
  e.system.record_id = i + 1;
  e.system.process_id = 696;
  e.system.thread_id = 1000 + static_cast<uint32_t>(i % 97);
  e.system.channel = "Security";
  e.system.computer = "DC01.corp.contoso.com";
  e.data_section = Event::DataSection::kEventData;
  e.addField("SubjectUserSid", "S-1-5-18");
  e.addField("SubjectUserName", "DC01$");
  e.addField("TargetUserName", "user" + std::to_string(i % 5000));
  e.addField("TargetDomainName", "CORP");
  e.addField("LogonType", "3");
  e.addField("IpAddress",
             "10.0." + std::to_string((i / 250) % 250) + "." + std::to_string(i % 250));
  e.addField("WorkstationName", "WS" + std::to_string(i % 5000));
  e.addField("AuthenticationPackageName", "Kerberos");
  e.addField("TargetLogonId", "0x" + std::to_string(0x100000 + i));
  QueueRecord r;
  r.key = "Security|" + std::to_string(i + 1);
  r.time = e.system.time_created;
  r.body = eventToJsonLine(e);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t events = argc > 1 ? std::stoull(argv[1]) : 1'000'000;
  const size_t batch_events = argc > 2 ? std::stoul(argv[2]) : 5000;
  fakes::TempDir dir;
  auto collector = fakes::FakeProcess::start(
      T0W_FAKE_COLLECTOR, {"--dir", dir.path(), "--no-record", "--time-limit", "3600"});
  if (!collector) {
    std::fprintf(stderr, "cannot start the fake collector: %s\n",
                 collector.error().toString().c_str());
    return 1;
  }
  BeastTransportOptions to;
  to.url = "https://127.0.0.1:" + std::to_string((*collector)->port());
  to.ca_bundle_file = (*collector)->ready().at("ca_cert").get<std::string>();
  auto transport = BeastTransport::create(to);
  if (!transport) return 1;
  SystemClock clock;
  StdRandom random{1};  // fixed seed: runs repeat
  QueueOptions qo;
  qo.path = std::filesystem::path(dir.path()) / "queue.db";
  auto queue = EventQueue::open(qo, clock);
  if (!queue) return 1;
  const BatchEncoder encoder(AgentIdentity{"bench-agent", "bench", "0"});
  ShipperOptions so;
  so.max_events = batch_events;
  so.max_delay = std::chrono::milliseconds(50);
  so.backoff.base = std::chrono::milliseconds(10);
  Shipper shipper(**queue, **transport, encoder, so, clock, random);

  // Bodies are prepared before timing: the pipeline encodes an event once, upstream of enqueue.
  constexpr size_t kEnqueueBatch = 1000;
  std::vector<QueueRecord> prepared;
  for (uint64_t i = 0; i < kEnqueueBatch; ++i) prepared.push_back(makeRecord(i));
  size_t raw = 0;
  for (const auto& r : prepared) raw += r.body.size();

  const double cpu0 = cpuSecondsSelf();
  const double collector0 = cpuSecondsOf((*collector)->pid());
  const auto t0 = std::chrono::steady_clock::now();
  std::thread ship([&] { shipper.run(); });
  for (uint64_t done = 0; done < events;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kEnqueueBatch, events - done));
    std::vector<QueueRecord> batch(prepared.begin(), prepared.begin() + n);
    for (size_t k = 0; k < n; ++k) batch[k].key = "Security|" + std::to_string(done + k + 1);
    auto r = (*queue)->enqueue(batch, Checkpoint{"bench", std::to_string(done + n)});
    if (!r || !r->stored()) {
      std::fprintf(stderr, "enqueue failed\n");
      return 1;
    }
    shipper.notifyEnqueued(n, n * (raw / kEnqueueBatch));
    done += n;
  }
  while (shipper.counters().records_shipped < events) {
    // Bounded by the shipper's progress; a failure shows in the counters printed below.
    if (std::chrono::steady_clock::now() - t0 > std::chrono::minutes(30)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto t1 = std::chrono::steady_clock::now();
  shipper.stop();
  ship.join();
  const double seconds = std::chrono::duration<double>(t1 - t0).count();
  const double cpu = cpuSecondsSelf() - cpu0;
  const double collector_cpu = cpuSecondsOf((*collector)->pid()) - collector0;
  const double millions = static_cast<double>(events) / 1e6;
  std::printf(
      "events %llu, batch %zu, avg body %zu B: %.2f s wall, %.0f events/s\n"
      "agent (enqueue+reserve+encode+gzip+TLS send+ack): %.2f CPU s = %.2f CPU s per million\n"
      "fake collector (TLS receive, no decode): %.2f CPU s = %.2f CPU s per million\n"
      "requests %llu, shipped %llu, retries %llu, transport errors %llu\n",
      static_cast<unsigned long long>(events), batch_events, raw / kEnqueueBatch, seconds,
      static_cast<double>(events) / seconds, cpu, cpu / millions, collector_cpu,
      collector_cpu / millions, static_cast<unsigned long long>(shipper.counters().batches_sent),
      static_cast<unsigned long long>(shipper.counters().records_shipped),
      static_cast<unsigned long long>(shipper.counters().retries),
      static_cast<unsigned long long>(shipper.counters().transport_errors));
  return shipper.counters().records_shipped >= events ? 0 : 1;
}
