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

// High bits of the bytes of w that need escaping or checking: the usual zero-byte tests for a
// byte below 0x20, '"' or '\\', plus w's own high bits (non-ASCII). Exact as a yes/no: a false
// mark can only follow a true one (the borrow), and the high bits of w mark themselves.
template <typename Word>
Word specialBits(Word w) {
  constexpr Word kOnes = static_cast<Word>(0x0101010101010101ull);
  const Word quote = w ^ (kOnes * '"');
  const Word backslash = w ^ (kOnes * '\\');
  return ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) |
         ((backslash - kOnes) & ~backslash) | w;
}

template <typename Word>
Word load(const unsigned char* p) {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

constexpr uint64_t kHigh64 = 0x8080808080808080ull;

// Whether none of the eight bytes at p needs escaping or checking.
bool plainWord(const unsigned char* p) { return (specialBits(load<uint64_t>(p)) & kHigh64) == 0; }

// Length of the run of plain bytes at the start of [p, p + n): eight bytes at a time while
// none of them needs a look (values are mostly plain ASCII), then by the table.
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
  // Only a yes/no: every word is tested and the marks gathered, without a branch per word;
  // 4 to 7 bytes (values such as "%%1833") as two overlapping words, not byte by byte.
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  if (n >= 8) {
    uint64_t marks = specialBits(load<uint64_t>(p + n - 8));  // the last eight, overlapping
    for (size_t i = 0; i + 8 <= n; i += 8) marks |= specialBits(load<uint64_t>(p + i));
    return (marks & kHigh64) == 0;
  }
  if (n >= 4) {
    const uint32_t marks = specialBits(load<uint32_t>(p)) | specialBits(load<uint32_t>(p + n - 4));
    return (marks & 0x80808080u) == 0;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!kPlain[p[i]]) return false;
  }
  return true;
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
