// A strict one-pass JSON reader for the collector's batch scan (scanBatchJson in
// batch_decoder.h). Why not nlohmann's SAX parser: its interface gives no byte offsets of values,
// and the scan needs each record body's exact span in the document (to store it as it came,
// without re-serialising it); and this reader costs about a third of what building nlohmann's
// tree does. It only accepts: on malformed input it stops (syntaxError()), and the caller hands
// the document to nlohmann, whose verdict and messages stand. CountingIterator is what lets the
// nlohmann-lexed scan find the same offsets.
#pragma once

#include <bit>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "common/text/utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace t0w {

// A char iterator that publishes how far nlohmann's lexer has read, so that the handler knows
// the byte offset of the '{' and '}' it is told about (the lexer reads at most one character
// ahead, and never past a '}' or '{' before reporting it).
class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* p, const char** read) : p_(p), read_(read) {}
  char operator*() const { return *p_; }
  CountingIterator& operator++() {
    *read_ = ++p_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const CountingIterator& o) const { return p_ == o.p_; }
  bool operator!=(const CountingIterator& o) const { return p_ != o.p_; }

 private:
  const char* p_;
  const char** read_;
};

// A strict JSON reader (RFC 8259, as nlohmann's lexer reads it: UTF-8 checked, no comments, an
// optional BOM, non-finite numbers refused) that drives a SAX handler in the order nlohmann's
// parser would, each token read whole before the handler hears of it, so that the handler's
// limits trip at the same point. It keeps no token buffer and copies a string only when it has
// escapes. On a syntax error it stops and says so (syntaxError()): the caller then asks nlohmann,
// whose messages (and judgement) stand.
//
// The handler: start_object(size_t) / start_array(size_t) (given size_t(-1), as nlohmann does),
// end_object(), end_array(), keyValue(string_view), stringValue(string_view) (unescaped; valid
// until the next token), boolean(bool), null(), number_unsigned(uint64_t),
// number_integer(int64_t) (integers as nlohmann types them: uint64 unless negative, int64 when
// it fits) and floatValue() (any other finite number); each returns false to stop. `*read` is set
// past the '{' or '}' (and '[') before the handler hears of it, as CountingIterator would.
template <typename Handler>
class FastJsonReader {
 public:
  FastJsonReader(std::string_view text, Handler& handler, const char** read)
      : begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        h_(handler),
        read_(read) {}

  // True when the whole text was one valid value and the handler took all of it.
  bool run() {
    if (p_ != end_ && static_cast<unsigned char>(*p_) == 0xEF) {
      if (end_ - p_ < 3 || static_cast<unsigned char>(p_[1]) != 0xBB ||
          static_cast<unsigned char>(p_[2]) != 0xBF) {
        return syntax();
      }
      p_ += 3;
    }
    bool want_value = true;
    for (;;) {
      if (want_value) {
        skipWs();
        if (p_ == end_) return syntax();
        switch (*p_) {
          case '{':
            *read_ = p_ + 1;
            if (!h_.start_object(static_cast<std::size_t>(-1))) return false;
            ++p_;
            skipWs();
            if (p_ != end_ && *p_ == '}') {
              *read_ = p_ + 1;
              if (!h_.end_object()) return false;
              ++p_;
              want_value = false;
              break;
            }
            if (!member()) return false;
            stack_.push_back(true);
            continue;
          case '[':
            *read_ = p_ + 1;
            if (!h_.start_array(static_cast<std::size_t>(-1))) return false;
            ++p_;
            skipWs();
            if (p_ != end_ && *p_ == ']') {
              if (!h_.end_array()) return false;
              ++p_;
              want_value = false;
              break;
            }
            stack_.push_back(false);
            continue;
          case '"': {
            std::string_view s;
            if (!string(s)) return syntax();
            if (!h_.stringValue(s)) return false;
            want_value = false;
            break;
          }
          case 't':
            if (!literal("true") || !h_.boolean(true)) return false;
            want_value = false;
            break;
          case 'f':
            if (!literal("false") || !h_.boolean(false)) return false;
            want_value = false;
            break;
          case 'n':
            if (!literal("null") || !h_.null()) return false;
            want_value = false;
            break;
          default:
            if (!number()) return false;
            want_value = false;
            break;
        }
        continue;
      }
      // After a value.
      if (stack_.empty()) {
        skipWs();
        return p_ == end_ ? true : syntax();
      }
      skipWs();
      if (p_ == end_) return syntax();
      const char c = *p_;
      if (c == ',') {
        ++p_;
        if (stack_.back() && !member()) return false;
        want_value = true;
      } else if (c == (stack_.back() ? '}' : ']')) {
        *read_ = p_ + 1;
        if (!(stack_.back() ? h_.end_object() : h_.end_array())) return false;
        ++p_;
        stack_.pop_back();
      } else {
        return syntax();
      }
    }
  }

  bool syntaxError() const { return syntax_error_; }

