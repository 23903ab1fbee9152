#include "agent/metrics/heartbeat.h"

#include <algorithm>
#include <cstdio>

#include "common/core/time.h"

namespace t0w {
namespace {

using Json = nlohmann::ordered_json;
using std::chrono::system_clock;

Json isoTime(std::optional<system_clock::time_point> t) {
  if (!t || t->time_since_epoch().count() == 0) return nullptr;
  const int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(t->time_since_epoch()).count();
  return formatFiletime(unixMicrosToFiletime(us));
}

Json optNumber(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

// Rates and lags to 3 decimals: what the collector and `tier0watch status` print is this text.
double round3(double v) { return static_cast<double>(static_cast<int64_t>(v * 1000 + 0.5)) / 1000; }

}  // namespace

Json sourceStatusJson(const SourceStatus& s) {
  Json j;
  j["name"] = s.name;
  j["kind"] = s.kind;
  j["state"] = std::string(toString(s.state));
  j["detail"] = s.detail;
  j["state_since"] = isoTime(s.state_since);
  j["last_position"] = s.last_position;
  j["last_event_time"] = isoTime(s.last_event_time);
  j["events"] = s.events;
  j["rate_per_second"] = round3(s.rate_per_second);
  j["lag_seconds"] = s.lag_seconds ? Json(round3(*s.lag_seconds)) : Json(nullptr);
  j["time_to_wrap_seconds"] = optNumber(s.time_to_wrap_seconds);
  j["gaps"] = s.gaps ? Json(*s.gaps) : Json(nullptr);
  return j;
}

Json buildHeartbeat(const HeartbeatInputs& in) {
  Json j;
  j["type"] = "agent_status";
  j["time"] = isoTime(in.now);
  j["version"] = in.version;
  j["started"] = isoTime(in.started);
  j["uptime_seconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(in.now - in.started).count();
  j["config"] = {{"digest", in.config_digest}, {"origin", in.config_origin}};
  Json sources = Json::array();
  for (const auto& s : in.sources) sources.push_back(sourceStatusJson(s));
  j["sources"] = sources;
  uint64_t dropped = 0;
  Json drops_by_source = Json::object();
  if (in.queue) {
    const QueueStats& q = *in.queue;
    j["queue_depth"] = q.events;
    j["queue"] = {
        {"events", q.events},
        {"priority_events", q.priority_events},
        {"bytes", q.stored_bytes},
        {"max_bytes", in.queue_max_bytes},
        {"oldest_age_seconds",
         q.oldest_age ? Json(static_cast<double>(q.oldest_age->count()) / 1000.0) : Json(nullptr)}};
    for (const auto& [source, d] : q.drops) {
      dropped += d.events;
      drops_by_source[source] = d.events;
    }
    j["dead_letters"] = {{"chunks", q.dead_letter_chunks + q.dead_letter_pruned_chunks},
                         {"batches_refused", in.dead_lettered_batches},
                         {"corrupt_chunks", q.corrupt_chunks}};
  } else {
    j["queue_depth"] = nullptr;
    j["queue"] = nullptr;
    j["dead_letters"] = {{"chunks", nullptr}, {"batches_refused", in.dead_lettered_batches}};
  }
  // Cumulative over the queue file's life: the collector opens events_dropped on the increase
  // between two heartbeats, never on the total.
  j["drops"] = {{"events", dropped}, {"by_source", drops_by_source}};
  j["gaps"] = in.gaps;
  Json rejected = Json::array();
  for (size_t i = 0; i < in.rules_rejected.size() && i < 20; ++i) {
    rejected.push_back(in.rules_rejected[i]);
  }
  j["rules"] = {{"loaded", in.rules_loaded},
                {"rejected", in.rules_rejected.size()},
                {"rejected_files", rejected}};
  if (in.process) {
    j["process"] = {
        {"cpu_seconds", static_cast<double>(in.process->cpu_time.count()) / 1e6},
        {"cpu_percent", round3(in.load.cpu_percent)},
        {"memory_bytes", in.process->memory_bytes},
        {"peak_memory_bytes", std::max(in.process->peak_memory_bytes, in.load.peak_memory_bytes)}};
  } else {
    j["process"] = nullptr;
  }
  j["load"] = {{"throttled", in.load.throttled},
               {"over_cpu", in.load.over_cpu},
               {"over_memory", in.load.over_memory},
               {"max_cpu_percent", in.ceilings.cpu_percent},
               {"max_memory_bytes", in.ceilings.memory_bytes},
               {"throttle_episodes", in.load.throttle_episodes}};
  j["clock_offset_ms"] = in.clock_offset_ms ? Json(*in.clock_offset_ms) : Json(nullptr);
  if (in.audit) {
    Json blocked = Json::array();
    for (const auto& b : *in.audit) blocked.push_back({{"rule", b.rule}, {"reason", b.reason}});
    j["audit"] = {{"checked", true}, {"rules_cannot_fire", blocked}};
  } else {
    j["audit"] = {{"checked", false}, {"rules_cannot_fire", Json::array()}};
  }
  j["heartbeats_skipped"] = in.heartbeats_skipped;
  return j;
}

QueueRecord heartbeatRecord(const Json& body, int64_t run_id, uint64_t sequence,
                            system_clock::time_point now) {
  QueueRecord r;
  r.kind = RecordKind::kStatus;
  r.key = "status|heartbeat|" + std::to_string(run_id) + "|" + std::to_string(sequence);
  r.time = unixMicrosToFiletime(
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count());
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

std::string configDigest(const std::string& text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "fnv1a64:%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace t0w
