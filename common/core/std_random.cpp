#include "common/core/std_random.h"

#include "common/core/check.h"

namespace t0w {

uint64_t StdRandom::uniform(uint64_t bound) {
  // [0, bound - 1] with bound 0 would wrap to the whole 64-bit range.
  T0W_CHECK(bound > 0, "Random::uniform needs a bound > 0");
  return std::uniform_int_distribution<uint64_t>(0, bound - 1)(engine_);
}

}  // namespace t0w
