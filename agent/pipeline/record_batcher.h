// RecordBatcher: turns one source's events and alerts into queue records and stores them in
// batches, each with the source's checkpoint, through the QueueWriter.
//
// - events → event records (JSON lines, key eventRecordKey()); alerts → priority-lane records
//   keyed "alert|<rule>|<event key>", stored in the batch of the event that raised them;
// - a subscription's gap event → the event AND an {"type":"eventlog_gap"} status record, stored
//   at once; a notice → an {"type":"eventlog_absent"|...} status record only, stored at once;
// - checkpoints: kPosition sources store "<prefix><position of the last stored record>" and
//   "complete" at the end; kHandedOver sources store what their collector handed over last
//   (checkpointReached), so a batch stored early (size limit) keeps the previous one: a crash
//   re-reads, never skips.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/event_sink.h"
#include "agent/core/source_status.h"
#include "agent/pipeline/queue_writer.h"
#include "agent/rules/alert.h"
#include "collectors/registry.h"

namespace t0w {

// "<channel>|<EventRecordID>", "tracefile:<file id>|<offset>" for trace-file entries, or
// "<source>|<position>" when the event has no channel or record id.
std::string eventRecordKey(const Event& event);
void appendEventRecordKey(std::string& out, const Event& event);

struct BatchLimits {
  size_t events = 1000;       // events per enqueue transaction
  size_t bytes = 512 * 1024;  // serialized bytes per enqueue transaction
};

class RecordBatcher final : public EventSink, public AlertSink {
 public:
  struct Counters {
    SourceMetrics& source;
    std::atomic<uint64_t>& alerts;  // AgentMetrics::alerts
    std::atomic<uint64_t>& gaps;    // gap events of the whole pipeline
  };

  // `stored`: the stored checkpoint (kHandedOver; the first one stored if no batch hands over
  // another). `board`: file sources' progress (subscriptions report their own); may be null.
  RecordBatcher(QueueWriter& writer, const SourceStream& stream, std::string stored,
                BatchLimits limits, Counters counters, SourceStatusBoard* board);

  void onEvent(Event&& event) override;
  void onError(const InputError& error) override;
  // Raised by the rules for the event that follows in onEvent (same thread, same batch).
  void onAlert(Alert&& alert) override;
  // A subscription's state change: a status record, stored at once.
  void onNotice(const Event& notice);
  // The collector's checkpoint after a delivered batch: store the batch with it.
  void checkpointReached(const std::string& checkpoint);

  // Bytes held by the kept records' buffers (for tests: bounded by kMaxKeptBatches batches).
  size_t keptBytes() const;
  static constexpr size_t kMaxKeptBatches = 4;

  // Stores what is buffered; `complete` marks a replay file as read to its end; `advanced`: a
  // new handed-over checkpoint, stored even without records.
  void flush(bool complete, bool advanced = false);
  // stop() came during a wait: nothing more is stored (the next run resumes at the checkpoint).
  bool stopped() const { return stopped_; }

 private:
  QueueWriter& writer_;
  std::string source_;
  Resumption resumption_;
  const char* prefix_;
  std::string checkpoint_;  // kHandedOver: the last one handed over
  BatchLimits limits_;
  Counters counters_;
  SourceStatusBoard* board_;
  // The batch is records_[0, used_): records past it keep their strings' buffers for the next
  // batch, so that an event costs no allocation once the first batch was stored.
  QueueRecord& nextRecord(RecordKind kind);
  std::vector<QueueRecord> records_;
  size_t used_ = 0;
  size_t events_ = 0;
  size_t bytes_ = 0;
  uint64_t last_position_ = 0;
  bool stopped_ = false;
  std::optional<std::chrono::system_clock::time_point> newest_;  // newest event time read
};

}  // namespace t0w
