// AgentMetrics: the agent's self-metrics, counted per stage. Counters are atomics written by the
// stage threads; the periodic log line and the Prometheus text are rendered from a snapshot
// that also carries the queue's state and the shipper's counters.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "agent/queue/event_queue.h"
#include "agent/rules/rule_stage.h"
#include "agent/shipper/shipper.h"

namespace t0w {

struct SourceMetrics {
  std::atomic<uint64_t> events_in{0};       // events the collector produced (after resume skip)
  std::atomic<uint64_t> input_errors{0};    // records that could not be read
  std::atomic<uint64_t> skipped_resume{0};  // already stored before a restart
  std::atomic<uint64_t> enqueued{0};        // events committed to the queue
  std::atomic<uint64_t> pause_waits{0};     // enqueue refused (queue full, pause_sources)
};

class AgentMetrics {
 public:
  // Creates the counters of a source once; the reference stays valid for the object's life.
  SourceMetrics& source(const std::string& name);

  std::atomic<uint64_t> alerts{0};
  std::atomic<uint64_t> enqueued_records{0};    // events + alerts + status records
  std::atomic<uint64_t> dropped_queue_full{0};  // older events dropped to make room
  std::atomic<uint64_t> dropped_too_large{0};   // a single event larger than the queue cap
  std::atomic<uint64_t> dropped_invalid{0};     // records the queue refuses (validateRecord)
  std::atomic<uint64_t> enqueue_errors{0};
  CorrelationGauges correlation;  // kept by the rules stage

  // Rendering. `queue` may be absent when reading the queue failed.
  std::string prometheusText(const std::optional<QueueStats>& queue,
                             const ShipperCounters* shipper) const;
  std::string logLine(const std::optional<QueueStats>& queue, const ShipperCounters* shipper) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<SourceMetrics>> sources_;
};

// Prometheus label value escaping (backslash, double quote, newline).
std::string prometheusLabel(std::string_view value);

}  // namespace t0w
