// UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates, nothing above U+10FFFF), one
// rule for every place that must hand on valid text: event values and names, JSON strings, trace
// lines and queue record keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace t0w {

// The sequence that starts at p[0] (a byte of 0x80 or more) in [p, p + n): `valid` with its
// length, or not valid with the number of bytes to replace by one U+FFFD (the byte that broke
// the sequence is read again on its own, as nlohmann's replace handler and browsers do).
// Inline: the collector's JSON reader calls it on its hot path.
struct Utf8Sequence {
  size_t length = 0;
  bool valid = false;
};
inline Utf8Sequence utf8Sequence(const unsigned char* p, size_t n) {
  const unsigned char c = p[0];
  size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // UTF-16 surrogate
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return {1, false};  // a byte that never starts a sequence
  }
  size_t k = 1;
  for (; k < len && k < n; ++k) {
    const unsigned char b = p[k];
    if (b < lo || b > hi) break;
    lo = 0x80;
    hi = 0xBF;
  }
  return {k, k == len};
}

// Whether `s` is ASCII: values, names and keys almost always are, and are short, so whole words
// are OR-ed (the last one overlapping) rather than bytes looked at one by one. Inline: the event
// parser asks it of every value.
inline bool isAscii(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  if (n >= 8) {
    uint64_t acc = 0;
    uint64_t w;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&w, p + i, 8);
      acc |= w;
    }
    std::memcpy(&w, p + n - 8, 8);
    return ((acc | w) & 0x8080808080808080ull) == 0;
  }
  if (n >= 4) {
    uint32_t a;
    uint32_t b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    return ((a | b) & 0x80808080u) == 0;
  }
  unsigned acc = 0;
  for (size_t i = 0; i < n; ++i) acc |= p[i];
  return acc < 0x80;
}

// Length of the longest valid UTF-8 prefix of `s`, which is not ASCII.
size_t validUtf8PrefixOfNonAscii(std::string_view s);

// Length of the longest valid UTF-8 prefix of `s`.
inline size_t validUtf8Prefix(std::string_view s) {
  return isAscii(s) ? s.size() : validUtf8PrefixOfNonAscii(s);
}

inline bool isValidUtf8(std::string_view s) { return validUtf8Prefix(s) == s.size(); }

// Appends `s` with each invalid sequence replaced by U+FFFD (the same replacement the JSON
// writer makes, so a key and the same text in a body read alike); true when any was.
bool appendValidUtf8(std::string& out, std::string_view s);

inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";

}  // namespace t0w
