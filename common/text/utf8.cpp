#include "common/text/utf8.h"

#include <algorithm>

namespace t0w {

Utf8Sequence utf8Sequence(const unsigned char* p, size_t n) {
  const unsigned char c = p[0];
  size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
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

namespace {

bool ascii(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

}  // namespace

bool isValidUtf8(std::string_view s) {
  // Keys and names are ASCII almost always: nothing to decode.
  if (ascii(s)) return true;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const Utf8Sequence seq = utf8Sequence(p + i, s.size() - i);
    if (!seq.valid) return false;
    i += seq.length;
  }
  return true;
}

bool appendValidUtf8(std::string& out, std::string_view s) {
  if (isValidUtf8(s)) {
    out.append(s);
    return false;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    if (p[i] < 0x80) {
      out.push_back(s[i++]);
      continue;
    }
    const Utf8Sequence seq = utf8Sequence(p + i, s.size() - i);
    if (seq.valid) {
      out.append(s.data() + i, seq.length);
    } else {
      out.append(kUtf8Replacement);
    }
    i += seq.length;
  }
  return true;
}

}  // namespace t0w
