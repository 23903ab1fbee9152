// Full-jitter exponential backoff: sleep = uniform[0, min(cap, base * 2^attempt)], with the
// server's Retry-After as a floor. Jitter spreads a fleet of agents that failed together.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "common/core/clock.h"

namespace t0w {

struct BackoffPolicy {
  std::chrono::milliseconds base{1'000};
  std::chrono::milliseconds cap{300'000};
  // Upper bound on an honoured Retry-After, so a broken server cannot park the agent for days.
  std::chrono::milliseconds max_retry_after{3'600'000};
};

class Backoff {
 public:
  Backoff(BackoffPolicy policy, Random& random);

  // Delay before the next attempt; each call raises the exponent (saturating at the cap).
  std::chrono::milliseconds next(std::optional<std::chrono::milliseconds> retry_after = {});
  // After a success the next failure starts again from `base`.
  void reset() { attempt_ = 0; }
  uint32_t attempt() const { return attempt_; }
  // The upper bound of the jitter window for the current attempt.
  std::chrono::milliseconds ceiling() const;

 private:
  BackoffPolicy policy_;
  Random& random_;
  uint32_t attempt_ = 0;
};

}  // namespace t0w
