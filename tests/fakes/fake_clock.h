// FakeClock: the one test double of Clock; time moves only when a test advances or sets it.
#pragma once

#include <chrono>

#include "common/core/clock.h"

namespace t0w::testing {

class FakeClock final : public Clock {
 public:
  // 2026-01-02T03:04:05Z: fixed, so file names and ages are reproducible.
  static constexpr std::chrono::seconds kDefaultStart{1767323045};

  FakeClock() = default;
  explicit FakeClock(std::chrono::system_clock::time_point start) : now_(start) {}

  std::chrono::system_clock::time_point now() const override { return now_; }
  // Moves with now() (same ticks since the epoch), so durations agree between the two.
  std::chrono::steady_clock::time_point monotonic() const override {
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(now_.time_since_epoch()));
  }
  void advance(std::chrono::milliseconds d) { now_ += d; }
  void set(std::chrono::system_clock::time_point t) { now_ = t; }

 private:
  std::chrono::system_clock::time_point now_{kDefaultStart};
};

}  // namespace t0w::testing
