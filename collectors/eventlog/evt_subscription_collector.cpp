// EvtSubscriptionCollector: the run loop of the reader, its reporting and its checkpoint. The
// Reader's other jobs are in the evt_subscription_*.cpp files (evt_subscription_reader.h).
#include "collectors/eventlog/evt_subscription_collector.h"

#include <algorithm>
#include <utility>

#include "collectors/eventlog/evt_subscription_reader.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#endif

namespace t0w {
namespace {

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

}  // namespace

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

EvtSubscriptionCollector::Reader::Reader(EvtSubscriptionCollector& c, EventSink& sink,
                                         SourceSummary& summary)
    : c_(c),
      api_(c.api_),
      o_(c.options_),
      sink_(sink),
      summary_(summary),
      board_name_(o_.board_name.empty() ? o_.channel : o_.board_name),
      parser_(o_.limits) {
  batch_ = std::max<uint32_t>(1, o_.batch_size);
  backfill_batch_ = std::max<uint32_t>(1, o_.backfill_batch);
  if (o_.board != nullptr) o_.board->add(board_name_, "eventlog");
}

EvtSubscriptionCollector::Reader::~Reader() {
  publishers_.clear();  // EvtHandles close the metadata
}

void EvtSubscriptionCollector::Reader::run() {
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

void EvtSubscriptionCollector::Reader::report(Errc code, std::string message, uint64_t position) {
  ++summary_.errors;
  sink_.onError(InputError{o_.channel, position, makeError(code, std::move(message))});
}

void EvtSubscriptionCollector::Reader::setState(SourceState s, std::string detail) {
  if (o_.board != nullptr) o_.board->setState(board_name_, s, std::move(detail));
}

// The live state: subscribed, or backfilling while history is still being read.
void EvtSubscriptionCollector::Reader::setRunningState() {
  if (disabled_) return;  // stays kFailing with its reason until enabled
  setState(cp_.backfill ? SourceState::kBackfilling : SourceState::kSubscribed,
           cp_.backfill
               ? "reading history from record " + std::to_string(cp_.backfill->next_record) +
                     " to " + std::to_string(cp_.backfill->last_record)
               : std::string());
}

void EvtSubscriptionCollector::Reader::notice(const std::string& type, const std::string& message) {
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
void EvtSubscriptionCollector::Reader::fail(const char* call, uint32_t e) {
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

bool EvtSubscriptionCollector::Reader::waitFor(milliseconds t) {
  return !stopped() && api_.waitForEvents(EvtApi::kNoHandle, t) != EvtApi::Wait::kInterrupted;
}

// How long to sleep on the live signal: the usual wait, shorter when the backfill's budget
// allows its next batch or a probe is due sooner.
std::chrono::milliseconds EvtSubscriptionCollector::Reader::nextWait() const {
  milliseconds w = o_.wait;
  const auto now = c_.clock_.monotonic();
  auto until = [&](steady_clock::time_point t) {
    return t <= now ? milliseconds(0) : std::chrono::duration_cast<milliseconds>(t - now);
  };
  if (cp_.backfill) w = std::min(w, until(backfill_not_before_));
  w = std::min(w, until(next_probe_));
  return w;
}

void EvtSubscriptionCollector::Reader::loadCheckpoint() {
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
void EvtSubscriptionCollector::Reader::checkpoint() {
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

EvtSubscriptionCollector::EvtSubscriptionCollector(EvtApi& api, const Clock& clock,
                                                   EvtSubscriptionOptions options)
    : api_(api),
      clock_(clock),
      options_(std::move(options)),
      name_("eventlog:" + options_.channel) {
  if (options_.batch_size == 0) options_.batch_size = 1;
}

SourceSummary EvtSubscriptionCollector::run(EventSink& sink) {
  SourceSummary summary;
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
