// RuleStage: the pipeline stage that evaluates every event against a RuleSet, hands alerts to an
// AlertSink and forwards the event unchanged to the next stage.
#pragma once

#include <atomic>
#include <mutex>

#include "agent/core/event_sink.h"
#include "agent/rules/alert.h"
#include "agent/rules/rule_set.h"

namespace t0w {

// The correlation engine's state as the agent's metrics show it (read by the metrics thread).
struct CorrelationGauges {
  std::atomic<uint64_t> state_bytes{0};
  std::atomic<uint64_t> budget_evictions{0};
};

class RuleStage final : public EventSink {
 public:
  // `forward_events`: false when nothing downstream looks at events (scan without --events).
  // `shared`: held while evaluating when several sources' threads share one RuleSet (`run`);
  // null when one thread owns it (`scan`).
  // `gauges`: when set, kept up to date after each event (under the same lock).
  RuleStage(RuleSet& rules, AlertSink& alerts, EventSink& next, bool forward_events = true,
            std::mutex* shared = nullptr, CorrelationGauges* gauges = nullptr)
      : rules_(rules),
        alerts_(alerts),
        next_(next),
        forward_(forward_events),
        shared_(shared),
        gauges_(gauges) {}

  void onEvent(Event&& event) override;
  void onError(const InputError& error) override { next_.onError(error); }
  // End of input: decides open correlation windows.
  void finish() { rules_.flush(alerts_); }

  uint64_t events() const { return events_; }
  uint64_t matches() const { return matches_; }

 private:
  RuleSet& rules_;
  AlertSink& alerts_;
  EventSink& next_;
  bool forward_;
  std::mutex* shared_;
  CorrelationGauges* gauges_;
  uint64_t events_ = 0;
  uint64_t matches_ = 0;
};

}  // namespace t0w
