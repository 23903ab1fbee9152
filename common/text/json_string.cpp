#include "common/text/json_string.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "common/text/utf8.h"

namespace t0w {
namespace {

// Bytes copied as they are: ASCII from the space up, except '"' and '\\' (0x7F included, as
// nlohmann writes it).
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

// Length of the run of plain bytes at the start of [p, p + n): eight bytes at a time while
// none of them needs a look (values are mostly plain ASCII), then by the table.
// Whether none of the eight bytes at p needs escaping or checking. The usual zero-byte tests:
// a high bit in `special` for a byte below 0x20, '"' or '\\' (exact whenever no byte of w has
// its own high bit set, which `w` itself adds to the test).
bool plainWord(const unsigned char* p) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  uint64_t w;
  std::memcpy(&w, p, 8);
  const uint64_t quote = w ^ (kOnes * '"');
  const uint64_t backslash = w ^ (kOnes * '\\');
  const uint64_t special = ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) |
                           ((backslash - kOnes) & ~backslash) | w;
  return (special & kHigh) == 0;
}

size_t plainRun(const unsigned char* p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    if (!plainWord(p + i)) break;
  }
  // The last bytes as the (overlapping) last eight, rather than one by one.
  if (i + 8 > n && n >= 8 && plainWord(p + n - 8)) return n;
  while (i < n && kPlain[p[i]]) ++i;
  return i;
}

void appendEscapedAscii(std::string& out, unsigned char c) {
  switch (c) {
    case '\b':
      out.append("\\b");
      return;
    case '\t':
      out.append("\\t");
      return;
    case '\n':
      out.append("\\n");
      return;
    case '\f':
      out.append("\\f");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '"':
      out.append("\\\"");
      return;
    case '\\':
      out.append("\\\\");
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(esc, sizeof esc);
      return;
    }
  }
}

}  // namespace

bool isVerbatimJsonString(std::string_view s) {
  return plainRun(reinterpret_cast<const unsigned char*>(s.data()), s.size()) == s.size();
}

void appendJsonString(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  out.push_back('"');
  size_t i = 0;
  while (i < n) {
    const size_t run = i + plainRun(p + i, n - i);
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i == n) break;
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      appendEscapedAscii(out, c);
      ++i;
      continue;
    }
    const Utf8Sequence seq = utf8Sequence(p + i, n - i);
    if (seq.valid) {
      out.append(s.data() + i, seq.length);
    } else {
      out.append(kUtf8Replacement);
    }
    i += seq.length;
  }
  out.push_back('"');
}

}  // namespace t0w
