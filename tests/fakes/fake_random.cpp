#include "tests/fakes/fake_random.h"

#include <memory>
#include <random>
#include <utility>

namespace t0w::testing {

FakeRandom::FakeRandom() : FakeRandom([](uint64_t) -> uint64_t { return 0; }) {}

FakeRandom::FakeRandom(Pick pick) : pick_(std::move(pick)) {}

FakeRandom FakeRandom::minimum() { return FakeRandom(); }

FakeRandom FakeRandom::maximum() {
  return FakeRandom([](uint64_t bound) { return bound - 1; });
}

FakeRandom FakeRandom::middle() {
  return FakeRandom([](uint64_t bound) { return bound / 2; });
}

FakeRandom FakeRandom::counting(uint64_t first) {
  return FakeRandom([next = first](uint64_t) mutable { return next++; });
}

FakeRandom FakeRandom::seeded(uint64_t seed) {
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return FakeRandom([engine](uint64_t bound) {
    return std::uniform_int_distribution<uint64_t>(0, bound - 1)(*engine);
  });
}

uint64_t FakeRandom::uniform(uint64_t bound) {
  bounds_.push_back(bound);
  uint64_t v = 0;
  if (!script.empty()) {
    v = script.front();
    script.pop_front();
  } else {
    v = pick_(bound);
  }
  return bound == 0 ? 0 : v % bound;
}

}  // namespace t0w::testing
