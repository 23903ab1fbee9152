// EvtSubscriptionCollector::Reader, the state of one run() of the collector: the live
// subscription, the probe of the channel, gap detection, message formatting and the backfill of
// history. Internal to the collector; its member functions are defined by job in
// evt_subscription_collector.cpp (run loop, reporting, checkpoint), evt_subscription_probe.cpp,
// evt_subscription_live.cpp, evt_subscription_gaps.cpp, evt_subscription_messages.cpp and
// evt_subscription_backfill.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "collectors/eventlog/evt_subscription_collector.h"
#include "common/core/time.h"
#include "common/core/win32_errc.h"

namespace t0w {

class EvtSubscriptionCollector::Reader {
 public:
  Reader(EvtSubscriptionCollector& c, EventSink& sink, SourceSummary& summary);
  ~Reader();

  void run();

 private:
  using milliseconds = std::chrono::milliseconds;
  using steady_clock = std::chrono::steady_clock;

  enum class Drain { kIdle, kReopen, kFailed, kServiceDown };
  enum class Presence { kUnknown, kPresent, kAbsent, kUnsupported };
  static constexpr int kMaxStaleReopens = 3;

  // The bookmarked event no longer exists (EvtSubscribeStrict), or the result set outlived a
  // clear or roll-over of the log.
  static bool isStale(uint32_t e) {
    return e == evt_errc::kNotFound || e == evt_errc::kQueryResultStale ||
           e == evt_errc::kQueryResultInvalidPosition;
  }

  // The Event Log service went away under us (stopped, restarting): our handles are dead.
  static bool isServiceDown(uint32_t e) {
    return e == evt_errc::kRpcServerUnavailable || e == evt_errc::kRpcCallFailed ||
           e == evt_errc::kRpcEndpointNotRegistered || e == evt_errc::kInvalidHandle;
  }

  static int64_t nowFiletime(const Clock& clock) {
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(clock.now().time_since_epoch());
    return unixMicrosToFiletime(micros.count());
  }

  bool stopped() const { return c_.stop_.load(std::memory_order_relaxed); }

  // ---- reporting (evt_subscription_collector.cpp) -----------------------------------------

  void report(Errc code, std::string message, uint64_t position = 0);
  void setState(SourceState s, std::string detail);
  void setRunningState();
  void notice(const std::string& type, const std::string& message);
  void fail(const char* call, uint32_t e);
  bool waitFor(milliseconds t);
  // False once interrupted (stop()).
  bool waitRetry() { return waitFor(o_.retry_interval); }
  milliseconds nextWait() const;

  // ---- checkpoint (evt_subscription_collector.cpp) ----------------------------------------

  void loadCheckpoint();
  void checkpoint();

  // ---- probe: presence, channel config, log info, forecast, stall (evt_subscription_probe.cpp)

  void probe();
  void markAbsent(uint32_t e);
  void checkEnabled(const EvtChannelConfig& cfg);
  void forecast(const EvtLogInfo& info, bool have_cfg);
  void checkStall(const EvtLogInfo& info);
  void serviceDown(const char* call, uint32_t e);

  // ---- live subscription (evt_subscription_live.cpp) --------------------------------------

  bool prepareFirstStart();
  bool open();
  Drain drain();
  void progress(uint64_t n, std::optional<int64_t> newest_filetime);
  std::optional<Event> readEvent(EvtApi::Handle h, uint64_t after);
  bool deliverLive(EvtApi::Handle h, std::optional<int64_t>& newest_time);
  void advanceBookmark(EvtApi::Handle event);
  bool unfiltered() const { return o_.query.empty() || o_.query == "*"; }

  // ---- gaps: lost bookmarks, cleared logs, record id jumps (evt_subscription_gaps.cpp) -----

  void bookmarkGap(uint32_t cause);
  void emitGap(const char* reason, std::optional<uint64_t> first, std::optional<uint64_t> last,
               std::optional<uint64_t> bookmark, std::optional<uint64_t> oldest,
               std::optional<uint64_t> resumed_at, std::string detail);
  bool isClearEvent(const Event& ev) const;
  static bool equalsIgnoreCase(std::string_view a, std::string_view b);

  // ---- EvtFormatMessage, Entra channels (evt_subscription_messages.cpp) --------------------

  struct Publisher {
    EvtHandle metadata;
    uint32_t error = evt_errc::kOk;
  };

  void formatMessage(EvtApi::Handle event, Event& ev);
  void publisherFailed(const std::string& name, uint32_t e);

  // ---- backfill (evt_subscription_backfill.cpp) -------------------------------------------

  void backfillStep();
  void backfillOverwritten();
  void finishBackfill();

  EvtSubscriptionCollector& c_;
  EvtApi& api_;
  const EvtSubscriptionOptions& o_;
  EventSink& sink_;
  SourceSummary& summary_;
  const std::string board_name_;
  EventXmlParser parser_;  // its buffers serve every event of the run
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

}  // namespace t0w
