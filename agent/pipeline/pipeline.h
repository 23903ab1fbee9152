// Pipeline: the ONE place that wires the agent's stages. Per configured source, on its own thread:
//
//   collectors/registry (collector) → ResumeGate → RuleStage (shared RuleSet) → RecordBatcher
//     → QueueWriter (records + the source's checkpoint in one transaction) → EnqueueListener
//     (wakes the shipper, which reads the queue on its own thread: agent/shipper).
//
// `scan` runs the same registry and RuleStage without a queue (agent/cli/scan_pipeline.cpp).
//
// Checkpoints: a file source's checkpoint is stored with the records it covers. For an EVTX
// replay directory each file is a source ("<path>"), position "record:<index>" of the last
// STORED record, or "complete"; for an XML file, "offset:<byte offset>" of the last stored
// element. A restarted agent skips what is stored and resumes after it: never re-reads into
// the queue, never skips. Alerts go to the queue's priority lane with the events that raised
// them. With overflow pause_sources a full queue makes the source's thread wait and retry.
//
// Event log subscriptions (source type eventlog, Windows): checkpoint source
// "eventlog:<channel>", position = the rendered bookmark XML the EvtSubscriptionCollector hands
// over after each EvtNext batch; that batch's records and the bookmark are stored in ONE
// enqueue. A batch stored early (size limit) keeps the previous bookmark, so a crash re-reads
// (the collector deduplicates) and never skips. The stored bookmark is read back at start. A gap
// event (stale bookmark, EventRecordID jump) is stored at once as the event itself AND a status
// record {"type":"eventlog_gap",...} (the collector counts status types containing "gap" in the
// agent's health). A notice (configured/absent, disabled, service restart, wrap risk, ...) is a
// status record {"type":"eventlog_absent",...} only. First start: live from now plus a bounded
// backfill (SourceConfig::backfill, EvtSubscriptionCollector); the subscription reports its state,
// position, rate, gaps and time to wrap on SourceContext::board. A subscription runs until
// stop(): finished() is never true while one is configured. The Event Log API comes from
// SourceContext::evt_api (tests: FakeEvtApi).
//
// Replays only: when the last source has ended, correlation windows still open are decided
// (RuleSet::flush) and their alerts stored, as `scan` does at the end of its files.
//
// Trace files (source type tracefile, both platforms): checkpoint source "tracefile:<glob as
// configured>", position = the TraceTailCollector's JSON state (per file: identity, generation,
// offset, fingerprint, clock), handed over after each batch of entries and stored with them in
// ONE enqueue, like a bookmark. Event keys are "tracefile:<identity>#<generation>|<offset>".
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/metrics/agent_metrics.h"
#include "agent/metrics/load_governor.h"
#include "agent/pipeline/agent_sources.h"
#include "agent/pipeline/queue_writer.h"
#include "agent/pipeline/record_batcher.h"
#include "agent/pipeline/stop_latch.h"
#include "agent/queue/event_queue.h"
#include "agent/rules/rule_set.h"
#include "collectors/registry.h"
#include "common/core/result.h"

namespace t0w {

struct PipelineOptions {
  BatchLimits batch;                          // per enqueue transaction
  std::chrono::milliseconds full_retry{200};  // pause_sources: wait before retrying
  // Self-protection (agent/metrics/load_governor.h): sources slow down while it says so; null:
  // never throttled. Eventlog backfill asks it for LoadThrottle::Work::kBackfill.
  const LoadThrottle* load_throttle = nullptr;
  // What the sources get (clock, status board, Event Log API, timings): collectors/registry.h.
  // Its batch_events is set from `batch`.
  SourceContext sources;
};

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
  // Gap events stored so far (eventlog sources).
  uint64_t gaps() const { return gaps_; }

  // Stores one batch of records with a checkpoint (QueueWriter::store): the agent's own status
  // records.
  bool store(std::vector<QueueRecord> records, const Checkpoint& checkpoint,
             SourceMetrics* source) {
    return writer_.store(records, checkpoint, source);
  }

 private:
  void runSource(const SourceConfig& source);
  void runStream(const SourceStream& stream);
  void endOfInput();
  bool activate(EventSource* collector);  // false when stop() came first
  void deactivate(EventSource* collector);

  std::vector<SourceConfig> sources_;
  RuleSet* rules_;
  AgentMetrics& metrics_;
  PipelineOptions options_;
  StopLatch stop_;
  QueueWriter writer_;
  std::mutex rules_mu_;  // one RuleSet for all sources: correlations span them
  std::vector<std::thread> threads_;
  std::atomic<int> running_{0};
  std::atomic<int> left_{0};  // sources whose thread has not ended yet
  std::atomic<uint64_t> gaps_{0};
  std::mutex collectors_mu_;
  std::vector<EventSource*> active_;  // collectors running now, for stop()
};

}  // namespace t0w
