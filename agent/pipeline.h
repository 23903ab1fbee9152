// Pipeline: the ONE place that wires the agent's stages: collectors (each on its own thread) →
// rules → encoding → queue (records + the source's checkpoint in one transaction) → shipper.
//
// Checkpoints: a file source's checkpoint is stored with the records it covers. For an EVTX
// replay directory each file is a source ("<path>"), position "record:<index>" of the last
// STORED record, or "complete"; for an XML file, "offset:<byte offset>" of the last stored
// element. A restarted agent skips what is stored and resumes after it: never re-reads into
// the queue, never skips. Alerts go to the queue's priority lane with the events that raised
// them. With overflow pause_sources a full queue makes the collector thread wait and retry.
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
// position, rate, gaps and time to wrap on PipelineOptions::status_board. A subscription runs until
// stop(): finished() is never true while one is configured. The Event Log API comes from
// PipelineOptions::evt_api (tests: a scripted double).
//
// Trace files (source type tracefile, both platforms): checkpoint source "tracefile:<glob as
// configured>", position = the TraceTailCollector's JSON state (per file: identity, generation,
// offset, fingerprint, clock), handed over after each batch of entries and stored with them in
// ONE enqueue, like a bookmark. Event keys are "tracefile:<identity>#<generation>|<offset>".
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
#include "agent/core/source_status.h"
#include "agent/metrics/agent_metrics.h"
#include "agent/metrics/load_governor.h"
#include "agent/platform/host_info.h"
#include "agent/queue/event_queue.h"
#include "agent/rules/rule_set.h"
#include "collectors/eventlog/evt_api.h"
#include "common/core/clock.h"
#include "common/core/result.h"

namespace t0w {

// Makes the Event Log API of one subscription (each collector owns its own: stopping one
// interrupts only its waits).
using EvtApiFactory = std::function<std::unique_ptr<EvtApi>()>;

struct PipelineOptions {
  size_t batch_events = 1000;                 // events per enqueue transaction
  size_t batch_bytes = 512 * 1024;            // serialized bytes per enqueue transaction
  std::chrono::milliseconds full_retry{200};  // pause_sources: wait before retrying
  // eventlog sources. No factory: they fail with an error (the agent refuses them on Linux).
  EvtApiFactory evt_api;
  const Clock* clock = nullptr;  // gap event times; null: system clock
  // Where sources report their state, position and rate; null: not reported (scan, tests).
  SourceStatusBoard* status_board = nullptr;
  // Self-protection (agent/metrics/load_governor.h): sources slow down while it says so; null:
  // never throttled. Eventlog backfill asks it for LoadThrottle::Work::kBackfill.
  const LoadThrottle* load_throttle = nullptr;
  uint32_t eventlog_batch = 256;                     // events per EvtNext
  std::chrono::milliseconds eventlog_wait{1000};     // signal wait / EvtNext timeout
  std::chrono::milliseconds eventlog_retry{30'000};  // missing channel, access denied, ...
  // Channel config/log info: absent → present within this, time to wrap, stall check.
  std::chrono::milliseconds eventlog_probe{60'000};

  // tracefile sources.
  std::chrono::milliseconds tracefile_poll{1000};        // glob re-expanded, files read
  std::chrono::milliseconds tracefile_entry_idle{2000};  // a last entry is complete after this
  std::string computer;  // Computer of trace-file events (they carry none themselves)
};

// The sources the agent runs: `config.sources`, then on Windows the channels of the `windows`
// section (AgentConfig::channelSubscriptions) that `sources` does not list already.
std::vector<SourceConfig> agentSources(const AgentConfig& config,
                                       HostPlatform platform = kThisPlatform);

// kUnsupported for an eventlog source on Linux, kInvalidArgument for two subscriptions to one
// channel (they would share a checkpoint); the message names the source.
Status checkSources(const std::vector<SourceConfig>& sources,
                    HostPlatform platform = kThisPlatform);

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
  // Gap events stored so far (eventlog sources).
  uint64_t gaps() const { return gaps_; }

  // Stores one batch of records with a checkpoint, splitting it when the queue refuses it as too
  // large and, with pause_sources, waiting while the queue is full. Returns false when stop()
  // came first (nothing stored, checkpoint not advanced). Public for the agent's status records.
  bool store(std::vector<QueueRecord> records, const Checkpoint& checkpoint, SourceMetrics* source);

  // The dedup key of an event: "<channel>|<EventRecordID>", "tracefile:<file id>|<offset>" for
  // trace-file entries, or "<source>|<position>" when the event has no channel or record id.
  static std::string eventRecordKey(const Event& event);

 private:
  class SourceSink;
  void runSource(const SourceConfig& source);
  bool reportFileSource(const SourceConfig& source);
  void runFile(const std::filesystem::path& file, bool evtx);
  void runSubscription(const SourceConfig& source);
  void runTracefile(const SourceConfig& source);
  bool activate(class Collector* collector);  // false when stop() came first
  void deactivate(class Collector* collector);
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
  std::atomic<uint64_t> gaps_{0};
  SystemClock system_clock_;
  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::mutex collectors_mu_;
  std::vector<class Collector*> active_;  // collectors running now, for stop()
};

}  // namespace t0w
