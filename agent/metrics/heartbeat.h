// The agent's heartbeat: one status record of type "agent_status" every agent.status_interval_ms
// (also when idle), stored in the queue's priority lane (so it survives outages and is not
// dropped with events) and kept as the latest snapshot in the queue database (agent_status row
// "agent.heartbeat"), where `tier0watch status` reads it. The collector shows the same JSON, so
// both print the same per-source figures.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/rule_blocker.h"
#include "agent/core/source_status.h"
#include "agent/metrics/load_governor.h"
#include "agent/queue/event_queue.h"
#include "common/wire/queue_record.h"

namespace t0w {

struct HeartbeatInputs {
  std::string version;
  std::chrono::system_clock::time_point now{};
  std::chrono::system_clock::time_point started{};
  std::string config_digest;
  std::string config_origin;  // "file" | "group_policy" | "file+group_policy" | "defaults"
  std::vector<SourceStatus> sources;
  std::optional<QueueStats> queue;
  uint64_t queue_max_bytes = 0;
  uint64_t gaps = 0;
  uint64_t dead_lettered_batches = 0;  // shipper: batches the collector refused for good
  uint64_t rules_loaded = 0;
  std::vector<std::string> rules_rejected;  // "file: message"
  std::optional<ProcessSample> process;
  LoadState load;
  LoadCeilings ceilings;
  std::optional<int64_t> clock_offset_ms;         // collector time - agent time
  std::optional<std::vector<RuleBlocker>> audit;  // nullopt: not checked on this platform
  uint64_t heartbeats_skipped = 0;                // the queue refused one (full, pause_sources)
};

// One source as the heartbeat, `tier0watch status` and the collector show it.
nlohmann::ordered_json sourceStatusJson(const SourceStatus& s);
nlohmann::ordered_json buildHeartbeat(const HeartbeatInputs& in);
// The queue record of a heartbeat body; `sequence` makes its key unique within one run and
// `run_id` across runs (the start time in ms).
QueueRecord heartbeatRecord(const nlohmann::ordered_json& body, int64_t run_id, uint64_t sequence,
                            std::chrono::system_clock::time_point now);

// A stable digest of the effective configuration text ("fnv1a64:<hex>"): tells the fleet view
// which agents run the same settings. Not a security hash (secrets are redacted before).
std::string configDigest(const std::string& effective_settings);

}  // namespace t0w
