#include "collectors/eventlog/evt_subscription_collector.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/time.h"
#include "common/core/win32_errc.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#endif

namespace t0w {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The bookmarked event no longer exists (EvtSubscribeStrict), or the result set outlived a clear
// or roll-over of the log.
bool isStale(uint32_t e) {
  return e == evt_errc::kNotFound || e == evt_errc::kQueryResultStale ||
         e == evt_errc::kQueryResultInvalidPosition;
}

// The Event Log service went away under us (stopped, restarting): our handles are dead.
bool isServiceDown(uint32_t e) {
  return e == evt_errc::kRpcServerUnavailable || e == evt_errc::kRpcCallFailed ||
         e == evt_errc::kRpcEndpointNotRegistered || e == evt_errc::kInvalidHandle;
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

std::optional<uint64_t> parseU64(std::string_view text) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

constexpr std::string_view kBackfillTag = "t0w-backfill ";

std::string localeName(uint32_t lcid) {
  switch (lcid) {
    case 1033:
      return "en-US";
    case 2057:
      return "en-GB";
    case 1031:
      return "de-DE";
    case 1036:
      return "fr-FR";
    default:
      return "lcid:" + std::to_string(lcid);
  }
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

std::string makeBookmarkXml(std::string_view channel, uint64_t record_id) {
  std::string escaped;
  for (char c : channel) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '\'':
        escaped += "&apos;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      default:
        escaped += c;
    }
  }
  return "<BookmarkList>\r\n  <Bookmark Channel='" + escaped + "' RecordId='" +
         std::to_string(record_id) + "' IsCurrent='true'/>\r\n</BookmarkList>";
}

std::string formatEvtCheckpoint(const EvtCheckpoint& c) {
  if (!c.backfill) return c.bookmark_xml;
  return std::string(kBackfillTag) + "next=" + std::to_string(c.backfill->next_record) +
         " last=" + std::to_string(c.backfill->last_record) +
         " from=" + std::to_string(c.backfill->from_filetime) + "\n" + c.bookmark_xml;
}

EvtCheckpoint parseEvtCheckpoint(std::string_view text) {
  EvtCheckpoint c;
  if (!text.starts_with(kBackfillTag)) {
    c.bookmark_xml = std::string(text);
    return c;
  }
  const size_t eol = text.find('\n');
  const std::string_view head = text.substr(
      kBackfillTag.size(), eol == std::string_view::npos ? text.npos : eol - kBackfillTag.size());
  c.bookmark_xml =
      eol == std::string_view::npos ? std::string() : std::string(text.substr(eol + 1));
  EvtCheckpoint::Backfill b;
  int seen = 0;
  size_t at = 0;
  while (at < head.size()) {
    size_t end = head.find(' ', at);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view kv = head.substr(at, end - at);
    at = end + 1;
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view k = kv.substr(0, eq);
    const auto v = parseU64(kv.substr(eq + 1));
    if (!v) continue;
    if (k == "next") {
      b.next_record = *v;
      ++seen;
    } else if (k == "last") {
      b.last_record = *v;
      ++seen;
    } else if (k == "from") {
      b.from_filetime = static_cast<int64_t>(*v);
      ++seen;
    }
  }
  // An unreadable backfill line: the live bookmark alone still resumes reading; the backfill is
  // dropped rather than guessed.
  if (seen == 3) c.backfill = b;
  return c;
}

std::chrono::nanoseconds threadCpuTime() {
#ifdef _WIN32
  FILETIME created, exited, kernel, user;
  if (!::GetThreadTimes(::GetCurrentThread(), &created, &exited, &kernel, &user)) return {};
  const auto ticks = [](const FILETIME& f) {
    return (static_cast<uint64_t>(f.dwHighDateTime) << 32) | f.dwLowDateTime;
  };
  return std::chrono::nanoseconds((ticks(kernel) + ticks(user)) * 100);
#else
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return {};
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
#endif
}

class EvtSubscriptionCollector::Reader {
 public:
  Reader(EvtSubscriptionCollector& c, EventSink& sink, CollectorSummary& summary)
      : c_(c),
        api_(c.api_),
        o_(c.options_),
        sink_(sink),
        summary_(summary),
        board_name_(o_.board_name.empty() ? o_.channel : o_.board_name) {
    batch_ = std::max<uint32_t>(1, o_.batch_size);
    backfill_batch_ = std::max<uint32_t>(1, o_.backfill_batch);
    if (o_.board != nullptr) o_.board->add(board_name_, "eventlog");
  }

