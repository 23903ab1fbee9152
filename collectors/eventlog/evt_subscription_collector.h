// EvtSubscriptionCollector: one Windows event channel (Security, System, an Entra agent's Admin
// log, ...) read through a pull-model EvtSubscribe, with a bookmark as the checkpoint.
//
// - Probe first (EvtOpenChannelConfig): a channel that does not exist is *absent* (board state
//   kAbsent and ONE notice, not an error) and probed again every probe_interval, so an Entra
//   agent installed later is picked up within a minute. A disabled channel is reported the same
//   way (kFailing, one notice) and read as soon as it is enabled.
// - Start: after the checkpoint bookmark with EvtSubscribeStrict, so that a bookmark whose event
//   is gone (log wrapped or cleared, agent down too long) makes EvtSubscribe fail instead of
//   silently starting elsewhere. The missing EventRecordID range is reported as a gap event and
//   reading restarts at the oldest record (the gap's ResumedAt field): never "future only".
// - First start (no checkpoint): live reading starts after the newest record (a bookmark made
//   from EvtGetLogInfo), and history is read by a separate bounded query, oldest first
//   (`backfill`: none, all, or a window such as the last 24 hours). Live-first in one thread:
//   each round drains the live subscription completely, then reads at most one backfill batch,
//   then sleeps on the live signal for as long as the CPU budget requires; a live event ends the
//   sleep. So a backfill never takes more than backfill_cpu_share of one core and never delays a
//   live event by more than one backfill batch. The backfill's progress is part of the checkpoint
//   (formatEvtCheckpoint), so a restart resumes it.
// - Read loop: EvtNext in batches (adaptive: halved on RPC_S_INVALID_BOUND, after which the
//   result set is repositioned with EvtSeek after the bookmark, or closed and reopened when the
//   seek fails), EvtRender → parseEventXml, EvtUpdateBookmark per event, after each batch the
//   checkpoint → on_checkpoint. ERROR_EVT_QUERY_RESULT_STALE reopens after the bookmark.
// - Gaps: stale bookmark (bookmark_not_found), log cleared (Security 1102 / System 104 read in
//   the stream: log_cleared), EventRecordID jump on an unfiltered query (record_id_jump), and
//   history overwritten before the backfill reached it (backfill_overwritten).
// - Event Log service restart (RPC errors, invalid handles) and a subscription that stopped
//   delivering while the log grows are detected, reported (kFailing + notice) and reopened.
// - Time to wrap per channel (channel config: max size, retention, auto-backup; log info: size,
//   records; observed rate) → SourceStatusBoard::setTimeToWrap, and a notice when it falls below
//   wrap_warning.
// - EvtFormatMessage only when format_messages is set (the Entra channels, whose detections read
//   message text; never Security: each call costs the EventLog service registry reads), with one
//   publisher metadata handle per publisher, opened with an explicit locale.
// - Other failures (access denied, ...): reported through EventSink::onError naming the channel
//   and the Win32 error, retried every retry_interval until stop(); repeats are counted only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "agent/core/event_source.h"
#include "agent/core/source_status.h"
#include "collectors/eventlog/event_xml_parser.h"
#include "collectors/eventlog/evt_api.h"
#include "common/core/clock.h"

