// The Reader's live subscription: the first start, (re)opening after the bookmark, draining
// batches and delivering events.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "collectors/eventlog/event_xml_parser.h"
#include "collectors/eventlog/evt_subscription_reader.h"

namespace t0w {

// First start: live reading begins after the newest record, history goes to the backfill.
bool EvtSubscriptionCollector::Reader::prepareFirstStart() {
  EvtLogInfo info;
  const uint32_t e = api_.logInfo(o_.channel, info);
  if (e != evt_errc::kOk) {
    if (isServiceDown(e)) {
      serviceDown("EvtGetLogInfo", e);
      return false;
    }
    // Without the newest record there is no bounded history: live only, said once.
    if (!no_backfill_reported_) {
      no_backfill_reported_ = true;
      notice("eventlog_no_backfill",
             "EvtGetLogInfo: " + api_.errorText(e) + "; reading new events only, history not read");
    }
    first_future_ = true;
    return true;
  }
  first_start_done_ = true;
  if (info.record_count == 0) return true;  // empty: everything that comes is new
  const uint64_t newest = info.newestRecord();
  EvtApi::Handle h = EvtApi::kNoHandle;
  const uint32_t be = api_.createBookmark(makeBookmarkXml(o_.channel, newest), h);
  if (be != evt_errc::kOk) {
    fail("EvtCreateBookmark", be);
    first_start_done_ = false;
    return false;
  }
  bookmark_ = EvtHandle(api_, h);
  has_position_ = true;
  bookmark_id_ = newest;
  last_id_ = newest;
  if (o_.backfill.kind != EvtBackfill::Kind::kNone) {
    EvtCheckpoint::Backfill b;
    b.next_record = info.oldest_record;
    b.last_record = newest;
    if (o_.backfill.kind == EvtBackfill::Kind::kWindow) {
      b.from_filetime = nowFiletime(c_.clock_) -
                        static_cast<int64_t>(o_.backfill.window.count()) * kTicksPerSecond;
    }
    cp_.backfill = b;
  }
  checkpoint();  // a restart resumes here, not at another "first start"
  return true;
}

bool EvtSubscriptionCollector::Reader::open() {
  if (!has_position_ && !first_start_done_ && !first_future_) {
    // A checkpoint we could not use reads everything (it was reading before); else first start.
    if (unusable_checkpoint_) {
      first_start_done_ = true;
    } else if (!prepareFirstStart()) {
      return false;
    }
  }
  if (!bookmark_) {
    EvtApi::Handle h = EvtApi::kNoHandle;
    const uint32_t e = api_.createBookmark("", h);
    if (e != evt_errc::kOk) {
      fail("EvtCreateBookmark", e);
      return false;
    }
    bookmark_ = EvtHandle(api_, h);
  }
  ++c_.stats_.subscribe_attempts;
  // Once the bookmark points at an event, every (re)subscription starts strictly after it.
  const uint32_t flags = has_position_   ? (EvtApi::kStartAfterBookmark | EvtApi::kStrict)
                         : first_future_ ? EvtApi::kToFutureEvents
                                         : EvtApi::kStartAtOldestRecord;
  EvtApi::Handle h = EvtApi::kNoHandle;
  const uint32_t e = api_.subscribe(o_.channel, o_.query,
                                    has_position_ ? bookmark_.get() : EvtApi::kNoHandle, flags, h);
  if (e == evt_errc::kOk) {
    sub_ = EvtHandle(api_, h);
    last_failure_ = evt_errc::kOk;
    if (absent_notified_) {
      absent_notified_ = false;
      notice("eventlog_present", "the channel exists now; subscribed");
    }
    if (service_down_) {
      service_down_ = false;
      notice("eventlog_service_back", "the Event Log service is back; reading resumed");
    }
    setRunningState();
    return true;
  }
  if (has_position_ && isStale(e)) {
    bookmarkGap(e);
    // The bookmark's position is gone: read everything that is left, never "future only".
    has_position_ = false;
    first_future_ = false;
    first_start_done_ = true;
    return open();
  }
  if (e == evt_errc::kChannelNotFound) {
    markAbsent(e);
    return false;
  }
  if (isServiceDown(e)) {
    serviceDown("EvtSubscribe", e);
    return false;
  }
  fail("EvtSubscribe", e);
  return false;
}

EvtSubscriptionCollector::Reader::Drain EvtSubscriptionCollector::Reader::drain() {
  std::vector<EvtApi::Handle> handles;
  while (!stopped()) {
    handles.clear();
    const uint32_t e = api_.next(sub_.get(), batch_, o_.wait, handles);
    if (e == evt_errc::kNoMoreItems || e == evt_errc::kTimeout) return Drain::kIdle;
    if (e == evt_errc::kRpcInvalidBound) {
      for (EvtApi::Handle h : handles) api_.close(h);
      if (batch_ == 1) {
        fail("EvtNext (one event per call)", e);
        return Drain::kFailed;
      }
      // The events of this batch do not fit one RPC response. EvtNext moved the read position
      // anyway, so the next call must start after the bookmark again.
      batch_ = std::max<uint32_t>(1, batch_ / 2);
      ++c_.stats_.batch_halvings;
      if (has_position_ && api_.seekAfterBookmark(sub_.get(), bookmark_.get()) == evt_errc::kOk) {
        ++c_.stats_.seeks;
        continue;
      }
      return Drain::kReopen;
    }
    if (e != evt_errc::kOk) {
      for (EvtApi::Handle h : handles) api_.close(h);
      if (isServiceDown(e)) {
        serviceDown("EvtNext", e);
        return Drain::kServiceDown;
      }
      // Reopen after the bookmark (strict): if its event survived nothing was lost, otherwise
      // open() measures the gap. Without a position yet, start as before. A result set that
      // keeps going stale right after reopening is a failure, not a reason to spin.
      if (isStale(e) && ++stale_streak_ <= kMaxStaleReopens) return Drain::kReopen;
      fail("EvtNext", e);
      return Drain::kFailed;
    }
    if (handles.empty()) return Drain::kIdle;
    uint64_t delivered = 0;
    std::optional<int64_t> newest_time;
    for (EvtApi::Handle h : handles) {
      EvtHandle owned(api_, h);  // every event handle from EvtNext must be closed
      if (stopped()) continue;
      if (deliverLive(h, newest_time)) ++delivered;
    }
    ++c_.stats_.batches;
    stale_streak_ = 0;
    progress(delivered, newest_time);
    checkpoint();
  }
  return Drain::kIdle;
}

void EvtSubscriptionCollector::Reader::progress(uint64_t n,
                                                std::optional<int64_t> newest_filetime) {
  if (o_.board == nullptr || (n == 0 && !last_id_)) return;
  std::optional<std::chrono::system_clock::time_point> t;
  if (newest_filetime) {
    t = std::chrono::system_clock::time_point(
        std::chrono::microseconds(filetimeToUnixMicros(*newest_filetime)));
  }
  o_.board->progress(board_name_, n, last_id_ ? "record:" + std::to_string(*last_id_) : "", t);
}

// Renders and parses one event; nullopt (reported, skipped) when it cannot be read.
std::optional<Event> EvtSubscriptionCollector::Reader::readEvent(EvtApi::Handle h, uint64_t after) {
  std::string xml;
  const uint32_t e = api_.renderEventXml(h, xml);
  if (e != evt_errc::kOk) {
    ++c_.stats_.render_errors;
    report(errcForWin32(e),
           o_.channel + ": EvtRender of the event after record " + std::to_string(after) + ": " +
               api_.errorText(e),
           after + 1);
    return std::nullopt;
  }
  std::optional<Event> ev(std::in_place);
  Status st = parser_.parseInPlace(xml.data(), xml.size(), *ev);  // xml is ours to spoil
  if (!st.ok()) {
    report(st.error().code,
           o_.channel + ": event after record " + std::to_string(after) + ": " + st.error().message,
           after + 1);
    return std::nullopt;
  }
  if (o_.format_messages) formatMessage(h, *ev);
  return ev;
}

bool EvtSubscriptionCollector::Reader::deliverLive(EvtApi::Handle h,
                                                   std::optional<int64_t>& newest_time) {
  std::optional<Event> ev = readEvent(h, last_id_.value_or(0));
  if (!ev) {
    advanceBookmark(h);  // skip it rather than read it again forever
    return false;
  }
  const uint64_t id = ev->system.record_id;
  if (isClearEvent(*ev) && last_id_ && id > *last_id_ + 1) {
    emitGap("log_cleared", *last_id_ + 1, id - 1, last_id_, std::nullopt, std::nullopt,
            "the log was cleared (EventID " + std::to_string(ev->system.event_id) + "); records " +
                std::to_string(*last_id_ + 1) + ".." + std::to_string(id - 1) +
                " were not read before");
  } else if (unfiltered() && last_id_ && id > *last_id_ + 1) {
    emitGap("record_id_jump", *last_id_ + 1, id - 1, last_id_, std::nullopt, std::nullopt,
            "EventRecordID jumped from " + std::to_string(*last_id_) + " to " + std::to_string(id));
  }
  advanceBookmark(h);
  last_id_ = id;
  if (ev->system.time_created) {
    newest_time =
        std::max(newest_time.value_or(*ev->system.time_created), *ev->system.time_created);
  }
  ev->origin.source = o_.channel;
  ev->origin.position = id;
  ++summary_.records;
  sink_.onEvent(std::move(*ev));
  return true;
}

void EvtSubscriptionCollector::Reader::advanceBookmark(EvtApi::Handle event) {
  const uint32_t e = api_.updateBookmark(bookmark_.get(), event);
  if (e != evt_errc::kOk) {
    report(errcForWin32(e), o_.channel + ": EvtUpdateBookmark: " + api_.errorText(e) +
                                " (the checkpoint does not advance)");
    return;
  }
  has_position_ = true;
}

}  // namespace t0w
