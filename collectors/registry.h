// The registry of source types: the one explicit list that turns a configured source into the
// collectors that read it. `run` (agent/pipeline) and `scan` (agent/cli) both build their
// collectors here, so a new source type touches this file and its own folder only.
//
// No static self-registration: the list below is the whole truth, in one place, and a linker
// cannot drop an entry.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/core/event_source.h"
#include "agent/core/source_status.h"
#include "collectors/eventlog/evt_api.h"
#include "common/core/clock.h"
#include "common/core/result.h"

namespace t0w {

// What sources may need from the process that runs them. Defaults suit `scan`.
struct SourceContext {
  const Clock* clock = nullptr;        // null: the system clock
  SourceStatusBoard* board = nullptr;  // state, position, rate; null: not reported
  // eventlog: one Event Log API per subscription (stopping one interrupts only its waits). Unset:
  // eventlog sources fail with an error (no such API on this platform).
  std::function<std::unique_ptr<EvtApi>()> evt_api;
  uint32_t eventlog_batch = 256;                     // events per EvtNext
  std::chrono::milliseconds eventlog_wait{1000};     // signal wait / EvtNext timeout
  std::chrono::milliseconds eventlog_retry{30'000};  // missing channel, access denied, ...
  std::chrono::milliseconds eventlog_probe{60'000};  // channel config / log info probe
  // tracefile
  std::chrono::milliseconds tracefile_poll{1000};
  std::chrono::milliseconds tracefile_entry_idle{2000};
  // Records per enqueue transaction of the pipeline (a trace tail hands over a checkpoint every
  // half of it, so that entries and their checkpoint usually share one transaction).
  size_t batch_events = 1000;
  std::string computer;  // Computer of trace-file events (they carry none)
  // evtx: also the records libevtx recovers from unallocated space (`scan --include-recovered`).
  bool include_recovered = false;
};

// How a stream's progress is kept.
enum class Resumption {
  // Replay files: the pipeline stores "<prefix><position of the last stored record>" or
  // "complete" and skips what is stored on the next run; the collector always reads from the start.
  kPosition,
  // Streams (subscriptions, trace tails): the collector hands over its own checkpoint (bookmark
  // XML, tail state) after each batch and resumes from the stored one.
  kHandedOver,
};

using CheckpointCallback = std::function<void(const std::string&)>;

// A collector ready to run, with what it needs to stay alive and what to log around it.
struct OpenedCollector {
  std::shared_ptr<void> resources;  // outlives `collector` (declared first): file system, API
  std::unique_ptr<EventSource> collector;
  std::string starting;  // "subscribing (query *, ...)"; empty: nothing to say
  // Details for the "stopped" log line (statistics of the collector); empty function: none.
  std::function<std::string()> details;
};

// One checkpointed stream of a configured source: an EVTX replay folder has one per file.
struct SourceStream {
  std::string name;  // checkpoint, metrics and log name
  Resumption resumption = Resumption::kPosition;
  const char* position_prefix = "";  // kPosition: "record:" (EVTX) or "offset:" (XML)
  // `stored`: the stored checkpoint (kHandedOver; empty on first start). `on_checkpoint`
  // receives the collector's checkpoints (kHandedOver; may be empty for kPosition).
  std::function<Result<OpenedCollector>(const std::string& stored,
                                        CheckpointCallback on_checkpoint)>
      open;
};

struct SourcePlan {
  std::vector<SourceStream> streams;
  std::function<void()> finished;  // after the last stream ran (status board); may be empty
};

// What the agent needs to know about a source type before running it (configuration checks, end
// of input), so that nothing outside this registry switches on SourceType.
struct SourceTraits {
  bool windows_only = false;             // needs the Windows Event Log API
  bool ends = false;                     // reads to an end (replays); streams run until stopped
  bool case_insensitive = false;         // names compare without case (channel names)
  const char* windows_only_reason = "";  // why, for the configuration error
  const char* twice = "";  // why one name may not be configured twice (shared checkpoint)
};
SourceTraits sourceTraits(SourceType type);
// The configured name a user recognises: the channel, or the path / glob.
std::string configuredName(const SourceConfig& source);

// Checks the source (replay files: exists, reported absent on the board otherwise; eventlog:
// the API is there) and lists its streams. The error names the source.
Result<SourcePlan> planSource(const SourceConfig& source, const SourceContext& context);

// "eventlog:<channel>", "tracefile:<glob as configured>", the path for replay files.
std::string sourceName(const SourceConfig& source);

}  // namespace t0w
