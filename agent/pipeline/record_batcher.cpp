#include "agent/pipeline/record_batcher.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "agent/core/event_json.h"
#include "agent/rules/alert_json.h"
#include "collectors/eventlog/evt_subscription_collector.h"
#include "common/core/time.h"
#include "common/text/utf8.h"

namespace t0w {
namespace {

constexpr std::string_view kComplete = "complete";

bool isGapEvent(const Event& e) {
  return e.system.provider_name == kGapProvider && e.system.event_id == kGapEventId &&
         e.system.channel.empty() && e.origin.source.starts_with("gap:");
}

std::string dump(const nlohmann::ordered_json& body) {
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

QueueRecord noticeStatus(const Event& notice) {
  nlohmann::ordered_json body;
  const std::string* type = notice.find("Type");
  body["type"] = type ? *type : std::string("eventlog_notice");
  if (const std::string* v = notice.find("Channel")) body["Channel"] = *v;
  if (const std::string* v = notice.find("Message")) body["message"] = *v;
  QueueRecord r;
  r.kind = RecordKind::kStatus;
  r.key = "status|";
  appendValidUtf8(r.key, notice.origin.source + "|" + body["type"].get<std::string>());
  r.key += "|" + std::to_string(notice.origin.position);
  r.time = notice.system.time_created;
  r.body = dump(body);
  return r;
}

// The status record that makes the collector count the gap in the agent's health.
QueueRecord gapStatus(const Event& gap, const std::string& event_key) {
  nlohmann::ordered_json body;
  body["type"] = "eventlog_gap";
  for (const char* field :
       {"Channel", "Reason", "FirstMissingRecordId", "LastMissingRecordId", "MissingCount",
        "BookmarkRecordId", "OldestRecordId", "ResumedAt", "Detail"}) {
    if (const std::string* v = gap.find(field)) body[field] = *v;
  }
  body["event_key"] = event_key;
  const std::string* channel = gap.find("Channel");
  const std::string* missing = gap.find("MissingCount");
  body["message"] = "event log gap on " + (channel ? *channel : std::string("?")) + ": " +
                    (missing ? *missing + " records missing" : std::string("records missing")) +
                    (gap.find("Detail") ? " (" + *gap.find("Detail") + ")" : std::string());
  QueueRecord r;
  r.kind = RecordKind::kStatus;
  r.key = "status|" + event_key;
  r.time = gap.system.time_created;
  r.body = dump(body);
  return r;
}

}  // namespace

void appendEventRecordKey(std::string& out, const Event& event) {
  char digits[24];
  auto number = [&](uint64_t v) {
    const char* end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    out.append(digits, static_cast<size_t>(end - digits));
  };
  // Keys travel as JSON strings: text that is not UTF-8 is replaced here, where the key is made,
  // so that the queue's key and the collector's are the same.
  if (!event.system.channel.empty() && event.system.record_id != 0) {
    appendValidUtf8(out, event.system.channel);
    out += '|';
    number(event.system.record_id);
  } else if (!event.origin.file_id.empty()) {
    out += "tracefile:";
    appendValidUtf8(out, event.origin.file_id);
    out += '|';
    number(event.origin.position);
  } else {
    appendValidUtf8(out, event.origin.source);
    out += '|';
    number(event.origin.position);
  }
}

std::string eventRecordKey(const Event& event) {
  std::string key;
  appendEventRecordKey(key, event);
  return key;
}

QueueRecord& RecordBatcher::nextRecord(RecordKind kind) {
  if (used_ == records_.size()) records_.emplace_back();
  QueueRecord& r = records_[used_++];
  r.kind = kind;
  r.time.reset();
  r.key.clear();
  r.body.clear();
  return r;
}

size_t RecordBatcher::keptBytes() const {
  size_t kept = 0;
  for (const QueueRecord& r : records_) kept += r.key.capacity() + r.body.capacity();
  return kept;
}

RecordBatcher::RecordBatcher(QueueWriter& writer, const SourceStream& stream, std::string stored,
                             BatchLimits limits, Counters counters, SourceStatusBoard* board)
    : writer_(writer),
      source_(stream.name),
      resumption_(stream.resumption),
      prefix_(stream.position_prefix),
      checkpoint_(std::move(stored)),
      limits_(limits),
      counters_(counters),
      board_(board) {}

void RecordBatcher::checkpointReached(const std::string& checkpoint) {
  checkpoint_ = checkpoint;
  flush(false, true);
}

void RecordBatcher::onNotice(const Event& notice) {
  if (stopped_) return;
  const std::string* m = notice.find("Message");
  spdlog::info("{}", m ? *m : source_);
  QueueRecord& status = nextRecord(RecordKind::kStatus);
  status = noticeStatus(notice);
  bytes_ += status.body.size();
  flush(false);
}

void RecordBatcher::onAlert(Alert&& alert) {
  if (stopped_) return;
  ++counters_.alerts;
  QueueRecord& r = nextRecord(RecordKind::kAlert);
  // The event that raised it follows in onEvent; its key is computed from the same fields.
  r.key = "alert|";
  appendValidUtf8(r.key, alert.rule_id);
  r.key += '|';
  if (alert.event) {
    appendEventRecordKey(r.key, *alert.event);
  } else {
    appendValidUtf8(r.key, source_);
  }
  r.time = alert.time;
  r.body = alertToJsonLine(alert);
  bytes_ += r.body.size();
}

void RecordBatcher::onEvent(Event&& event) {
  if (stopped_) return;
  last_position_ = event.origin.position;
  if (event.system.time_created) {
    const std::chrono::system_clock::time_point t{
        std::chrono::microseconds(filetimeToUnixMicros(*event.system.time_created))};
    if (!newest_ || t > *newest_) newest_ = t;
  }
  QueueRecord& record = nextRecord(RecordKind::kEvent);
  appendEventRecordKey(record.key, event);
  record.time = event.system.time_created;
  appendEventJsonLine(record.body, event);
  bytes_ += record.body.size() + record.key.size();
  const bool gap = resumption_ == Resumption::kHandedOver && isGapEvent(event);
  if (gap) {
    ++counters_.gaps;
    spdlog::warn("{}: gap: {}", source_, event.find("Detail") ? *event.find("Detail") : "");
    const std::string key = record.key;  // `record` may move when the pool grows
    QueueRecord& status = nextRecord(RecordKind::kStatus);
    status = gapStatus(event, key);
    bytes_ += status.body.size();
  }
  // A gap is stored at once (with the checkpoint as it was): no batch may follow soon.
  if (++events_ >= limits_.events || bytes_ >= limits_.bytes || gap) flush(false);
}

void RecordBatcher::onError(const InputError& error) {
  ++counters_.source.input_errors;
  spdlog::warn("{}", error.error.message);
}

void RecordBatcher::flush(bool complete, bool advanced) {
  if (stopped_) return;
  if (used_ == 0 && !complete && !advanced) return;
  const bool handed_over = resumption_ == Resumption::kHandedOver;
  Checkpoint cp{source_, handed_over ? checkpoint_
                         : complete  ? std::string(kComplete)
                                     : std::string(prefix_) + std::to_string(last_position_)};
  const uint64_t events = events_;
  if (!writer_.store(std::span<const QueueRecord>(records_.data(), used_), cp, &counters_.source)) {
    stopped_ = true;  // stop() during a pause: nothing stored, the next run resumes here
    return;
  }
  counters_.source.enqueued += events;
  // File sources (a stream's checkpoint is not a position: its collector reports it).
  if (board_ != nullptr && events > 0 && !handed_over) {
    board_->progress(source_, events, cp.position, newest_);
  }
  used_ = 0;
  // Events of very different sizes could leave every kept buffer at the largest body it ever
  // held: past a few batches' worth, all are let go and the next batch allocates afresh.
  if (keptBytes() > kMaxKeptBatches * limits_.bytes) records_.clear();
  events_ = 0;
  bytes_ = 0;
}

}  // namespace t0w
