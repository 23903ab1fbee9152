// QueueRecord: one event, alert or status report as the queue stores it and the wire carries it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace t0w {

enum class RecordKind : uint8_t { kEvent = 0, kAlert = 1, kStatus = 2 };

const char* recordKindName(RecordKind kind);  // "event" | "alert" | "status"

struct QueueRecord {
  RecordKind kind = RecordKind::kEvent;
  // Agent-local dedup key: "<channel>|<EventRecordID>" or "<file id>|<offset>". The wire
  // encoder prefixes the agent id, which makes it unique across the fleet.
  std::string key;
  std::optional<int64_t> time;  // FILETIME ticks of the event (or report), when known
  std::string body;             // one JSON object on one line (eventToJsonLine, alert JSON)

  bool operator==(const QueueRecord&) const = default;
};

}  // namespace t0w
