// FakeRandom: the one test double of Random. What uniform() returns is chosen by the test (a pick
// function of the bound: the minimum, the maximum, the middle, a counter, a seeded engine, or a
// script of values); every call is counted and its bound recorded.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "common/core/clock.h"

namespace t0w::testing {

class FakeRandom final : public Random {
 public:
  // bound → value; the result is taken modulo the bound, so any pick stays in [0, bound).
  using Pick = std::function<uint64_t(uint64_t bound)>;

  FakeRandom();  // always 0, the minimum
  explicit FakeRandom(Pick pick);

  static FakeRandom minimum();                 // 0
  static FakeRandom maximum();                 // bound - 1
  static FakeRandom middle();                  // bound / 2
  static FakeRandom counting(uint64_t first);  // first, first + 1, ... (modulo the bound)
  static FakeRandom seeded(uint64_t seed);     // std::mt19937_64: reproducible "real" chance

  // Values returned before the pick is used again, one per call (modulo the bound).
  std::deque<uint64_t> script;

  uint64_t uniform(uint64_t bound) override;

  size_t calls() const { return bounds_.size(); }
  const std::vector<uint64_t>& bounds() const { return bounds_; }  // of every call, in order

 private:
  Pick pick_;
  std::vector<uint64_t> bounds_;
};

}  // namespace t0w::testing
