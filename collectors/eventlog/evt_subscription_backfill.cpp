// The Reader's backfill: history up to the first start's newest record, read in batches within
// a share of one core while live events go first.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "collectors/eventlog/evt_subscription_reader.h"

namespace t0w {

void EvtSubscriptionCollector::Reader::backfillStep() {
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
    report(errcForWin32(e), o_.channel + ": EvtNext(history): " + api_.errorText(e) + "; retrying");
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
void EvtSubscriptionCollector::Reader::backfillOverwritten() {
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

void EvtSubscriptionCollector::Reader::finishBackfill() {
  bf_query_.reset();
  cp_.backfill.reset();
  notice("eventlog_backfill_done",
         "history read (" + std::to_string(c_.stats_.backfill_events) + " records this run)");
  checkpoint();
  if (sub_) setRunningState();
}

}  // namespace t0w