  ~Reader() {
    publishers_.clear();  // EvtHandles close the metadata
  }

  void run() {
    loadCheckpoint();
    while (!stopped()) {
      const auto now = c_.clock_.monotonic();
      if (now >= next_probe_) {
        probe();
        next_probe_ = c_.clock_.monotonic() + o_.probe_interval;
        if (stopped()) break;
      }
      if (presence_ != Presence::kPresent && presence_ != Presence::kUnknown) {
        // Absent or the API is missing: nothing to open; re-probe.
        sub_.reset();
        if (!waitFor(std::min(o_.retry_interval, o_.probe_interval))) break;
        next_probe_ = {};
        continue;
      }
      if (!sub_ && !open()) {
        if (presence_ == Presence::kAbsent) continue;  // the absent branch above waits
        if (!waitRetry()) break;
        continue;
      }
      const Drain d = drain();
      if (d == Drain::kReopen) {
        sub_.reset();
        ++c_.stats_.reopens;
        continue;
      }
      if (d == Drain::kServiceDown) {
        sub_.reset();
        bf_query_.reset();
        // The service usually comes back within seconds; probe sooner than the retry interval.
        if (!waitFor(std::min(o_.retry_interval, milliseconds(5000)))) break;
        next_probe_ = {};
        continue;
      }
      if (d == Drain::kFailed) {
        sub_.reset();
        if (!waitRetry()) break;
        continue;
      }
      if (cp_.backfill && c_.clock_.monotonic() >= backfill_not_before_) backfillStep();
      if (stopped()) break;
      if (api_.waitForEvents(sub_.get(), nextWait()) == EvtApi::Wait::kInterrupted) break;
    }
    setState(SourceState::kStopped, "");
    c_.stats_.batch_size = batch_;
  }

 private:
  enum class Drain { kIdle, kReopen, kFailed, kServiceDown };
  enum class Presence { kUnknown, kPresent, kAbsent, kUnsupported };
  static constexpr int kMaxStaleReopens = 3;

  bool stopped() const { return c_.stop_.load(std::memory_order_relaxed); }

  // ---- reporting -------------------------------------------------------------------------

  void report(Errc code, std::string message, uint64_t position = 0) {
    ++summary_.errors;
    sink_.onError(InputError{o_.channel, position, makeError(code, std::move(message))});
  }

  void setState(SourceState s, std::string detail) {
    if (o_.board != nullptr) o_.board->setState(board_name_, s, std::move(detail));
  }

  // The live state: subscribed, or backfilling while history is still being read.
  void setRunningState() {
    if (disabled_) return;  // stays kFailing with its reason until enabled
    setState(cp_.backfill ? SourceState::kBackfilling : SourceState::kSubscribed,
             cp_.backfill
                 ? "reading history from record " + std::to_string(cp_.backfill->next_record) +
                       " to " + std::to_string(cp_.backfill->last_record)
                 : std::string());
  }

  void notice(const std::string& type, const std::string& message) {
    ++c_.stats_.notices;
    Event ev;
    ev.system.provider_name = kGapProvider;
    ev.system.event_id = kNoticeEventId;
    ev.system.level = 4;
    const int64_t now = nowFiletime(c_.clock_);
    ev.system.time_created = now;
    ev.data_section = Event::DataSection::kEventData;
    ev.addField("Channel", o_.channel);
    ev.addField("Type", type);
    ev.addField("Message", o_.channel + ": " + message);
    ev.origin.source = "notice:" + o_.channel;
    ev.origin.position = static_cast<uint64_t>(now);
    sink_.onEvent(std::move(ev));
  }

