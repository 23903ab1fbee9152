#include "agent/rules/rule_stage.h"

#include <memory>

namespace t0w {

void RuleStage::onEvent(Event&& event) {
  ++events_;
  // Only a matching event is copied (once) into the shared event its alerts point to; the
  // original goes on unchanged.
  {
    std::unique_lock<std::mutex> lock;
    if (shared_ != nullptr) lock = std::unique_lock(*shared_);
    matches_ += rules_.evaluate(
        event, [&event] { return std::make_shared<const Event>(event); }, alerts_);
    if (gauges_ != nullptr) {
      if (const CorrelationEngine* c = rules_.correlations()) {
        gauges_->state_bytes.store(c->stateBytes(), std::memory_order_relaxed);
        gauges_->budget_evictions.store(c->budgetEvictions(), std::memory_order_relaxed);
      }
    }
  }
  if (forward_) next_.onEvent(std::move(event));
}

}  // namespace t0w
