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
  }
  if (forward_) next_.onEvent(std::move(event));
}

}  // namespace t0w
