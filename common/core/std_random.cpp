#include "common/core/std_random.h"

namespace t0w {

uint64_t StdRandom::uniform(uint64_t bound) {
  return std::uniform_int_distribution<uint64_t>(0, bound - 1)(engine_);
}

}  // namespace t0w