  // Reported once per streak of the same failure; retried until it clears or stop().
  void fail(const char* call, uint32_t e) {
    if (e == evt_errc::kAccessDenied) {
      setState(SourceState::kAccessDenied, std::string(call) + ": " + api_.errorText(e));
    } else {
      setState(SourceState::kFailing, std::string(call) + ": " + api_.errorText(e));
    }
    if (e == last_failure_) {
      ++c_.stats_.repeated_failures;
      return;
    }
    last_failure_ = e;
    const auto retry = std::chrono::duration_cast<std::chrono::seconds>(o_.retry_interval);
    report(errcForWin32(e), o_.channel + ": " + call + ": " + api_.errorText(e) + hintFor(e) +
                                "; retrying every " + std::to_string(retry.count()) + " s");
  }

  bool waitFor(milliseconds t) {
    return !stopped() && api_.waitForEvents(EvtApi::kNoHandle, t) != EvtApi::Wait::kInterrupted;
  }
  // False once interrupted (stop()).
  bool waitRetry() { return waitFor(o_.retry_interval); }

  // How long to sleep on the live signal: the usual wait, shorter when the backfill's budget
  // allows its next batch or a probe is due sooner.
  milliseconds nextWait() const {
    milliseconds w = o_.wait;
    const auto now = c_.clock_.monotonic();
    auto until = [&](steady_clock::time_point t) {
      return t <= now ? milliseconds(0) : std::chrono::duration_cast<milliseconds>(t - now);
    };
    if (cp_.backfill) w = std::min(w, until(backfill_not_before_));
    w = std::min(w, until(next_probe_));
    return w;
  }

  // ---- checkpoint ------------------------------------------------------------------------

  void loadCheckpoint() {
    if (o_.bookmark_xml.empty()) return;
    cp_ = parseEvtCheckpoint(o_.bookmark_xml);
    if (cp_.bookmark_xml.empty()) return;  // a backfill line without a bookmark: first start
    EvtApi::Handle h = EvtApi::kNoHandle;
    const uint32_t e = api_.createBookmark(cp_.bookmark_xml, h);
    if (e == evt_errc::kOk) {
      bookmark_ = EvtHandle(api_, h);
      bookmark_id_ = bookmarkRecordId(cp_.bookmark_xml);
      has_position_ = bookmark_id_.has_value();
      last_id_ = bookmark_id_;
      if (!has_position_) bookmark_.reset();  // an empty list: same as no bookmark
      return;
    }
    // Reading from the oldest record duplicates (the collector deduplicates) but loses nothing.
    report(Errc::kCorrupt, o_.channel + ": checkpoint bookmark is unusable (EvtCreateBookmark: " +
                               api_.errorText(e) + "); reading from the oldest record");
    cp_ = {};
    unusable_checkpoint_ = true;
  }

  // Hands the live bookmark (and the backfill's progress) to the pipeline.
  void checkpoint() {
    if (!o_.on_checkpoint) return;
    if (!has_position_ && !cp_.backfill) return;
    if (has_position_) {
      std::string xml;
      const uint32_t e = api_.renderBookmark(bookmark_.get(), xml);
      if (e != evt_errc::kOk) {
        report(errcForWin32(e), o_.channel + ": EvtRender(bookmark): " + api_.errorText(e) +
                                    " (the checkpoint does not advance)");
        return;
      }
      cp_.bookmark_xml = std::move(xml);
    }
    o_.on_checkpoint(formatEvtCheckpoint(cp_));
  }

  // ---- probe: presence, channel config, log info, forecast, stall ------------------------

  void probe() {
    EvtChannelConfig cfg;
    const uint32_t ce = api_.channelConfig(o_.channel, cfg);
    if (ce == evt_errc::kChannelNotFound || ce == evt_errc::kFileNotFound) {
      markAbsent(ce);
      return;
    }
    if (ce == evt_errc::kCallNotImplemented) {
      // No Event Log API (Wine): nothing else would work either (EvtCreateBookmark raises there).
      if (presence_ != Presence::kUnsupported) {
        presence_ = Presence::kUnsupported;
        fail("EvtOpenChannelConfig", ce);
      }
      return;
    }
    if (isServiceDown(ce)) {
      serviceDown("EvtOpenChannelConfig", ce);
      return;
    }
    // Only a readable configuration says an absent channel may be there now; the notice waits
    // for a subscription that works (open()).
    if (presence_ == Presence::kAbsent && ce != evt_errc::kOk) return;
    if (presence_ != Presence::kPresent) setState(SourceState::kStarting, "");
    presence_ = Presence::kPresent;
    if (ce == evt_errc::kOk) {
      cfg_ = cfg;
      checkEnabled(cfg);
    }
    EvtLogInfo info;
    const uint32_t le = api_.logInfo(o_.channel, info);
    if (le != evt_errc::kOk) return;
    forecast(info, ce == evt_errc::kOk);
    checkStall(info);
  }

