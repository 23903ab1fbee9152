#include "agent/rules/gate_index.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

namespace t0w {
namespace {

// Every occurrence of every pattern reported once, against a naive search, over a small alphabet so
// that patterns share prefixes and suffixes (failure and output links) and repeat.
TEST(AhoCorasick, ReportsEveryOccurrenceOfEveryPattern) {
  std::mt19937 rng(11);
  const std::string alphabet = "abAB:";
  auto text = [&](size_t min, size_t max) {
    std::string s(std::uniform_int_distribution<size_t>(min, max)(rng), ' ');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  for (int round = 0; round < 200; ++round) {
    AhoCorasick ac;
    std::vector<std::string> patterns;
    const size_t n = 1 + rng() % 30;
    for (size_t i = 0; i < n; ++i) {
      patterns.push_back(lowerAscii(text(1, 5)));
      ASSERT_EQ(ac.add(patterns.back()), i);
    }
    ac.build();
    ASSERT_EQ(ac.patterns(), n);
    for (int v = 0; v < 20; ++v) {
      const std::string value = text(0, 30);
      std::multiset<uint32_t> got_ids, want_ids;
      ac.scan(value, [&](uint32_t id) { got_ids.insert(id); });
      const std::string lower = lowerAscii(value);
      for (uint32_t id = 0; id < patterns.size(); ++id)
        for (size_t at = lower.find(patterns[id]); at != std::string::npos;
             at = lower.find(patterns[id], at + 1))
          want_ids.insert(id);
      ASSERT_EQ(got_ids, want_ids) << "value '" << value << "', round " << round;
    }
  }
}

}  // namespace
}  // namespace t0w
