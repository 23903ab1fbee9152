// EvtSubscriptionCollector: one Windows event channel (Security, System, Directory Service, ...)
// read through a pull-model EvtSubscribe, with a bookmark as the checkpoint.
//
// - Start: after the checkpoint bookmark with EvtSubscribeStrict, so that a bookmark whose event
//   is gone (log wrapped or cleared) makes EvtSubscribe fail instead of silently starting
//   elsewhere. The missing EventRecordID range (bookmark + 1 .. oldest record - 1) is then
//   reported as a gap event and reading restarts at the oldest record: never "future only".
// - Without a checkpoint: the oldest record (default) or future events only (configured).
// - Read loop on the calling thread (the pipeline gives each collector its own): EvtNext in
//   batches, EvtRender(EvtRenderEventXml) → parseEventXml, EvtUpdateBookmark per event, and after
//   each batch EvtRender(EvtRenderBookmark) → on_checkpoint.
// - A result set that goes stale while reading (log cleared or rolled over) is reopened after the
//   bookmark the same way. With the query "*" consecutive records must have consecutive
//   EventRecordIDs, so a jump is a gap event too (with a filter, records are sparse by design).
// - Channel missing, access denied, ...: reported through EventSink::onError naming the channel
//   and the Win32 error, retried every retry_interval until stop(). Repeats of the same failure
//   are counted, not reported again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "agent/core/clock.h"
#include "agent/core/collector.h"
#include "collectors/eventlog/event_xml_parser.h"
#include "collectors/eventlog/evt_api.h"

namespace t0w {

// The gap event: Provider "Tier0Watch", EventID kGapEventId, no Channel (its key is
// origin.source "gap:<channel>" @ first missing record id, stable across re-detection).
// Fields: Channel, Reason, FirstMissingRecordId, LastMissingRecordId, MissingCount,
// BookmarkRecordId, OldestRecordId, Detail (unknown values are absent).
inline constexpr const char* kGapProvider = "Tier0Watch";
inline constexpr uint32_t kGapEventId = 1;

struct EvtSubscriptionOptions {
  std::string channel;      // "Security"
  std::string query = "*";  // XPath 1.0 over the channel
  // Checkpoint of the previous run (rendered bookmark XML); empty: start as below.
  std::string bookmark_xml;
  bool future_only_without_bookmark = false;  // first start: skip what the channel holds
  uint32_t batch_size = 64;
  std::chrono::milliseconds wait{1000};  // signal wait per round; EvtNext timeout
  std::chrono::milliseconds retry_interval{30000};
  XmlParseLimits limits;
  // Called after every delivered batch with the bookmark of its last event. The pipeline stores
  // it with the batch (a gap event is delivered with the batch that follows it).
  std::function<void(const std::string& bookmark_xml)> on_checkpoint;
};

struct EvtSubscriptionStats {
  uint64_t batches = 0;
  uint64_t gaps = 0;
  uint64_t subscribe_attempts = 0;
  uint64_t repeated_failures = 0;  // failures equal to the previous one, counted not reported
  uint64_t render_errors = 0;
};

class EvtSubscriptionCollector final : public Collector {
 public:
  // `api` is this collector's own (stop() interrupts its waits); both must outlive run().
  EvtSubscriptionCollector(EvtApi& api, const Clock& clock, EvtSubscriptionOptions options);

  const std::string& name() const override { return name_; }
  CollectorSummary run(EventSink& sink) override;
  void stop() override;

  // Valid after run() returns.
  const EvtSubscriptionStats& stats() const { return stats_; }

 private:
  class Reader;

  EvtApi& api_;
  const Clock& clock_;
  EvtSubscriptionOptions options_;
  std::string name_;  // "eventlog:<channel>"
  std::atomic<bool> stop_{false};
  EvtSubscriptionStats stats_;
};

// RecordId of the first <Bookmark> of a rendered bookmark list
// (<BookmarkList><Bookmark Channel='Security' RecordId='42' IsCurrent='true'/></BookmarkList>).
std::optional<uint64_t> bookmarkRecordId(std::string_view bookmark_xml);

}  // namespace t0w
