#include "collectors/eventlog/evt_subscription_collector.h"

#include <pugixml.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/time.h"

namespace t0w {
namespace {

// The bookmarked event no longer exists (EvtSubscribeStrict), or the result set outlived a clear
// or roll-over of the log.
bool isStale(uint32_t e) {
  return e == evt_errc::kNotFound || e == evt_errc::kQueryResultStale ||
         e == evt_errc::kQueryResultInvalidPosition;
}

Errc errcFor(uint32_t e) {
  switch (e) {
    case evt_errc::kChannelNotFound:
    case evt_errc::kFileNotFound:
    case evt_errc::kNotFound:
      return Errc::kNotFound;
    case evt_errc::kInvalidChannelPath:
    case evt_errc::kInvalidQuery:
    case evt_errc::kInvalidParameter:
      return Errc::kInvalidArgument;
    case evt_errc::kCallNotImplemented:
      return Errc::kUnsupported;
    default:
      return Errc::kIo;
  }
}

// What to do about it, for the errors an operator can fix.
std::string hintFor(uint32_t e) {
  switch (e) {
    case evt_errc::kChannelNotFound:
      return "; the channel does not exist on this machine (role or feature not installed?)";
    case evt_errc::kAccessDenied:
      return "; the agent's account may not read this channel (run as LocalSystem, or add the "
             "account to Event Log Readers)";
    case evt_errc::kInvalidQuery:
      return "; check the XPath query of this channel in the configuration";
    case evt_errc::kCallNotImplemented:
      return "; the Windows Event Log API is not available on this system";
    default:
      return "";
  }
}

int64_t nowFiletime(const Clock& clock) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(clock.now().time_since_epoch());
  return unixMicrosToFiletime(micros.count());
}

}  // namespace

