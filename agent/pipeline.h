// Pipeline: the ONE place that wires the agent's stages: collectors (each on its own thread) →
// rules → encoding → queue (records + the source's checkpoint in one transaction) → shipper.
//
// Checkpoints: a file source's checkpoint is stored with the records it covers. For an EVTX
// replay directory each file is a source ("<path>"), position "record:<index>" of the last
// STORED record, or "complete"; for an XML file, "offset:<byte offset>" of the last stored
// element. A restarted agent skips what is stored and resumes after it: never re-reads into
// the queue, never skips. Alerts go to the queue's priority lane with the events that raised
// them. With overflow pause_sources a full queue makes the collector thread wait and retry.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/core/clock.h"
#include "agent/metrics/agent_metrics.h"
#include "agent/queue/event_queue.h"
#include "agent/rules/rule_set.h"

namespace t0w {

struct PipelineOptions {
  size_t batch_events = 1000;                 // events per enqueue transaction
  size_t batch_bytes = 512 * 1024;            // serialized bytes per enqueue transaction
  std::chrono::milliseconds full_retry{200};  // pause_sources: wait before retrying
};

// Called after every committed enqueue (records, serialized bytes): the shipper's wake-up.
using EnqueueListener = std::function<void(size_t records, size_t bytes)>;

class Pipeline {
 public:
  // `rules` may be null (no rules configured). Nothing runs before start().
  Pipeline(std::vector<SourceConfig> sources, EventQueue& queue, RuleSet* rules,
           AgentMetrics& metrics, EnqueueListener listener, PipelineOptions options = {});
  ~Pipeline();  // stops and joins
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // One thread per configured source.
  void start();
  // Collectors finish their current record, store what they read (with its checkpoint), return.
  void stop();
  void join();
  // Every source read to its end (file sources) or stopped.
  bool finished() const { return running_ == 0; }

  // Stores one batch of records with a checkpoint, splitting it when the queue refuses it as too
  // large and, with pause_sources, waiting while the queue is full. Returns false when stop()
  // came first (nothing stored, checkpoint not advanced). Public for the agent's status records.
  bool store(std::vector<QueueRecord> records, const Checkpoint& checkpoint, SourceMetrics* source);

  // The dedup key of an event: "<channel>|<EventRecordID>", or "<source>|<position>" when the
  // event has no channel or record id.
  static std::string eventRecordKey(const Event& event);

 private:
  class SourceSink;
  void runSource(const SourceConfig& source);
  void runFile(const std::filesystem::path& file, bool evtx);
  // Rules + encoding of a collector batch (serialised: one RuleSet for all sources).
  std::vector<QueueRecord> encode(std::vector<Event>& events);

  std::vector<SourceConfig> sources_;
  EventQueue& queue_;
  RuleSet* rules_;
  AgentMetrics& metrics_;
  EnqueueListener listener_;
  PipelineOptions options_;
  std::mutex rules_mu_;
  std::vector<std::thread> threads_;
  std::atomic<int> running_{0};
  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::mutex collectors_mu_;
  std::vector<class Collector*> active_;  // collectors running now, for stop()
};

}  // namespace t0w
