// The byte searches of the XML scanner (xml_tree.cpp): sixteen bytes at a time with SSE2, which
// every x86-64 CPU has (both builds of the agent), eight at a time elsewhere. Both versions are
// compiled on x86-64 so that tests compare them.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#define T0W_XML_BYTES_SSE2 1
#endif

namespace t0w::xml_bytes {

// ---- eight bytes at a time (any CPU) ----------------------------------------------------------

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighBits = 0x8080808080808080ull;

inline uint64_t load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// High bit set in the bytes of w that are zero (and maybe above one that is).
inline uint64_t zeroBytes(uint64_t w) { return (w - kOnes) & ~w & kHighBits; }

// Whether the word holds `stop` (each byte of `stops`), '&', '<', or a byte below 0x0E (NUL,
// tab, LF, CR among them). Exact as a yes/no.
inline bool wordHasMarkup(uint64_t w, uint64_t stops) {
  return (zeroBytes(w ^ stops) | zeroBytes(w ^ (kOnes * '&')) | zeroBytes(w ^ (kOnes * '<')) |
          ((w - kOnes * 0x0E) & ~w & kHighBits)) != 0;
}

inline bool isMarkupByte(char c, char stop) {
  return c == stop || c == '&' || c == '<' || static_cast<unsigned char>(c) < 0x0E;
}

// The first byte of [p, end) that is `stop`, '&', '<' or below 0x0E; end when there is none.
inline const char* findMarkupWords(const char* p, const char* end, char stop) {
  const uint64_t stops = kOnes * static_cast<unsigned char>(stop);
  while (end - p >= 8 && !wordHasMarkup(load8(p), stops)) p += 8;
  while (p != end && !isMarkupByte(*p, stop)) ++p;
  return p;
}

// Name characters as the scanner takes them: ASCII letters, digits, '_', ':', '-', '.'.
inline bool isNameByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return static_cast<unsigned char>((u | 0x20) - 'a') < 26 ||
         static_cast<unsigned char>(u - '0') < 11 || static_cast<unsigned char>(u - '-') < 2 ||
         u == '_';  // '0'..':' and '-', '.'
}

// The end of the run of name characters at p; `colon` tells whether the run holds a ':'.
inline const char* nameEndBytes(const char* p, const char* end, bool& colon) {
  colon = false;
  for (; p != end && isNameByte(*p); ++p) colon = colon || *p == ':';
  return p;
}

#if defined(T0W_XML_BYTES_SSE2)

// ---- sixteen bytes at a time (SSE2) -----------------------------------------------------------

inline __m128i load16(const char* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// Bytes of b that are unsigned <= limit, as 0xFF.
inline __m128i atMost(__m128i b, char limit) {
  return _mm_cmpeq_epi8(_mm_min_epu8(b, _mm_set1_epi8(limit)), b);
}

inline const char* findMarkupSse2(const char* p, const char* end, char stop) {
  const __m128i stops = _mm_set1_epi8(stop);
  const __m128i amp = _mm_set1_epi8('&');
  const __m128i lt = _mm_set1_epi8('<');
  for (; end - p >= 16; p += 16) {
    const __m128i b = load16(p);
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, stops), _mm_cmpeq_epi8(b, amp)),
                                     _mm_or_si128(_mm_cmpeq_epi8(b, lt), atMost(b, 0x0D)));
    if (const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit)); mask != 0) {
      return p + std::countr_zero(mask);
    }
  }
  return findMarkupWords(p, end, stop);
}

inline const char* nameEndSse2(const char* p, const char* end, bool& colon) {
  const __m128i lower = _mm_set1_epi8(0x20);
  colon = false;
  for (; end - p >= 16; p += 16) {
    const __m128i b = load16(p);
    const __m128i letter = atMost(_mm_sub_epi8(_mm_or_si128(b, lower), _mm_set1_epi8('a')), 25);
    const __m128i digit_colon = atMost(_mm_sub_epi8(b, _mm_set1_epi8('0')), 10);
    const __m128i dash_dot = atMost(_mm_sub_epi8(b, _mm_set1_epi8('-')), 1);
    const __m128i underscore = _mm_cmpeq_epi8(b, _mm_set1_epi8('_'));
    const __m128i name =
        _mm_or_si128(_mm_or_si128(letter, digit_colon), _mm_or_si128(dash_dot, underscore));
    const auto stop = static_cast<unsigned>(~_mm_movemask_epi8(name)) & 0xFFFFu;
    const auto colons =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(b, _mm_set1_epi8(':'))));
    if (stop != 0) {
      const int n = std::countr_zero(stop);
      colon = colon || (colons & ((1u << n) - 1)) != 0;
      return p + n;
    }
    colon = colon || colons != 0;
  }
  bool tail_colon = false;
  p = nameEndBytes(p, end, tail_colon);
  colon = colon || tail_colon;
  return p;
}

inline const char* findMarkup(const char* p, const char* end, char stop) {
  return findMarkupSse2(p, end, stop);
}
inline const char* nameEnd(const char* p, const char* end, bool& colon) {
  return nameEndSse2(p, end, colon);
}

#else

inline const char* findMarkup(const char* p, const char* end, char stop) {
  return findMarkupWords(p, end, stop);
}
inline const char* nameEnd(const char* p, const char* end, bool& colon) {
  return nameEndBytes(p, end, colon);
}

#endif

}  // namespace t0w::xml_bytes
