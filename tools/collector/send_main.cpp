// t0w-collector-send: posts events and alerts (JSON lines, as `tier0watch scan --events` and
// `scan --rules` print them) to a collector in the wire format, over the shipper's transport
// (BeastTransport). Used by the demo (until the agent's `run` command ships) and the browser test.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/core/time.h"
#include "common/http/beast_transport.h"
#include "common/wire/batch_encoder.h"

namespace {

using Json = nlohmann::json;
using t0w::QueueRecord;
using t0w::RecordKind;

std::optional<int64_t> timeOf(const Json& j, std::initializer_list<const char*> path) {
  const Json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return std::nullopt;
    cur = &(*cur)[k];
  }
  if (!cur->is_string()) return std::nullopt;
  return t0w::parseFiletime(cur->get<std::string>());
}

std::string eventKeyOf(const Json& e) {
  const Json& s = e.value("System", Json::object());
  return s.value("Channel", std::string("unknown")) + "|" +
         std::to_string(s.value("EventRecordID", int64_t{0}));
}

bool readLines(const std::string& path, RecordKind kind, std::vector<QueueRecord>& out) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "t0w-collector-send: cannot read " << path << "\n";
    return false;
  }
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      std::cerr << "t0w-collector-send: " << path << ":" << n << ": not a JSON object, skipped\n";
      continue;
    }
    QueueRecord r;
    r.kind = kind;
    if (kind == RecordKind::kEvent) {
      r.key = eventKeyOf(j);
      r.time = timeOf(j, {"System", "TimeCreated"});
    } else {
      const Json ev = j.value("event", Json::object());
      r.key = "alert|" + j.value("rule_id", std::string("rule")) + "|" + eventKeyOf(ev);
      r.time = timeOf(j, {"time"});
    }
    r.body = j.dump(-1, ' ', false, Json::error_handler_t::replace);
    out.push_back(std::move(r));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Send events and alerts (JSON lines) to tier0watch-collector"};
  std::string url, token, ca, events_file, alerts_file;
  t0w::AgentIdentity agent{"demo-agent", "DC01", "0.1.0"};
  size_t batch_size = 500;
  int64_t first_sequence = 1;
  bool status = false;
  std::string status_json;
  app.add_option("--url", url, "Collector URL, e.g. https://127.0.0.1:8443")->required();
  app.add_option("--token", token, "Agent enrolment token")->required();
  app.add_option("--ca", ca, "PEM file to trust (the collector's certificate)");
  app.add_option("--events", events_file, "Events, one JSON object per line");
  app.add_option("--alerts", alerts_file, "Alerts, one JSON object per line");
  app.add_option("--agent-id", agent.id, "Agent id");
  app.add_option("--hostname", agent.hostname, "Agent host name");
  app.add_option("--batch-size", batch_size, "Records per batch")->check(CLI::Range(1, 100000));
  app.add_option("--first-sequence", first_sequence, "Sequence of the first batch");
  app.add_flag("--status", status, "Also send an agent_status report (queue depth 0)");
  app.add_option("--status-json", status_json,
                 "Also send this JSON object as the agent's heartbeat (agent_status record)");
  CLI11_PARSE(app, argc, argv);

  std::vector<QueueRecord> records;
  if (!alerts_file.empty() && !readLines(alerts_file, RecordKind::kAlert, records)) return 1;
  if (!events_file.empty() && !readLines(events_file, RecordKind::kEvent, records)) return 1;
  if (status) {
    QueueRecord r;
    r.kind = RecordKind::kStatus;
    r.key = "status|" + std::to_string(first_sequence);
    r.body = R"({"type":"agent_status","message":"replay finished","queue_depth":0})";
    records.push_back(r);
  }
  if (!status_json.empty()) {
    std::ifstream in(status_json);
    Json j = Json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      std::cerr << "t0w-collector-send: " << status_json << ": not a JSON object\n";
      return 1;
    }
    j["type"] = "agent_status";
    QueueRecord r;
    r.kind = RecordKind::kStatus;
    r.key = "status|heartbeat|" + std::to_string(first_sequence);
    r.body = j.dump();
    records.push_back(r);
  }
  t0w::BeastTransportOptions options;
  options.url = url;
  options.ca_bundle_file = ca;
  auto transport = t0w::BeastTransport::create(options);
  if (!transport) {
    std::cerr << "t0w-collector-send: " << transport.error().toString() << "\n";
    return 1;
  }
  t0w::BatchEncoder encoder(agent);
  int64_t seq = first_sequence;
  size_t sent = 0;
  for (size_t i = 0; i < records.size() || (records.empty() && i == 0); i += batch_size, ++seq) {
    const size_t n = std::min(batch_size, records.size() - std::min(i, records.size()));
    auto batch = encoder.encode(seq, std::span<const QueueRecord>(records.data() + i, n));
    if (!batch) {
      std::cerr << "t0w-collector-send: " << batch.error().toString() << "\n";
      return 1;
    }
    t0w::HttpRequest req;
    req.path = "/api/v1/batches";
    req.bearer_token = token;
    req.headers = {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}};
    req.body = std::move(batch->gzip);
    auto res = (*transport)->send(req);
    if (!res.isResponse()) {
      std::cerr << "t0w-collector-send: " << res.error().toString() << "\n";
      return 1;
    }
    if (res.response().status != 200) {
      std::cerr << "t0w-collector-send: batch " << batch->batch_id << ": HTTP "
                << res.response().status << ": " << res.response().body << "\n";
      return 1;
    }
    sent += n;
    if (records.empty()) break;
  }
  std::cout << "sent " << sent << " records in " << (seq - first_sequence) << " batches\n";
  return 0;
}
