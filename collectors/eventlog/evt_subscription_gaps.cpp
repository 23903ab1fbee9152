// The Reader's gap events: records lost behind a stale bookmark, a cleared log, an EventRecordID
// jump (kGapEventId, evt_subscription_collector.h).
#include <string>
#include <utility>

#include "collectors/eventlog/evt_subscription_reader.h"

namespace t0w {

// The bookmarked event is gone: records bookmark+1 .. oldest-1 were lost (wrapped, cleared, or
// overwritten while the agent was down). With a filter the range counts records of any kind.
void EvtSubscriptionCollector::Reader::bookmarkGap(uint32_t cause) {
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
  emitGap(unfiltered() ? "bookmark_not_found" : "filtered_bookmark_behind_oldest", first, last, bm,
          known_oldest, known_oldest, std::move(detail));
  // Continuity is checked against the oldest record from here on.
  last_id_ = known_oldest ? std::optional<uint64_t>(*known_oldest - 1) : std::nullopt;
  // History the backfill has not reached is gone as well: the gap covers it.
  if (cp_.backfill && known_oldest && cp_.backfill->next_record < *known_oldest) {
    cp_.backfill->next_record = *known_oldest;
  }
  cp_.backfill.reset();  // reading from the oldest covers what the backfill would have read
  bf_query_.reset();
}

void EvtSubscriptionCollector::Reader::emitGap(const char* reason, std::optional<uint64_t> first,
                                               std::optional<uint64_t> last,
                                               std::optional<uint64_t> bookmark,
                                               std::optional<uint64_t> oldest,
                                               std::optional<uint64_t> resumed_at,
                                               std::string detail) {
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

// "The log was cleared" written into the stream we read: Security 1102 (this log) or System
// 104 naming this channel (System clears itself and reports it there).
bool EvtSubscriptionCollector::Reader::isClearEvent(const Event& ev) const {
  const std::string& p = ev.system.provider_name;
  if (p != "Microsoft-Windows-Eventlog" && p != "Eventlog") return false;
  if (ev.system.event_id == 1102) return true;
  if (ev.system.event_id != 104) return false;
  const std::string* cleared = ev.find("Channel");
  return cleared == nullptr || equalsIgnoreCase(*cleared, o_.channel);
}

bool EvtSubscriptionCollector::Reader::equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace t0w
