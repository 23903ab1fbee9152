// Builders of QueueRecords (common/wire) for the queue, wire format, shipper and pipeline tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/wire/queue_record.h"
#include "tests/support/noise.h"

namespace t0w::testing {

inline QueueRecord eventRecord(const std::string& source, uint64_t n, size_t body_bytes = 64) {
  QueueRecord r;
  r.kind = RecordKind::kEvent;
  r.key = source + "|" + std::to_string(n);
  r.time = 133500000000000000 + static_cast<int64_t>(n);
  r.body = "{\"n\":" + std::to_string(n) + ",\"pad\":\"" + noise(body_bytes, n) + "\"}";
  return r;
}

inline QueueRecord alertRecord(const std::string& id) {
  QueueRecord r;
  r.kind = RecordKind::kAlert;
  r.key = "alert|" + id;
  r.body = "{\"rule_id\":\"" + id + "\"}";
  return r;
}

inline std::vector<QueueRecord> eventBatch(const std::string& source, uint64_t first, size_t n,
                                           size_t body_bytes = 64) {
  std::vector<QueueRecord> out;
  for (size_t i = 0; i < n; ++i) out.push_back(eventRecord(source, first + i, body_bytes));
  return out;
}

}  // namespace t0w::testing
