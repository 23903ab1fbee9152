// FieldKey: a field name with its hash computed once, so that rules compiled at load time look
// fields up without hashing or allocating per event.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace t0w {

namespace detail {

// Bytes [at, at + len) of s (len <= 8) as a little-endian number, whatever the platform.
constexpr uint64_t hashWord(std::string_view s, size_t at, size_t len) {
  if (!std::is_constant_evaluated() && len == 8 && std::endian::native == std::endian::little) {
    uint64_t w;
    std::memcpy(&w, s.data() + at, 8);
    return w;
  }
  uint64_t w = 0;
  for (size_t k = 0; k < len; ++k) w |= uint64_t{static_cast<unsigned char>(s[at + k])} << (8 * k);
  return w;
}

constexpr uint64_t hashMix(uint64_t h) {
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 31);
}

}  // namespace detail

// Case-sensitive: Windows field names are matched as written. Eight bytes per step (every field
// of every event is hashed when it is parsed): the length, then each word mixed in by a
// multiplication; names of 8 bytes or more end with the word of their last 8 (overlapping).
// Only ever compared in memory, so it may change between versions.
constexpr uint32_t fieldHash(std::string_view name) {
  const size_t n = name.size();
  uint64_t h = detail::hashMix(n ^ 0x9E3779B97F4A7C15ull);
  if (n < 8) {
    h = detail::hashMix(h ^ detail::hashWord(name, 0, n));
  } else {
    for (size_t i = 0; i + 8 < n; i += 8) h = detail::hashMix(h ^ detail::hashWord(name, i, 8));
    h = detail::hashMix(h ^ detail::hashWord(name, n - 8, 8));
  }
  return static_cast<uint32_t>(h ^ (h >> 32));
}

class FieldKey {
 public:
  FieldKey() = default;
  explicit FieldKey(std::string name) : name_(std::move(name)), hash_(fieldHash(name_)) {}
  const std::string& name() const { return name_; }
  uint32_t hash() const { return hash_; }

 private:
  std::string name_;
  uint32_t hash_ = fieldHash("");
};

}  // namespace t0w