 private:
  bool syntax() {
    syntax_error_ = true;
    return false;
  }
  void skipWs() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  // A member's name and its ':'.
  bool member() {
    skipWs();
    if (p_ == end_ || *p_ != '"') return syntax();
    std::string_view k;
    if (!string(k)) return syntax();
    if (!h_.keyValue(k)) return false;
    skipWs();
    if (p_ == end_ || *p_ != ':') return syntax();
    ++p_;
    return true;
  }
  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return syntax();
    }
    p_ += word.size();
    return true;
  }
  static bool digit(char c) { return c >= '0' && c <= '9'; }
  bool number() {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || !digit(*p_)) return syntax();
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    const char* int_end = p_;
    bool is_float = false;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !digit(*p_)) return syntax();
      while (p_ != end_ && digit(*p_)) ++p_;
      is_float = true;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) return syntax();
      while (p_ != end_ && digit(*p_)) ++p_;
      is_float = true;
    }
    if (!is_float) {
      // Integers as nlohmann reads them: int64 when negative, uint64 otherwise, a float when
      // they do not fit.
      uint64_t magnitude = 0;
      bool fits = true;
      for (const char* d = start + (negative ? 1 : 0); d != int_end; ++d) {
        const auto v = static_cast<uint64_t>(*d - '0');
        if (magnitude > (UINT64_MAX - v) / 10) {
          fits = false;
          break;
        }
        magnitude = magnitude * 10 + v;
      }
      if (fits && !negative) return h_.number_unsigned(magnitude);
      if (fits && magnitude <= uint64_t{1} << 63) {
        return h_.number_integer(magnitude == uint64_t{1} << 63 ? INT64_MIN
                                                                : -static_cast<int64_t>(magnitude));
      }
    }
    // nlohmann refuses a number that overflows a double.
    const std::string token(start, p_);
    const double v = std::strtod(token.c_str(), nullptr);
    if (!std::isfinite(v)) return syntax();
    return h_.floatValue();
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool hex4(uint32_t& out) {
    if (end_ - p_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const int v = hex(p_[i]);
      if (v < 0) return false;
      out = out * 16 + static_cast<uint32_t>(v);
    }
    p_ += 4;
    return true;
  }
  void appendUtf8(uint32_t cp) {
    if (cp < 0x80) {
      scratch_ += static_cast<char>(cp);
    } else if (cp < 0x800) {
      scratch_ += static_cast<char>(0xC0 | (cp >> 6));
      scratch_ += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      scratch_ += static_cast<char>(0xE0 | (cp >> 12));
      scratch_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      scratch_ += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      scratch_ += static_cast<char>(0xF0 | (cp >> 18));
      scratch_ += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      scratch_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      scratch_ += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  // One multi-byte UTF-8 sequence at p_ (well-formed per Unicode table 3-7), or false.
  bool utf8() {
    const Utf8Sequence seq =
        utf8Sequence(reinterpret_cast<const unsigned char*>(p_), static_cast<size_t>(end_ - p_));
    if (!seq.valid) return false;
    if (escaped_) scratch_.append(p_, seq.length);
    p_ += seq.length;
    return true;
  }
  // From p, the first byte that ends a plain ASCII run (see special()) within the last whole
  // sixteen bytes before end; where the search stopped when there is none.
  static const char* plainRunEnd(const char* p, const char* end) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    for (; end - p >= 16; p += 16) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      // Signed: below 0x20 is a control character or (negative) a byte from 0x80.
      const __m128i hit =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, quote), _mm_cmpeq_epi8(b, backslash)),
                       _mm_cmplt_epi8(b, space));
      if (const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit)); mask != 0) {
        return p + std::countr_zero(mask);
      }
    }
#else
    (void)end;
#endif
    return p;
  }
  // Whether any of the eight bytes in `w` ends a plain ASCII run: '"', '\\', a control
  // character (< 0x20) or a byte of a multi-byte UTF-8 sequence (>= 0x80).
  static bool special(uint64_t w) {
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    constexpr uint64_t kHigh = 0x8080808080808080ull;
    const auto zero_byte = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
    return ((w | zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\\')) |
             ((w - kOnes * 0x20) & ~w)) &
            kHigh) != 0;
  }
  // A string token at p_ ('"'); `out` is its text, unescaped (a view of the document when it
  // has no escapes, else of scratch_).
  bool string(std::string_view& out) {
    ++p_;
    const char* start = p_;
    escaped_ = false;
    for (;;) {
      // Plain ASCII runs first, sixteen bytes at a time (SSE2, every x86-64 CPU) to the first
      // byte that ends one, else eight at a time: most of any event.
      if (!escaped_) p_ = plainRunEnd(p_, end_);
      while (end_ - p_ >= 8) {
        uint64_t w = 0;
        std::memcpy(&w, p_, 8);
        if (special(w)) break;
        if (escaped_) scratch_.append(p_, 8);
        p_ += 8;
      }
      while (p_ != end_) {
        const auto c = static_cast<unsigned char>(*p_);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
        if (escaped_) scratch_ += static_cast<char>(c);
        ++p_;
      }
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out = escaped_ ? std::string_view(scratch_) : std::string_view(start, p_);
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        if (!utf8()) return false;
        continue;
      }
      // A backslash.
      if (!escaped_) {
        escaped_ = true;
        scratch_.assign(start, p_);
      }
      ++p_;
      if (p_ == end_) return false;
      const char e = *p_++;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          scratch_ += e;
          break;
        case 'b':
          scratch_ += '\b';
          break;
        case 'f':
          scratch_ += '\f';
          break;
        case 'n':
          scratch_ += '\n';
          break;
        case 'r':
          scratch_ += '\r';
          break;
        case 't':
          scratch_ += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          appendUtf8(cp);
          break;
        }
        default:
          return false;
      }
    }
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  Handler& h_;
  const char** read_;
  std::vector<bool> stack_;  // open containers: true an object, false an array
  std::string scratch_;
  bool escaped_ = false;
  bool syntax_error_ = false;
};

}  // namespace t0w
