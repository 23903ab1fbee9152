#include "agent/shipper/backoff.h"

#include <algorithm>

namespace t0w {

Backoff::Backoff(BackoffPolicy policy, Random& random) : policy_(policy), random_(random) {
  policy_.base = std::max(policy_.base, std::chrono::milliseconds(1));
  policy_.cap = std::max(policy_.cap, policy_.base);
  policy_.max_retry_after = std::max(policy_.max_retry_after, std::chrono::milliseconds(0));
}

std::chrono::milliseconds Backoff::ceiling() const {
  const int64_t base = policy_.base.count();
  const int64_t cap = policy_.cap.count();
  // Double step by step so that a large attempt count saturates instead of overflowing.
  int64_t value = base;
  for (uint32_t i = 0; i < attempt_ && value < cap; ++i) value *= 2;
  return std::chrono::milliseconds(std::min(value, cap));
}

std::chrono::milliseconds Backoff::next(std::optional<std::chrono::milliseconds> retry_after) {
  const std::chrono::milliseconds window = ceiling();
  const auto jitter =
      static_cast<int64_t>(random_.uniform(static_cast<uint64_t>(window.count()) + 1));
  std::chrono::milliseconds delay(jitter);
  if (retry_after) {
    const auto floor =
        std::clamp(*retry_after, std::chrono::milliseconds(0), policy_.max_retry_after);
    delay = std::max(delay, floor);
  }
  // Stop counting once the window is at the cap; the count only matters below it.
  if (window < policy_.cap) ++attempt_;
  return delay;
}

}  // namespace t0w
