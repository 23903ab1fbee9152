// The Reader's probe of its channel: presence, configuration (disabled), the forecast of when
// unread records are lost, a stalled subscription, the Event Log service going away.
#include <algorithm>
#include <string>

#include "collectors/eventlog/evt_subscription_reader.h"

namespace t0w {

void EvtSubscriptionCollector::Reader::probe() {
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
void EvtSubscriptionCollector::Reader::markAbsent(uint32_t e) {
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

void EvtSubscriptionCollector::Reader::checkEnabled(const EvtChannelConfig& cfg) {
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
void EvtSubscriptionCollector::Reader::forecast(const EvtLogInfo& info, bool have_cfg) {
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
void EvtSubscriptionCollector::Reader::checkStall(const EvtLogInfo& info) {
  if (!sub_ || !unfiltered() || !last_id_) return;
  const uint64_t newest = info.newestRecord();
  const bool behind = newest > *last_id_;
  if (behind && stall_last_id_ == last_id_) {
    notice("eventlog_stalled", "the subscription stopped delivering while the log grew to record " +
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
void EvtSubscriptionCollector::Reader::serviceDown(const char* call, uint32_t e) {
  sub_.reset();
  bf_query_.reset();
  setState(SourceState::kFailing, std::string("Event Log service unavailable (") + call + ": " +
                                      api_.errorText(e) + "); reconnecting");
  if (!service_down_) {
    service_down_ = true;
    notice("eventlog_service_down", std::string("the Event Log service went away (") + call + ": " +
                                        api_.errorText(e) + "); resubscribing after the bookmark");
  }
}

}  // namespace t0w
