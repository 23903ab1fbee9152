// noise(): deterministic filler that compresses poorly, so that byte sizes are predictable.
#pragma once

#include <cstdint>
#include <string>

namespace t0w::testing {

// Deterministic filler that compresses poorly, so that byte sizes are predictable.
inline std::string noise(size_t n, uint64_t seed) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out.push_back(kHex[x & 15]);
  }
  return out;
}

}  // namespace t0w::testing
