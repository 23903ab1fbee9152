// t0w-loadgen: concurrent agents posting wire batches to tier0watch-collector, for the ingest
// benchmark (tools/bench/collector_bench.sh). Batches are encoded before the clock starts, so
// the figures measure the collector (and TLS), not the generator. Bounded: stops after
// --batches per agent or --max-seconds, whichever comes first.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/core/time.h"
#include "common/http/beast_transport.h"
#include "common/wire/batch_encoder.h"

namespace {

using Json = nlohmann::json;

t0w::QueueRecord makeEvent(int agent, int64_t record_id) {
  // A 4624 logon of about 1 KiB, the most common event on a DC.
  Json body{{"System",
             {{"Provider",
               {{"Name", "Microsoft-Windows-Security-Auditing"},
                {"Guid", "{54849625-5478-4994-A5BA-3E3B0328C30D}"}}},
              {"EventID", 4624},
              {"Version", 2},
              {"Level", 0},
              {"Task", 12544},
              {"Opcode", 0},
              {"Keywords", "0x8020000000000000"},
              {"TimeCreated", t0w::formatFiletime(t0w::unixMicrosToFiletime(
                                  int64_t{1715673600} * 1000000 + record_id * 1000))},
              {"EventRecordID", record_id},
              {"Channel", "Security"},
              {"Computer", "DC" + std::to_string(agent) + ".corp.example"}}},
            {"EventData",
             {{"SubjectUserSid", "S-1-0-0"},
              {"TargetUserSid", "S-1-5-21-3623811015-3361044348-30300820-" +
                                    std::to_string(1000 + record_id % 5000)},
              {"TargetUserName", "user" + std::to_string(record_id % 5000)},
              {"TargetDomainName", "CORP"},
              {"TargetLogonId", "0x" + std::to_string(record_id * 7919)},
              {"LogonType", "3"},
              {"LogonProcessName", "Kerberos"},
              {"AuthenticationPackageName", "Kerberos"},
              {"WorkstationName", "-"},
              {"LogonGuid", "{00000000-0000-0000-0000-000000000000}"},
              {"IpAddress", "10.1." + std::to_string(record_id % 250) + "." +
                                std::to_string(record_id % 200 + 1)},
              {"IpPort", std::to_string(49152 + record_id % 16000)},
              {"ImpersonationLevel", "%%1833"},
              {"ElevatedToken", "%%1843"}}}};
  t0w::QueueRecord r;
  r.kind = t0w::RecordKind::kEvent;
  r.key = "Security|" + std::to_string(record_id);
  r.body = body.dump();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"t0w-loadgen: concurrent agents posting batches to tier0watch-collector"};
  std::string url, ca, tokens_file;
  int batches = 40;
  int batch_size = 500;
  int max_seconds = 120;
  int agent_offset = 0;
  app.add_option("--url", url, "Collector URL")->required();
  app.add_option("--ca", ca, "PEM file to trust");
  app.add_option("--tokens", tokens_file, "File with one enrolment token per line: one agent each")
      ->required();
  app.add_option("--batches", batches, "Batches per agent")->check(CLI::Range(1, 100000));
  app.add_option("--batch-size", batch_size, "Events per batch")->check(CLI::Range(1, 20000));
  app.add_option("--max-seconds", max_seconds, "Stop after this many seconds")
      ->check(CLI::Range(1, 3600));
  app.add_option("--agent-offset", agent_offset,
                 "Number of the first agent (load-agent-N): several t0w-loadgen processes on one "
                 "collector database need distinct agent ids")
      ->check(CLI::Range(0, 1000000));
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> tokens;
  std::ifstream in(tokens_file);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) tokens.push_back(line);
  }
  if (tokens.empty()) {
    std::cerr << "t0w-loadgen: no tokens in " << tokens_file << "\n";
    return 2;
  }
  const int agents = static_cast<int>(tokens.size());
  // Encode everything first.
  std::vector<std::vector<std::string>> bodies(static_cast<size_t>(agents));
  uint64_t gzip_bytes = 0;
  uint64_t json_bytes = 0;
  for (int a = 0; a < agents; ++a) {
    t0w::BatchEncoder encoder({"load-agent-" + std::to_string(a + agent_offset),
                               "DC" + std::to_string(a + agent_offset), "0.1.0"},
                              1);
    for (int b = 0; b < batches; ++b) {
      std::vector<t0w::QueueRecord> records;
      records.reserve(static_cast<size_t>(batch_size));
      for (int i = 0; i < batch_size; ++i) {
        records.push_back(makeEvent(a, int64_t{b} * batch_size + i + 1));
      }
      auto batch = encoder.encode(b + 1, records);
      if (!batch) {
        std::cerr << "t0w-loadgen: " << batch.error().toString() << "\n";
        return 1;
      }
      gzip_bytes += batch->gzip.size();
      json_bytes += batch->json_bytes;
      bodies[static_cast<size_t>(a)].push_back(std::move(batch->gzip));
    }
  }

  std::atomic<uint64_t> ok{0}, failed{0}, throttled{0};
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::seconds(max_seconds);
  std::vector<std::thread> threads;
  for (int a = 0; a < agents; ++a) {
    threads.emplace_back([&, a] {
      t0w::BeastTransportOptions o;
      o.url = url;
      o.ca_bundle_file = ca;
      auto transport = t0w::BeastTransport::create(o);
      if (!transport) {
        std::cerr << "t0w-loadgen: " << transport.error().toString() << "\n";
        ++failed;
        return;
      }
      for (size_t b = 0; b < bodies[static_cast<size_t>(a)].size(); ++b) {
        if (std::chrono::steady_clock::now() > deadline) return;
        t0w::HttpRequest req;
        req.path = "/api/v1/batches";
        req.bearer_token = tokens[static_cast<size_t>(a)];
        req.headers = {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}};
        req.body = bodies[static_cast<size_t>(a)][b];
        auto r = (*transport)->send(req);
        if (r.isResponse() && r.response().status == 200) {
          ++ok;
        } else if (r.isResponse() && r.response().status == 429) {
          ++throttled;
        } else {
          ++failed;
          std::cerr << "t0w-loadgen: agent " << a << " batch " << b + 1 << ": "
                    << (r.isResponse() ? "HTTP " + std::to_string(r.response().status) + " " +
                                             r.response().body
                                       : r.error().toString())
                    << "\n";
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Json report{{"agents", agents},
              {"batch_size", batch_size},
              {"batches_ok", ok.load()},
              {"batches_failed", failed.load()},
              {"batches_throttled", throttled.load()},
              {"seconds", seconds},
              {"batches_per_second", static_cast<double>(ok.load()) / seconds},
              {"events_per_second", static_cast<double>(ok.load()) * batch_size / seconds},
              {"gzip_bytes_per_batch", gzip_bytes / (static_cast<uint64_t>(agents) * batches)},
              {"json_bytes_per_batch", json_bytes / (static_cast<uint64_t>(agents) * batches)}};
  std::cout << report.dump() << std::endl;
  return failed.load() == 0 ? 0 : 1;
}