  // One notice per absence, however often the channel is probed or fails to open meanwhile.
  void markAbsent(uint32_t e) {
    sub_.reset();
    bf_query_.reset();
    presence_ = Presence::kAbsent;
    if (absent_notified_) return;
    absent_notified_ = true;
    setState(SourceState::kAbsent, "configured, absent: " + api_.errorText(e));
    notice("eventlog_absent",
           "configured, absent (the channel does not exist on this server; checked again every " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                  std::min(o_.retry_interval, o_.probe_interval))
                                  .count()) +
               " s)");
  }

  void checkEnabled(const EvtChannelConfig& cfg) {
    if (!cfg.enabled && !disabled_) {
      disabled_ = true;
      setState(SourceState::kFailing,
               "the channel is disabled: nothing is written to it (wevtutil sl \"" + o_.channel +
                   "\" /e:true)");
      notice("eventlog_disabled", "the channel is disabled: nothing is written to it");
    } else if (cfg.enabled && disabled_) {
      disabled_ = false;
      notice("eventlog_enabled", "the channel is enabled again");
      if (sub_) setRunningState();
    }
  }

  // Time until unread records are overwritten (circular log) or new ones are refused (a full
  // log that retains): capacity in records from the average record size, the observed rate.
  void forecast(const EvtLogInfo& info, bool have_cfg) {
    const auto now = c_.clock_.monotonic();
    const uint64_t newest = info.newestRecord();
    if (last_probe_newest_ && newest >= *last_probe_newest_ && now > last_probe_time_) {
      const double dt = std::chrono::duration<double>(now - last_probe_time_).count();
      const double r = static_cast<double>(newest - *last_probe_newest_) / dt;
      rate_ = rate_ ? 0.5 * *rate_ + 0.5 * r : r;
    }
    last_probe_newest_ = newest;
    last_probe_time_ = now;
    if (!have_cfg) return;
    std::optional<double> ttw;
    if (rate_ && *rate_ > 0 && info.record_count > 0 && cfg_.max_size > 0) {
      const double avg = static_cast<double>(info.file_size) / info.record_count;
      const double capacity = avg > 0 ? cfg_.max_size / avg : 0;
      const uint64_t position = last_id_.value_or(newest);
      const double unread = newest > position ? static_cast<double>(newest - position) : 0;
      if (cfg_.retention && cfg_.auto_backup) {
        ttw = std::nullopt;  // archived and cleared when full: nothing is overwritten
      } else if (cfg_.retention) {
        ttw = info.full ? 0.0
                        : std::max(0.0, capacity - static_cast<double>(info.record_count)) / *rate_;
      } else {
        ttw = std::max(0.0, capacity - unread) / *rate_;
      }
    }
    if (o_.board != nullptr) o_.board->setTimeToWrap(board_name_, ttw);
    const double limit = static_cast<double>(o_.wrap_warning.count());
    if (ttw && *ttw < limit) {
      if (!wrap_warned_) {
        wrap_warned_ = true;
        const uint64_t position = last_id_.value_or(newest);
        notice("eventlog_wrap_risk",
               "records will be lost in about " + std::to_string(static_cast<int64_t>(*ttw)) +
                   " s if reading stops (log max " + std::to_string(cfg_.max_size) + " bytes, " +
                   (cfg_.retention ? "retains when full" : "circular") + ", " +
                   std::to_string(static_cast<int64_t>(*rate_ * 3600)) + " records/h, " +
                   std::to_string(newest > position ? newest - position : 0) + " unread)");
      }
    } else if (!ttw || *ttw > 2 * limit) {
      wrap_warned_ = false;
    }
  }

  // An unfiltered subscription that delivers nothing while the log grows past what it read,
  // two probes in a row: the subscription is dead (a service restart that reported no error).
  void checkStall(const EvtLogInfo& info) {
    if (!sub_ || !unfiltered() || !last_id_) return;
    const uint64_t newest = info.newestRecord();
    const bool behind = newest > *last_id_;
    if (behind && stall_last_id_ == last_id_) {
      notice("eventlog_stalled",
             "the subscription stopped delivering while the log grew to record " +
                 std::to_string(newest) + "; reopening after the bookmark");
      sub_.reset();
      ++c_.stats_.reopens;
      stall_last_id_.reset();
      return;
    }
    stall_last_id_ = behind ? last_id_ : std::nullopt;
  }

  // Every handle of the old service is dead: the subscription reopens after the bookmark (which
  // also puts the board back to subscribed and sends eventlog_service_back).
  void serviceDown(const char* call, uint32_t e) {
    sub_.reset();
    bf_query_.reset();
    setState(SourceState::kFailing, std::string("Event Log service unavailable (") + call + ": " +
                                        api_.errorText(e) + "); reconnecting");
    if (!service_down_) {
      service_down_ = true;
      notice("eventlog_service_down", std::string("the Event Log service went away (") + call +
                                          ": " + api_.errorText(e) +
                                          "); resubscribing after the bookmark");
    }
  }

  // ---- live subscription -----------------------------------------------------------------

  // First start: live reading begins after the newest record, history goes to the backfill.
  bool prepareFirstStart() {
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
        notice("eventlog_no_backfill", "EvtGetLogInfo: " + api_.errorText(e) +
                                           "; reading new events only, history not read");
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

  bool open() {
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
    const uint32_t e = api_.subscribe(
        o_.channel, o_.query, has_position_ ? bookmark_.get() : EvtApi::kNoHandle, flags, h);
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

  // The bookmarked event is gone: records bookmark+1 .. oldest-1 were lost (wrapped, cleared, or
  // overwritten while the agent was down). With a filter the range counts records of any kind.
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
    if (!unfiltered()) {
      detail += "; filtered subscription: the range also holds records the filter skips";
    }
    detail += "; reading resumes at the oldest record";
    const std::optional<uint64_t> known_oldest =
        e == evt_errc::kOk && oldest != 0 ? std::optional<uint64_t>(oldest) : std::nullopt;
    emitGap(unfiltered() ? "bookmark_not_found" : "filtered_bookmark_behind_oldest", first, last,
            bm, known_oldest, known_oldest, std::move(detail));
    // Continuity is checked against the oldest record from here on.
    last_id_ = known_oldest ? std::optional<uint64_t>(*known_oldest - 1) : std::nullopt;
    // History the backfill has not reached is gone as well: the gap covers it.
    if (cp_.backfill && known_oldest && cp_.backfill->next_record < *known_oldest) {
      cp_.backfill->next_record = *known_oldest;
    }
    cp_.backfill.reset();  // reading from the oldest covers what the backfill would have read
    bf_query_.reset();
  }

  void emitGap(const char* reason, std::optional<uint64_t> first, std::optional<uint64_t> last,
               std::optional<uint64_t> bookmark, std::optional<uint64_t> oldest,
               std::optional<uint64_t> resumed_at, std::string detail) {
    ++c_.stats_.gaps;
    if (o_.board != nullptr) o_.board->addGap(board_name_);
    Event ev;
    ev.system.provider_name = kGapProvider;
    ev.system.event_id = kGapEventId;
    ev.system.level = 3;  // warning
    const int64_t now = nowFiletime(c_.clock_);
    ev.system.time_created = now;
    ev.data_section = Event::DataSection::kEventData;
    ev.addField("Channel", o_.channel);
    ev.addField("Reason", reason);
    if (first) ev.addField("FirstMissingRecordId", std::to_string(*first));
    if (last) ev.addField("LastMissingRecordId", std::to_string(*last));
    if (first && last) ev.addField("MissingCount", std::to_string(*last - *first + 1));
    if (bookmark) ev.addField("BookmarkRecordId", std::to_string(*bookmark));
    if (oldest) ev.addField("OldestRecordId", std::to_string(*oldest));
    if (resumed_at) ev.addField("ResumedAt", std::to_string(*resumed_at));
    ev.addField("Detail", std::move(detail));
    if (first) {
      ev.origin.source = "gap:" + o_.channel;
      ev.origin.position = *first;
    } else {
      // No first record to key on: the detection time (plus a sequence within this run, for
      // two gaps in one clock tick) keeps two such gaps apart.
      ev.origin.source =
          "gap:" + o_.channel + "#" + std::to_string(now) + "." + std::to_string(c_.stats_.gaps);
      ev.origin.position = last.value_or(0);
    }
    ++summary_.records;
    sink_.onEvent(std::move(ev));
  }

  Drain drain() {
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

  void progress(uint64_t n, std::optional<int64_t> newest_filetime) {
    if (o_.board == nullptr || (n == 0 && !last_id_)) return;
    std::optional<std::chrono::system_clock::time_point> t;
    if (newest_filetime) {
      t = std::chrono::system_clock::time_point(
          std::chrono::microseconds(filetimeToUnixMicros(*newest_filetime)));
    }
    o_.board->progress(board_name_, n, last_id_ ? "record:" + std::to_string(*last_id_) : "", t);
  }

  // Renders and parses one event; nullopt (reported, skipped) when it cannot be read.
  std::optional<Event> readEvent(EvtApi::Handle h, uint64_t after) {
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
    Result<Event> ev = parseEventXml(xml, o_.limits);
    if (!ev.ok()) {
      report(
          ev.error().code,
          o_.channel + ": event after record " + std::to_string(after) + ": " + ev.error().message,
          after + 1);
      return std::nullopt;
    }
    if (o_.format_messages) formatMessage(h, *ev);
    return std::move(*ev);
  }

  bool deliverLive(EvtApi::Handle h, std::optional<int64_t>& newest_time) {
    std::optional<Event> ev = readEvent(h, last_id_.value_or(0));
    if (!ev) {
      advanceBookmark(h);  // skip it rather than read it again forever
      return false;
    }
    const uint64_t id = ev->system.record_id;
    if (isClearEvent(*ev) && last_id_ && id > *last_id_ + 1) {
      emitGap("log_cleared", *last_id_ + 1, id - 1, last_id_, std::nullopt, std::nullopt,
              "the log was cleared (EventID " + std::to_string(ev->system.event_id) +
                  "); records " + std::to_string(*last_id_ + 1) + ".." + std::to_string(id - 1) +
                  " were not read before");
    } else if (unfiltered() && last_id_ && id > *last_id_ + 1) {
      emitGap(
          "record_id_jump", *last_id_ + 1, id - 1, last_id_, std::nullopt, std::nullopt,
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

  // "The log was cleared" written into the stream we read: Security 1102 (this log) or System
  // 104 naming this channel (System clears itself and reports it there).
  bool isClearEvent(const Event& ev) const {
    const std::string& p = ev.system.provider_name;
    if (p != "Microsoft-Windows-Eventlog" && p != "Eventlog") return false;
    if (ev.system.event_id == 1102) return true;
    if (ev.system.event_id != 104) return false;
    const std::string* cleared = ev.find("Channel");
    return cleared == nullptr || equalsIgnoreCase(*cleared, o_.channel);
  }

  static bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      char x = a[i], y = b[i];
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
      if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
      if (x != y) return false;
    }
    return true;
  }

  void advanceBookmark(EvtApi::Handle event) {
    const uint32_t e = api_.updateBookmark(bookmark_.get(), event);
    if (e != evt_errc::kOk) {
      report(errcForWin32(e), o_.channel + ": EvtUpdateBookmark: " + api_.errorText(e) +
                                  " (the checkpoint does not advance)");
      return;
    }
    has_position_ = true;
  }

  bool unfiltered() const { return o_.query.empty() || o_.query == "*"; }

  // ---- EvtFormatMessage (Entra channels) -------------------------------------------------

  struct Publisher {
    EvtHandle metadata;
    uint32_t error = evt_errc::kOk;
  };

  void formatMessage(EvtApi::Handle event, Event& ev) {
    const std::string& name = ev.system.provider_name;
    if (name.empty()) return;
    auto it = publishers_.find(name);
    if (it == publishers_.end()) {
      Publisher p;
      EvtApi::Handle h = EvtApi::kNoHandle;
      p.error = api_.openPublisherMetadata(name, o_.message_locale, h);
      if (p.error == evt_errc::kOk) {
        p.metadata = EvtHandle(api_, h);
        ++c_.stats_.publishers_opened;
      } else {
        publisherFailed(name, p.error);
      }
      it = publishers_.emplace(name, std::move(p)).first;
    }
    if (it->second.error != evt_errc::kOk) {
      ++c_.stats_.format_errors;
      return;
    }
    std::string text;
    const uint32_t e = api_.formatEventMessage(it->second.metadata.get(), event, text);
    if (e == evt_errc::kOk || (e == evt_errc::kUnresolvedValueInsert && !text.empty())) {
      if (!ev.rendering) ev.rendering.emplace();
      ev.rendering->message = std::move(text);
      ev.rendering->culture = localeName(o_.message_locale);
      ++c_.stats_.messages_formatted;
      return;
    }
    ++c_.stats_.format_errors;
    if (e == evt_errc::kPublisherDisabled) publisherFailed(name, e);
  }

  void publisherFailed(const std::string& name, uint32_t e) {
    if (!reported_publishers_.insert(name).second) return;
    if (e == evt_errc::kPublisherDisabled) {
      notice("eventlog_publisher_disabled", "publisher " + name +
                                                " is disabled: its messages cannot be formatted (" +
                                                api_.errorText(e) + ")");
      return;
    }
    report(errcForWin32(e), o_.channel + ": EvtOpenPublisherMetadata(" + name + ", locale " +
                                localeName(o_.message_locale) + "): " + api_.errorText(e) +
                                "; its events are delivered without message text");
  }

  // ---- backfill --------------------------------------------------------------------------

  void backfillStep() {
    EvtCheckpoint::Backfill& b = *cp_.backfill;
    if (b.next_record > b.last_record) {
      finishBackfill();
      return;
    }
    const auto cpu = o_.cpu_time ? o_.cpu_time : threadCpuTime;
    const auto cpu_start = cpu();
    if (!bf_query_) {
      EvtApi::Handle h = EvtApi::kNoHandle;
      const uint32_t e = api_.queryHistory(
          o_.channel, o_.query, EvtHistoryRange{b.next_record, b.last_record, b.from_filetime}, h);
      if (e != evt_errc::kOk) {
        if (isServiceDown(e)) {
          serviceDown("EvtQuery(history)", e);
        } else {
          report(errcForWin32(e), o_.channel + ": EvtQuery(history from record " +
                                      std::to_string(b.next_record) + "): " + api_.errorText(e) +
                                      "; retrying");
        }
        backfill_not_before_ = c_.clock_.monotonic() + o_.retry_interval;
        return;
      }
      bf_query_ = EvtHandle(api_, h);
    }
    std::vector<EvtApi::Handle> handles;
    const uint32_t e = api_.next(bf_query_.get(), backfill_batch_, milliseconds(0), handles);
    if (e == evt_errc::kNoMoreItems) {
      finishBackfill();
      return;
    }
    if (e != evt_errc::kOk) {
      for (EvtApi::Handle h : handles) api_.close(h);
      bf_query_.reset();
      if (e == evt_errc::kRpcInvalidBound && backfill_batch_ > 1) {
        backfill_batch_ = std::max<uint32_t>(1, backfill_batch_ / 2);
        ++c_.stats_.batch_halvings;
        return;  // reopened from next_record: the query's range starts there
      }
      if (isStale(e)) {
        backfillOverwritten();
        return;
      }
      report(errcForWin32(e),
             o_.channel + ": EvtNext(history): " + api_.errorText(e) + "; retrying");
      backfill_not_before_ = c_.clock_.monotonic() + o_.retry_interval;
      return;
    }
    uint64_t delivered = 0;
    for (EvtApi::Handle h : handles) {
      EvtHandle owned(api_, h);
      if (stopped()) continue;
      std::optional<Event> ev = readEvent(h, b.next_record > 0 ? b.next_record - 1 : 0);
      if (!ev) continue;  // reported; next_record moves past it with the next one
      const uint64_t id = ev->system.record_id;
      if (id > b.last_record) continue;  // not ours: live reads it
      if (id >= b.next_record) b.next_record = id + 1;
      ev->origin.source = o_.channel;
      ev->origin.position = id;
      ++summary_.records;
      ++c_.stats_.backfill_events;
      ++delivered;
      sink_.onEvent(std::move(*ev));
    }
    ++c_.stats_.backfill_batches;
    if (o_.board != nullptr && delivered > 0) {
      o_.board->progress(board_name_, delivered,
                         last_id_ ? "record:" + std::to_string(*last_id_) : "", std::nullopt);
    }
    if (!stopped()) checkpoint();
    // The CPU budget: this batch took `spent`; pausing spent * (1 - share) / share keeps the
    // backfill at `share` of one core. Live events end the pause (they wake the wait).
    const auto spent = cpu() - cpu_start;
    const double share = std::clamp(o_.backfill_cpu_share, 0.01, 1.0);
    const auto pause = std::chrono::duration_cast<milliseconds>(
        std::chrono::duration<double, std::nano>(spent.count() * (1 - share) / share));
    c_.stats_.backfill_sleep += pause;
    backfill_not_before_ = c_.clock_.monotonic() + pause;
    if (cp_.backfill && cp_.backfill->next_record > cp_.backfill->last_record) finishBackfill();
  }

  // The history query went stale: records before the oldest one now were overwritten before the
  // backfill reached them.
  void backfillOverwritten() {
    EvtCheckpoint::Backfill& b = *cp_.backfill;
    uint64_t oldest = 0;
    const uint32_t e = api_.oldestRecordNumber(o_.channel, oldest);
    if (e == evt_errc::kOk && oldest > b.next_record) {
      const uint64_t last = std::min(oldest - 1, b.last_record);
      emitGap("backfill_overwritten", b.next_record, last, std::nullopt, oldest,
              std::min(oldest, b.last_record + 1),
              "history was overwritten before the backfill read it");
      b.next_record = last + 1;
      checkpoint();
    }
    if (++bf_stale_streak_ > kMaxStaleReopens) {
      report(Errc::kIo, o_.channel + ": the history query keeps going stale; retrying later");
      bf_stale_streak_ = 0;
      backfill_not_before_ = c_.clock_.monotonic() + o_.retry_interval;
    }
  }

  void finishBackfill() {
    bf_query_.reset();
    cp_.backfill.reset();
    notice("eventlog_backfill_done",
           "history read (" + std::to_string(c_.stats_.backfill_events) + " records this run)");
    checkpoint();
    if (sub_) setRunningState();
  }

  EvtSubscriptionCollector& c_;
  EvtApi& api_;
  const EvtSubscriptionOptions& o_;
  EventSink& sink_;
  CollectorSummary& summary_;
  const std::string board_name_;
  EvtHandle bookmark_;
  EvtHandle sub_;
  EvtHandle bf_query_;
  EvtCheckpoint cp_;
  uint32_t batch_ = 256;
  uint32_t backfill_batch_ = 64;
  bool has_position_ = false;  // the bookmark points at an event: open() starts after it
  bool first_start_done_ = false;
  bool first_future_ = false;  // no log info at first start: future events only
  bool unusable_checkpoint_ = false;
  bool no_backfill_reported_ = false;
  std::optional<uint64_t> bookmark_id_;
  std::optional<uint64_t> last_id_;  // EventRecordID of the last event delivered or bookmarked
  uint32_t last_failure_ = evt_errc::kOk;
  int stale_streak_ = 0;
  int bf_stale_streak_ = 0;
  Presence presence_ = Presence::kUnknown;
  bool absent_notified_ = false;
  bool disabled_ = false;
  bool service_down_ = false;
  bool wrap_warned_ = false;
  EvtChannelConfig cfg_;
  steady_clock::time_point next_probe_{};
  steady_clock::time_point backfill_not_before_{};
  std::optional<uint64_t> last_probe_newest_;
  steady_clock::time_point last_probe_time_{};
  std::optional<double> rate_;  // records/s written to the channel
  std::optional<uint64_t> stall_last_id_;
  std::map<std::string, Publisher> publishers_;
  std::set<std::string> reported_publishers_;
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
  {
    Reader reader(*this, sink, summary);
    reader.run();
  }
  return summary;
}

void EvtSubscriptionCollector::stop() {
  stop_.store(true, std::memory_order_relaxed);
  api_.interrupt();
}

}  // namespace t0w
