// QueueWriter: the last stage of every source: stores a batch of records with its checkpoint in
// one queue transaction, splitting a batch the queue refuses as too large and, with overflow
// pause_sources, waiting while the queue is full. Wakes the shipper after each commit.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "agent/metrics/agent_metrics.h"
#include "agent/metrics/load_governor.h"
#include "agent/pipeline/stop_latch.h"
#include "agent/queue/event_queue.h"

namespace t0w {

// Called after every committed enqueue (records, serialized bytes): the shipper's wake-up.
using EnqueueListener = std::function<void(size_t records, size_t bytes)>;

class QueueWriter {
 public:
  QueueWriter(EventQueue& queue, AgentMetrics& metrics, EnqueueListener listener, StopLatch& stop,
              std::chrono::milliseconds full_retry, const LoadThrottle* throttle)
      : queue_(queue),
        metrics_(metrics),
        listener_(std::move(listener)),
        stop_(stop),
        full_retry_(full_retry),
        throttle_(throttle) {}

  // False when stop() came first (nothing stored, checkpoint not advanced). `source`: the
  // source's counters (pause waits) and the self-protection delay; null for the agent's own
  // status records.
  bool store(std::span<const QueueRecord> records, const Checkpoint& checkpoint,
             SourceMetrics* source);

  // The stored position of a checkpoint source.
  Result<std::optional<std::string>> checkpoint(const std::string& source) {
    return queue_.checkpoint(source);
  }

 private:
  EventQueue& queue_;
  AgentMetrics& metrics_;
  EnqueueListener listener_;
  StopLatch& stop_;
  std::chrono::milliseconds full_retry_;
  const LoadThrottle* throttle_;
};

}  // namespace t0w
