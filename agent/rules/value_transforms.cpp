#include "agent/rules/value_transforms.h"

#include <cctype>
#include <cstdint>

namespace t0w::sigma {

std::string base64Encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16 | static_cast<uint8_t>(in[i + 1]) << 8 |
                 static_cast<uint8_t>(in[i + 2]);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16 | static_cast<uint8_t>(in[i + 1]) << 8;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

namespace {

// UTF-8 → UTF-16 code units; invalid bytes pass through as U+FFFD.
std::vector<uint16_t> utf16Units(std::string_view s) {
  std::vector<uint16_t> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0xFFFD;
    size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c >> 5) == 0x6 && i + 1 < s.size()) {
      cp = (c & 0x1F) << 6 | (s[i + 1] & 0x3F);
      len = 2;
    } else if ((c >> 4) == 0xE && i + 2 < s.size()) {
      cp = (c & 0x0F) << 12 | (s[i + 1] & 0x3F) << 6 | (s[i + 2] & 0x3F);
      len = 3;
    } else if ((c >> 3) == 0x1E && i + 3 < s.size()) {
      cp = (c & 0x07) << 18 | (s[i + 1] & 0x3F) << 12 | (s[i + 2] & 0x3F) << 6 | (s[i + 3] & 0x3F);
      len = 4;
    }
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<uint16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<uint16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<uint16_t>(cp));
    }
  }
  return out;
}

}  // namespace

SigmaString toUtf16(const SigmaString& s, bool big_endian, bool bom) {
  SigmaString out;
  auto push = [&](char c, bool w) {
    out.text.push_back(c);
    out.wild.push_back(w);
  };
  if (bom) {
    push(static_cast<char>(0xFF), false);
    push(static_cast<char>(0xFE), false);
  }
  size_t i = 0;
  while (i < s.text.size()) {
    if (s.wild[i]) {
      push(s.text[i], true);
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.text.size() && !s.wild[j]) ++j;
    for (uint16_t u : utf16Units(std::string_view(s.text).substr(i, j - i))) {
      const char lo = static_cast<char>(u & 0xff), hi = static_cast<char>(u >> 8);
      push(big_endian ? hi : lo, false);
      push(big_endian ? lo : hi, false);
    }
    i = j;
  }
  return out;
}

std::vector<SigmaString> windash(const SigmaString& s, size_t max_dashes) {
  auto isWord = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ||
           (static_cast<unsigned char>(c) & 0x80) != 0;
  };
  std::vector<size_t> positions;
  for (size_t i = 0; i < s.text.size(); ++i) {
    if (s.wild[i] || (s.text[i] != '-' && s.text[i] != '/')) continue;
    const bool before_ok = i == 0 || !isWord(s.text[i - 1]);
    const bool after_ok = i + 1 < s.text.size() && isWord(s.text[i + 1]);
    if (before_ok && after_ok) positions.push_back(i);
  }
  static const char* const kDashes[] = {"-", "/", "\xE2\x80\x93", "\xE2\x80\x94", "\xE2\x80\x95"};
  if (positions.empty()) return {s};
  // Beyond the limit every flag gets the same dash form (5 variants instead of 5^n).
  const bool same_everywhere = positions.size() > max_dashes;
  size_t combos = 1;
  if (!same_everywhere)
    for (size_t k = 0; k < positions.size(); ++k) combos *= 5;
  else
    combos = 5;
  std::vector<SigmaString> out;
  for (size_t combo = 0; combo < combos; ++combo) {
    SigmaString v;
    size_t pi = 0, code = combo;
    for (size_t i = 0; i < s.text.size(); ++i) {
      if (pi < positions.size() && positions[pi] == i) {
        const size_t which = same_everywhere ? combo : code % 5;
        if (!same_everywhere) code /= 5;
        for (const char* d = kDashes[which]; *d; ++d) {
          v.text.push_back(*d);
          v.wild.push_back(false);
        }
        ++pi;
      } else {
        v.text.push_back(s.text[i]);
        v.wild.push_back(s.wild[i]);
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace t0w::sigma
