#include "common/text/utf8.h"

#include <cstdint>
#include <cstring>

namespace t0w {

size_t validUtf8PrefixOfNonAscii(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {  // skip the ASCII words before the first other byte
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (word & 0x8080808080808080ull) break;
  }
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const Utf8Sequence seq = utf8Sequence(p + i, n - i);
    if (!seq.valid) break;
    i += seq.length;
  }
  return i;
}

bool appendValidUtf8(std::string& out, std::string_view s) {
  size_t i = validUtf8Prefix(s);
  if (i == s.size()) {
    out.append(s);
    return false;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  out.reserve(out.size() + s.size() + 8);
  out.append(s.data(), i);
  while (i < s.size()) {
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
