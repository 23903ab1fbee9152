#include "agent/rules/literal_set.h"

#include <algorithm>
#include <cstring>

#include "agent/rules/value_matcher.h"

namespace t0w {
namespace {

// Four bytes with bit 0x20 set in each: 'A' and 'a' give the same key, so bytes that are equal
// up to ASCII case always give equal keys (other bytes may collide; literals are compared after).
uint32_t keyAt(const char* p) {
  uint32_t k;
  std::memcpy(&k, p, 4);
  return k | 0x20202020u;
}

}  // namespace

LiteralSet::LiteralSet(std::vector<std::string> lower_literals) {
  std::sort(lower_literals.begin(), lower_literals.end());
  lower_literals.erase(std::unique(lower_literals.begin(), lower_literals.end()),
                       lower_literals.end());
  // About 64 bits per literal, from 1 Ki to 64 Ki bits: a position that starts no literal passes
  // the screen by chance about once in 64 (more often with thousands of literals).
  uint32_t bits_log2 = 10;
  while (bits_log2 < 16 && (uint64_t{1} << bits_log2) < 64 * lower_literals.size()) ++bits_log2;
  shift_ = 32 - bits_log2;
  bitmap_.assign((size_t{1} << bits_log2) / 64, 0);
  size_t total = 0;
  for (const auto& l : lower_literals) total += l.size();
  text_.reserve(total);
  literals_.reserve(lower_literals.size());
  for (const auto& l : lower_literals) {
    const uint32_t key = keyAt(l.data());
    const uint32_t s = slot(key);
    bitmap_[s >> 6] |= uint64_t{1} << (s & 63);
    literals_.push_back(
        {key, static_cast<uint32_t>(text_.size()), static_cast<uint32_t>(l.size())});
    text_ += l;
  }
  std::stable_sort(literals_.begin(), literals_.end(),
                   [](const Literal& a, const Literal& b) { return a.key < b.key; });
}

bool LiteralSet::containsAny(std::string_view value) const {
  if (value.size() < kMinLength) return false;
  const char* const data = value.data();
  const size_t last = value.size() - kMinLength;
  for (size_t i = 0; i <= last; ++i) {
    const uint32_t key = keyAt(data + i);
    const uint32_t s = slot(key);
    if (((bitmap_[s >> 6] >> (s & 63)) & 1) == 0) continue;
    auto it = std::lower_bound(literals_.begin(), literals_.end(), key,
                               [](const Literal& l, uint32_t k) { return l.key < k; });
    for (; it != literals_.end() && it->key == key; ++it) {
      const size_t n = it->size;
      if (n <= value.size() - i &&
          equalsFold(value.substr(i, n), std::string_view(text_).substr(it->offset, n)))
        return true;
    }
  }
  return false;
}

}  // namespace t0w