namespace t0w {

// The gap event: Provider "Tier0Watch", EventID kGapEventId, no Channel. Its key is
// origin.source "gap:<channel>" @ first missing record id (stable across re-detection); when the
// first missing record is unknown, origin.source is "gap:<channel>#<detection FILETIME>" so two
// such gaps never share a key. Fields: Channel, Reason, FirstMissingRecordId,
// LastMissingRecordId, MissingCount, BookmarkRecordId, OldestRecordId, ResumedAt, Detail
// (unknown values are absent).
inline constexpr const char* kGapProvider = "Tier0Watch";
inline constexpr uint32_t kGapEventId = 1;
// A notice: a state change the collector must hear about once (status record, not an event).
// Provider "Tier0Watch", EventID kNoticeEventId, origin.source "notice:<channel>"; fields
// Channel, Type (eventlog_absent, eventlog_present, eventlog_disabled, eventlog_service_down,
// eventlog_service_back, eventlog_stalled, eventlog_wrap_risk, eventlog_publisher_disabled,
// eventlog_backfill_done, eventlog_no_backfill), Message.
inline constexpr uint32_t kNoticeEventId = 2;

// First start only: how much of what the channel holds is read.
struct EvtBackfill {
  enum class Kind { kNone, kAll, kWindow };
  Kind kind = Kind::kWindow;
  std::chrono::seconds window{24 * 3600};
};

// What the checkpoint holds: the live bookmark and, while a backfill is pending, its progress.
struct EvtCheckpoint {
  std::string bookmark_xml;
  struct Backfill {
    uint64_t next_record = 0;   // first record not read yet
    uint64_t last_record = 0;   // the newest record when live reading began
    int64_t from_filetime = 0;  // window start; 0: no time bound
    bool operator==(const Backfill&) const = default;
  };
  std::optional<Backfill> backfill;
};
// A bookmark alone is written as it is (what earlier versions stored); with a backfill pending
// a first line "t0w-backfill next=N last=N from=FILETIME" precedes it.
std::string formatEvtCheckpoint(const EvtCheckpoint& checkpoint);
EvtCheckpoint parseEvtCheckpoint(std::string_view text);

struct EvtSubscriptionOptions {
  std::string channel;      // "Security"
  std::string query = "*";  // XPath 1.0 over the channel
  // Checkpoint of the previous run (formatEvtCheckpoint); empty: first start.
  std::string bookmark_xml;
  EvtBackfill backfill;
  double backfill_cpu_share = 0.1;  // of one core, measured with cpu_time
  uint32_t backfill_batch = 64;
  // CPU time of the calling thread; null: the platform's thread CPU clock.
  std::function<std::chrono::nanoseconds()> cpu_time;
  uint32_t batch_size = 256;             // first EvtNext size; halved on RPC_S_INVALID_BOUND
  std::chrono::milliseconds wait{1000};  // signal wait per round; EvtNext timeout
  std::chrono::milliseconds retry_interval{30000};
  // Channel config, log info, time to wrap, absent/disabled re-check, stall check.
  std::chrono::milliseconds probe_interval{60000};
  std::chrono::seconds wrap_warning{3600};  // notice when the forecast falls below
  bool format_messages = false;             // EvtFormatMessage (Entra channels only)
  uint32_t message_locale = 1033;           // LCID of the formatted messages (en-US)
  XmlParseLimits limits;
  SourceStatusBoard* board = nullptr;  // null: not reported
  std::string board_name;              // the source's name on the board; empty: channel
  // Called after every delivered batch with the checkpoint (formatEvtCheckpoint). The pipeline
  // stores it with the batch (a gap event is delivered with the batch that follows it).
  std::function<void(const std::string& checkpoint)> on_checkpoint;
};

struct EvtSubscriptionStats {
  uint64_t batches = 0;
  uint64_t gaps = 0;
  uint64_t notices = 0;
  uint64_t subscribe_attempts = 0;
  uint64_t repeated_failures = 0;  // failures equal to the previous one, counted not reported
  uint64_t render_errors = 0;
  uint64_t batch_halvings = 0;  // RPC_S_INVALID_BOUND
  uint64_t seeks = 0;           // successful EvtSeek after a halving
  uint64_t reopens = 0;         // subscription closed and reopened (stale, seek failed, restart)
  uint64_t backfill_events = 0;
  uint64_t backfill_batches = 0;
  std::chrono::milliseconds backfill_sleep{0};  // total pause the CPU budget imposed
  uint64_t messages_formatted = 0;
  uint64_t format_errors = 0;
  uint64_t publishers_opened = 0;
  uint32_t batch_size = 0;  // current EvtNext size
};

class EvtSubscriptionCollector final : public EventSource {
 public:
  // `api` is this collector's own (stop() interrupts its waits); both must outlive run().
  EvtSubscriptionCollector(EvtApi& api, const Clock& clock, EvtSubscriptionOptions options);

  const std::string& name() const override { return name_; }
  SourceSummary run(EventSink& sink) override;
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
// The bookmark of one record, as EvtRender(EvtRenderBookmark) writes it.
std::string makeBookmarkXml(std::string_view channel, uint64_t record_id);
// CPU time used by the calling thread so far.
std::chrono::nanoseconds threadCpuTime();

}  // namespace t0w
