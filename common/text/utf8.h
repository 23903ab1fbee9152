// UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates, nothing above U+10FFFF), one
// rule for every place that must hand on valid text: JSON strings and queue record keys.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace t0w {

// The sequence that starts at p[0] (a byte of 0x80 or more) in [p, p + n): `valid` with its
// length, or not valid with the number of bytes to replace by one U+FFFD (the byte that broke
// the sequence is read again on its own, as nlohmann's replace handler and browsers do).
struct Utf8Sequence {
  size_t length = 0;
  bool valid = false;
};
Utf8Sequence utf8Sequence(const unsigned char* p, size_t n);

bool isValidUtf8(std::string_view s);

// Appends `s` with each invalid sequence replaced by U+FFFD (the same replacement the JSON
// writer makes, so a key and the same text in a body read alike); true when any was.
bool appendValidUtf8(std::string& out, std::string_view s);

inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";

}  // namespace t0w