std::optional<uint64_t> bookmarkRecordId(std::string_view bookmark_xml) {
  pugi::xml_document doc;
  // No DOCTYPE/entities are parsed by pugixml's default options; the bookmark is our own
  // checkpoint, but it is read from disk like any input.
  if (!doc.load_buffer(bookmark_xml.data(), bookmark_xml.size())) return std::nullopt;
  const pugi::xml_node bookmark = doc.child("BookmarkList").child("Bookmark");
  const pugi::xml_attribute id = bookmark.attribute("RecordId");
  if (!id) return std::nullopt;
  const std::string_view text = id.value();
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

class EvtSubscriptionCollector::Reader {
 public:
  Reader(EvtSubscriptionCollector& c, EventSink& sink, CollectorSummary& summary)
      : c_(c), api_(c.api_), o_(c.options_), sink_(sink), summary_(summary) {}

  void run() {
    if (!initBookmark()) return;
    while (!stopped()) {
      if (!sub_ && !open()) {
        if (!waitRetry()) break;
        continue;
      }
      const Drain d = drain();
      if (d == Drain::kReopen) {
        sub_.reset();
        continue;
      }
      if (d == Drain::kFailed) {
        sub_.reset();
        if (!waitRetry()) break;
        continue;
      }
      if (stopped() || api_.waitForEvents(sub_.get(), o_.wait) == EvtApi::Wait::kInterrupted) {
        break;
      }
    }
  }

 private:
  enum class Drain { kIdle, kReopen, kFailed };
  static constexpr int kMaxStaleReopens = 3;

  bool stopped() const { return c_.stop_.load(std::memory_order_relaxed); }

  void report(Errc code, std::string message, uint64_t position = 0) {
    ++summary_.errors;
    sink_.onError(InputError{o_.channel, position, makeError(code, std::move(message))});
  }

  // Reported once per streak of the same failure; retried until it clears or stop().
  void fail(const char* call, uint32_t e) {
    if (e == last_failure_) {
      ++c_.stats_.repeated_failures;
      return;
    }
    last_failure_ = e;
    const auto retry = std::chrono::duration_cast<std::chrono::seconds>(o_.retry_interval);
    report(errcFor(e), o_.channel + ": " + call + ": " + api_.errorText(e) + hintFor(e) +
                           "; retrying every " + std::to_string(retry.count()) + " s");
  }

  // False once interrupted (stop()).
  bool waitRetry() {
    return !stopped() &&
           api_.waitForEvents(EvtApi::kNoHandle, o_.retry_interval) != EvtApi::Wait::kInterrupted;
  }

  bool initBookmark() {
    EvtApi::Handle h = EvtApi::kNoHandle;
    if (!o_.bookmark_xml.empty()) {
      const uint32_t e = api_.createBookmark(o_.bookmark_xml, h);
      if (e == evt_errc::kOk) {
        bookmark_ = EvtHandle(api_, h);
        has_position_ = true;
        bookmark_id_ = bookmarkRecordId(o_.bookmark_xml);
        last_id_ = bookmark_id_;
        return true;
      }
      // Reading from the oldest record duplicates (the collector deduplicates) but loses nothing.
      report(Errc::kCorrupt, o_.channel + ": checkpoint bookmark is unusable (EvtCreateBookmark: " +
                                 api_.errorText(e) + "); reading from the oldest record");
      future_ = false;
    } else {
      future_ = o_.future_only_without_bookmark;
    }
    const uint32_t e = api_.createBookmark("", h);
    if (e != evt_errc::kOk) {
      report(errcFor(e), o_.channel + ": EvtCreateBookmark: " + api_.errorText(e));
      return false;
    }
    bookmark_ = EvtHandle(api_, h);
    return true;
  }

  bool open() {
    ++c_.stats_.subscribe_attempts;
    // Once the bookmark points at an event, every (re)subscription starts strictly after it.
    const uint32_t flags = has_position_
                               ? (EvtApi::kStartAfterBookmark | EvtApi::kStrict)
                               : (future_ ? EvtApi::kToFutureEvents : EvtApi::kStartAtOldestRecord);
    EvtApi::Handle h = EvtApi::kNoHandle;
    const uint32_t e = api_.subscribe(
        o_.channel, o_.query, has_position_ ? bookmark_.get() : EvtApi::kNoHandle, flags, h);
    if (e == evt_errc::kOk) {
      sub_ = EvtHandle(api_, h);
      last_failure_ = evt_errc::kOk;
      return true;
    }
    if (has_position_ && isStale(e)) {
      bookmarkGap(e);
      // The bookmark's position is gone: read everything that is left, never "future only".
      has_position_ = false;
      future_ = false;
      return open();
    }
    fail("EvtSubscribe", e);
    return false;
  }

  // The bookmarked event is gone: records bookmark+1 .. oldest-1 were lost (wrapped or cleared).
  void bookmarkGap(uint32_t cause) {
    const std::optional<uint64_t> bm = last_id_ ? last_id_ : bookmark_id_;
    uint64_t oldest = 0;
    const uint32_t e = api_.oldestRecordNumber(o_.channel, oldest);
    std::optional<uint64_t> first = bm ? std::optional<uint64_t>(*bm + 1) : std::nullopt;
    std::optional<uint64_t> last;
    std::string detail = "bookmarked event not found (" + api_.errorText(cause) + ")";
    if (e != evt_errc::kOk) {
      detail += "; oldest record unknown: " + api_.errorText(e);
    } else if (oldest == 0) {
      detail += "; the channel is empty (cleared)";
    } else if (first && oldest > *first) {
      last = oldest - 1;
    } else if (first) {
      detail += "; oldest record " + std::to_string(oldest) +
                " is not after the bookmark (log cleared and renumbered?)";
    }
    emitGap("bookmark_not_found", first, last, bm,
            e == evt_errc::kOk && oldest != 0 ? std::optional<uint64_t>(oldest) : std::nullopt,
            std::move(detail));
    // Continuity is checked against the oldest record from here on.
    last_id_ =
        (e == evt_errc::kOk && oldest != 0) ? std::optional<uint64_t>(oldest - 1) : std::nullopt;
  }

  void emitGap(const char* reason, std::optional<uint64_t> first, std::optional<uint64_t> last,
               std::optional<uint64_t> bookmark, std::optional<uint64_t> oldest,
               std::string detail) {
    ++c_.stats_.gaps;
    Event ev;
    ev.system.provider_name = kGapProvider;
    ev.system.event_id = kGapEventId;
    ev.system.level = 3;  // warning
    ev.system.time_created = nowFiletime(c_.clock_);
    ev.data_section = Event::DataSection::kEventData;
    ev.addField("Channel", o_.channel);
    ev.addField("Reason", reason);
    if (first) ev.addField("FirstMissingRecordId", std::to_string(*first));
    if (last) ev.addField("LastMissingRecordId", std::to_string(*last));
    if (first && last) ev.addField("MissingCount", std::to_string(*last - *first + 1));
    if (bookmark) ev.addField("BookmarkRecordId", std::to_string(*bookmark));
    if (oldest) ev.addField("OldestRecordId", std::to_string(*oldest));
    ev.addField("Detail", std::move(detail));
    ev.origin.source = "gap:" + o_.channel;
    ev.origin.position = first.value_or(0);
    ++summary_.records;
    sink_.onEvent(std::move(ev));
  }

  Drain drain() {
    std::vector<EvtApi::Handle> handles;
    while (!stopped()) {
      handles.clear();
      const uint32_t e = api_.next(sub_.get(), o_.batch_size, o_.wait, handles);
      if (e == evt_errc::kNoMoreItems || e == evt_errc::kTimeout) return Drain::kIdle;
      if (e != evt_errc::kOk) {
        // Reopen after the bookmark (strict): if its event survived nothing was lost, otherwise
        // open() measures the gap. Without a position yet, start as before. A result set that
        // keeps going stale right after reopening is a failure, not a reason to spin.
        if (isStale(e) && ++stale_streak_ <= kMaxStaleReopens) return Drain::kReopen;
        fail("EvtNext", e);
        return Drain::kFailed;
      }
      if (handles.empty()) return Drain::kIdle;
      for (EvtApi::Handle h : handles) {
        EvtHandle owned(api_, h);  // every event handle from EvtNext must be closed
        if (!stopped()) deliver(h);
      }
      ++c_.stats_.batches;
      stale_streak_ = 0;
      checkpoint();
    }
    return Drain::kIdle;
  }

  void deliver(EvtApi::Handle h) {
    const uint64_t expected = last_id_ ? *last_id_ + 1 : 0;
    std::string xml;
    uint32_t e = api_.renderEventXml(h, xml);
    if (e != evt_errc::kOk) {
      ++c_.stats_.render_errors;
      report(errcFor(e),
             o_.channel + ": EvtRender of the event after record " +
                 std::to_string(expected == 0 ? 0 : expected - 1) + ": " + api_.errorText(e),
             expected);
      advanceBookmark(h);  // skip it rather than read it again forever
      return;
    }
    Result<Event> ev = parseEventXml(xml, o_.limits);
    if (!ev.ok()) {
      report(ev.error().code,
             o_.channel + ": event after record " +
                 std::to_string(expected == 0 ? 0 : expected - 1) + ": " + ev.error().message,
             expected);
      advanceBookmark(h);
      return;
    }
    const uint64_t id = ev->system.record_id;
    if (unfiltered() && last_id_ && id > *last_id_ + 1) {
      emitGap(
          "record_id_jump", *last_id_ + 1, id - 1, last_id_, std::nullopt,
          "EventRecordID jumped from " + std::to_string(*last_id_) + " to " + std::to_string(id));
    }
    advanceBookmark(h);
    last_id_ = id;
    ev->origin.source = o_.channel;
    ev->origin.position = id;
    ++summary_.records;
    sink_.onEvent(std::move(*ev));
  }

  void advanceBookmark(EvtApi::Handle event) {
    const uint32_t e = api_.updateBookmark(bookmark_.get(), event);
    if (e != evt_errc::kOk) {
      report(errcFor(e), o_.channel + ": EvtUpdateBookmark: " + api_.errorText(e) +
                             " (the checkpoint does not advance)");
      return;
    }
    has_position_ = true;
  }

  void checkpoint() {
    if (!o_.on_checkpoint || !has_position_) return;
    std::string xml;
    const uint32_t e = api_.renderBookmark(bookmark_.get(), xml);
    if (e != evt_errc::kOk) {
      report(errcFor(e), o_.channel + ": EvtRender(bookmark): " + api_.errorText(e) +
                             " (the checkpoint does not advance)");
      return;
    }
    o_.on_checkpoint(xml);
  }

  bool unfiltered() const { return o_.query.empty() || o_.query == "*"; }

  EvtSubscriptionCollector& c_;
  EvtApi& api_;
  const EvtSubscriptionOptions& o_;
  EventSink& sink_;
  CollectorSummary& summary_;
  EvtHandle bookmark_;
  EvtHandle sub_;
  bool future_ = false;        // open() without a position: future events only
  bool has_position_ = false;  // the bookmark points at an event: open() starts after it
  std::optional<uint64_t> bookmark_id_;
  std::optional<uint64_t> last_id_;  // EventRecordID of the last event delivered or bookmarked
  uint32_t last_failure_ = evt_errc::kOk;
  int stale_streak_ = 0;
};

EvtSubscriptionCollector::EvtSubscriptionCollector(EvtApi& api, const Clock& clock,
                                                   EvtSubscriptionOptions options)
    : api_(api),
      clock_(clock),
      options_(std::move(options)),
      name_("eventlog:" + options_.channel) {
  if (options_.batch_size == 0) options_.batch_size = 1;
}

CollectorSummary EvtSubscriptionCollector::run(EventSink& sink) {
  CollectorSummary summary;
  stats_ = {};
  Reader reader(*this, sink, summary);
  reader.run();
  return summary;
}

void EvtSubscriptionCollector::stop() {
  stop_.store(true, std::memory_order_relaxed);
  api_.interrupt();
}

}  // namespace t0w
