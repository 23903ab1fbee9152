// Clock and Random are injected so that time- and chance-driven code is testable without sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace t0w {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  virtual std::chrono::steady_clock::time_point monotonic() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point monotonic() const override {
    return std::chrono::steady_clock::now();
  }
};

class Random {
 public:
  virtual ~Random() = default;
  // Uniform in [0, bound); bound > 0 (StdRandom checks it: T0W_CHECK).
  virtual uint64_t uniform(uint64_t bound) = 0;
};

}  // namespace t0w
