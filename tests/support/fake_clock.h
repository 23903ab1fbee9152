// FakeClock: the one test double of Clock; time moves only when a test advances it.
#pragma once

#include <chrono>

#include "common/core/clock.h"

namespace t0w::testing {

class FakeClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return now_; }
  std::chrono::steady_clock::time_point monotonic() const override {
    return std::chrono::steady_clock::time_point(now_.time_since_epoch());
  }
  void advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  // 2026-01-02T03:04:05Z: fixed, so file names and ages are reproducible.
  std::chrono::system_clock::time_point now_{std::chrono::seconds(1767323045)};
};

}  // namespace t0w::testing
