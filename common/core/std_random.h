// Random over std::mt19937_64: the agent seeds it from the system (backoff jitter must differ
// between agents), benchmarks with a fixed seed (runs repeat).
#pragma once

#include <cstdint>
#include <random>

#include "common/core/clock.h"

namespace t0w {

class StdRandom final : public Random {
 public:
  StdRandom() : engine_(std::random_device{}()) {}
  explicit StdRandom(uint64_t seed) : engine_(seed) {}

  uint64_t uniform(uint64_t bound) override;

 private:
  std::mt19937_64 engine_;
};

}  // namespace t0w
