// ResumeGate: the first stage after a collector. Skips what a previous run already stored (replay
// files re-read from their start), counts the source's events, and sends a subscription's
// notices straight to the batcher (they are state changes, not events for the rules).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/core/event_sink.h"
#include "agent/metrics/agent_metrics.h"
#include "agent/pipeline/record_batcher.h"

namespace t0w {

// A replay file's stored position: "complete", "record:<n>" (EVTX), "offset:<n>" (XML).
struct Resume {
  bool complete = false;
  std::optional<uint64_t> last_stored;  // position of the last stored record
};
// Anything else starts from the beginning with a warning (a checkpoint from a future version
// must not make us skip records).
Resume parseResume(const std::optional<std::string>& position, const std::string& source);

class ResumeGate final : public EventSink {
 public:
  ResumeGate(EventSink& next, RecordBatcher& notices, Resume resume, bool handed_over,
             SourceMetrics& metrics)
      : next_(next),
        notices_(notices),
        resume_(resume),
        handed_over_(handed_over),
        metrics_(metrics) {}

  void onEvent(Event&& event) override;
  void onError(const InputError& error) override { next_.onError(error); }

 private:
  EventSink& next_;
  RecordBatcher& notices_;
  Resume resume_;
  bool handed_over_;
  SourceMetrics& metrics_;
};

}  // namespace t0w
