#include "agent/rules/value_matcher.h"

#include <re2/re2.h>

#include <charconv>
#include <cstring>

namespace t0w {

SigmaString SigmaString::parse(std::string_view raw) {
  SigmaString s;
  s.text.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size() &&
        (raw[i + 1] == '*' || raw[i + 1] == '?' || raw[i + 1] == '\\')) {
      s.text.push_back(raw[++i]);
      s.wild.push_back(false);
    } else {
      s.text.push_back(c);
      s.wild.push_back(c == '*' || c == '?');
    }
  }
  return s;
}

SigmaString SigmaString::literal(std::string_view raw) {
  SigmaString s;
  s.text.assign(raw);
  s.wild.assign(raw.size(), false);
  return s;
}

bool SigmaString::hasWildcards() const {
  for (bool w : wild)
    if (w) return true;
  return false;
}

void SigmaString::append(const SigmaString& other) {
  text += other.text;
  wild.insert(wild.end(), other.wild.begin(), other.wild.end());
}

void SigmaString::prependStar() {
  if (!text.empty() && wild[0] && text[0] == '*') return;
  text.insert(text.begin(), '*');
  wild.insert(wild.begin(), true);
}

void SigmaString::appendStar() {
  if (!text.empty() && wild.back() && text.back() == '*') return;
  text.push_back('*');
  wild.push_back(true);
}

bool equalsFold(std::string_view hay, std::string_view lower_needle) {
  if (hay.size() != lower_needle.size()) return false;
  for (size_t i = 0; i < hay.size(); ++i) {
    if (foldAscii(hay[i]) != lower_needle[i]) return false;
  }
  return true;
}

bool containsFold(std::string_view hay, std::string_view lower_needle) {
  const size_t n = lower_needle.size();
  if (n == 0) return true;
  if (hay.size() < n) return false;
  const char first = lower_needle[0];
  const char first_upper = (first >= 'a' && first <= 'z') ? static_cast<char>(first - 32) : first;
  const char* p = hay.data();
  const char* const last = hay.data() + (hay.size() - n);
  while (p <= last) {
    // memchr is vectorised; look for either case of the first byte.
    const size_t span = static_cast<size_t>(last - p) + 1;
    const char* a = static_cast<const char*>(std::memchr(p, first, span));
    const char* b = first_upper == first
                        ? nullptr
                        : static_cast<const char*>(std::memchr(p, first_upper, span));
    const char* hit = (a && b) ? (a < b ? a : b) : (a ? a : b);
    if (hit == nullptr) return false;
    size_t j = 1;
    while (j < n && foldAscii(hit[j]) == lower_needle[j]) ++j;
    if (j == n) return true;
    p = hit + 1;
  }
  return false;
}

namespace {

bool equalsCased(std::string_view hay, std::string_view needle) { return hay == needle; }

bool startsWith(std::string_view hay, std::string_view needle, bool cased) {
  if (hay.size() < needle.size()) return false;
  return cased ? hay.substr(0, needle.size()) == needle
               : equalsFold(hay.substr(0, needle.size()), needle);
}

bool endsWith(std::string_view hay, std::string_view needle, bool cased) {
  if (hay.size() < needle.size()) return false;
  auto tail = hay.substr(hay.size() - needle.size());
  return cased ? tail == needle : equalsFold(tail, needle);
}

size_t utf8Len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

}  // namespace

ValueMatcher ValueMatcher::fromString(const SigmaString& s, bool cased) {
  ValueMatcher m;
  m.cased_ = cased;
  // Classify: literal, '*'-only at the ends, or a general glob.
  const size_t n = s.text.size();
  bool inner_wild = false;
  size_t begin = 0, end = n;
  bool lead_star = n > 0 && s.wild[0] && s.text[0] == '*';
  bool trail_star = n > 1 && s.wild[n - 1] && s.text[n - 1] == '*';
  if (n == 1 && lead_star) trail_star = false;
  if (lead_star) begin = 1;
  if (trail_star) end = n - 1;
  for (size_t i = begin; i < end; ++i) {
    if (s.wild[i]) inner_wild = true;
  }
  if (inner_wild) {
    m.kind_ = Kind::kGlob;
    m.needle_ = cased ? s.text : lowerAscii(s.text);
    m.wild_ = s.wild;
    return m;
  }
  std::string core = s.text.substr(begin, end - begin);
  m.needle_ = cased ? core : lowerAscii(core);
  if (n == 1 && lead_star) {
    m.kind_ = Kind::kContains;  // '*' alone: any value (an empty needle is contained everywhere)
  } else if (lead_star && trail_star) {
    m.kind_ = Kind::kContains;
  } else if (lead_star) {
    m.kind_ = Kind::kSuffix;
  } else if (trail_star) {
    m.kind_ = Kind::kPrefix;
  } else {
    m.kind_ = Kind::kExact;
  }
  return m;
}

Result<ValueMatcher> ValueMatcher::regex(std::string_view pattern, bool icase, bool multiline,
                                         bool dotall, int64_t max_mem, int max_program_size) {
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_case_sensitive(!icase);
  opts.set_dot_nl(dotall);
  opts.set_max_mem(max_mem);
  opts.set_never_capture(true);
  std::string full;
  if (multiline) full = "(?m)";
  full.append(pattern);
  auto re = std::make_shared<const RE2>(full, opts);
  if (!re->ok()) {
    return makeError(Errc::kUnsupported,
                     "regex '" + std::string(pattern) + "' cannot run on RE2: " + re->error());
  }
  if (re->ProgramSize() > max_program_size) {
    return makeError(Errc::kLimit, "regex '" + std::string(pattern.substr(0, 80)) +
                                       "' compiles to " + std::to_string(re->ProgramSize()) +
                                       " instructions, limit " + std::to_string(max_program_size));
  }
  ValueMatcher m;
  m.kind_ = Kind::kRegex;
  m.cased_ = !icase;
  m.needle_.assign(pattern);
  m.regex_ = std::move(re);
  m.multiline_ = multiline;
  m.dotall_ = dotall;
  return m;
}

ValueMatcher ValueMatcher::cidr(const Cidr& c) {
  ValueMatcher m;
  m.kind_ = Kind::kCidr;
  m.cidr_ = c;
  return m;
}

ValueMatcher ValueMatcher::numeric(Kind op, double value) {
  ValueMatcher m;
  m.kind_ = op;
  m.number_ = value;
  return m;
}

ValueMatcher ValueMatcher::bitAnd(uint64_t mask) {
  ValueMatcher m;
  m.kind_ = Kind::kBitAnd;
  m.mask_ = mask;
  return m;
}

std::optional<uint64_t> parseFlagValue(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

ValueMatcher ValueMatcher::null() {
  ValueMatcher m;
  m.kind_ = Kind::kNull;
  return m;
}

bool ValueMatcher::globMatch(std::string_view v) const {
  // Iterative wildcard match with backtracking to the last '*' (no recursion, no allocation).
  const std::string& p = needle_;
  size_t pi = 0, vi = 0, star = std::string::npos, mark = 0;
  while (vi < v.size()) {
    if (pi < p.size() && wild_[pi] && p[pi] == '*') {
      star = pi++;
      mark = vi;
    } else if (pi < p.size() && wild_[pi]) {  // '?': one character (UTF-8 aware)
      ++pi;
      vi += utf8Len(static_cast<unsigned char>(v[vi]));
    } else if (pi < p.size() && (cased_ ? v[vi] == p[pi] : foldAscii(v[vi]) == p[pi])) {
      ++pi;
      ++vi;
    } else if (star != std::string::npos) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  if (vi > v.size()) return false;
  while (pi < p.size() && wild_[pi] && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool parseIp(std::string_view text, bool& v6, std::array<uint8_t, 16>& out) {
  out.fill(0);
  auto parseV4 = [](std::string_view s, uint8_t* dst) {
    int part = 0;
    size_t i = 0;
    while (part < 4) {
      if (i >= s.size()) return false;
      unsigned v = 0;
      auto [p, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v);
      if (ec != std::errc() || v > 255 || p == s.data() + i || (p - (s.data() + i)) > 3)
        return false;
      dst[part++] = static_cast<uint8_t>(v);
      i = static_cast<size_t>(p - s.data());
      if (part < 4) {
        if (i >= s.size() || s[i] != '.') return false;
        ++i;
      }
    }
    return i == s.size();
  };
  if (text.find(':') == std::string_view::npos) {
    v6 = false;
    return parseV4(text, out.data());
  }
  v6 = true;
  // Strip a zone id ("fe80::1%eth0").
  if (auto pct = text.find('%'); pct != std::string_view::npos) text = text.substr(0, pct);
  std::array<uint16_t, 8> groups{};
  int count = 0, gap = -1;
  size_t i = 0;
  if (text.substr(0, 2) == "::") {
    gap = 0;
    i = 2;
  }
  while (i < text.size()) {
    if (count >= 8) return false;
    size_t j = i;
    while (j < text.size() && text[j] != ':') ++j;
    std::string_view part = text.substr(i, j - i);
    if (part.find('.') != std::string_view::npos) {  // IPv4 tail
      if (j != text.size() || count > 6) return false;
      uint8_t b[4];
      if (!parseV4(part, b)) return false;
      groups[count++] = static_cast<uint16_t>(b[0] << 8 | b[1]);
      groups[count++] = static_cast<uint16_t>(b[2] << 8 | b[3]);
      i = j;
      break;
    }
    if (part.empty() || part.size() > 4) return false;
    unsigned v = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v, 16);
    if (ec != std::errc() || p != part.data() + part.size()) return false;
    groups[count++] = static_cast<uint16_t>(v);
    i = j;
    if (i < text.size()) {
      ++i;  // ':'
      if (i < text.size() && text[i] == ':') {
        if (gap >= 0) return false;
        gap = count;
        ++i;
      } else if (i == text.size()) {
        return false;  // trailing single ':'
      }
    }
  }
  if (gap >= 0) {
    if (count > 7) return false;
    int tail = count - gap;
    for (int k = 0; k < tail; ++k) groups[7 - k] = groups[count - 1 - k];
    for (int k = gap; k < 8 - tail; ++k) groups[k] = 0;
  } else if (count != 8) {
    return false;
  }
  for (int k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<uint8_t>(groups[k] >> 8);
    out[2 * k + 1] = static_cast<uint8_t>(groups[k] & 0xff);
  }
  return true;
}

Result<Cidr> parseCidr(std::string_view text) {
  Cidr c;
  std::string_view addr = text;
  int prefix = -1;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    auto num = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), prefix);
    if (ec != std::errc() || p != num.data() + num.size() || num.empty()) {
      return makeError(Errc::kParse, "invalid CIDR prefix in '" + std::string(text) + "'");
    }
  }
  if (!parseIp(addr, c.v6, c.addr)) {
    return makeError(Errc::kParse, "invalid CIDR address '" + std::string(text) + "'");
  }
  const int max = c.v6 ? 128 : 32;
  if (prefix < 0) prefix = max;
  if (prefix > max) {
    return makeError(Errc::kParse, "CIDR prefix out of range in '" + std::string(text) + "'");
  }
  c.prefix = prefix;
  return c;
}

bool ValueMatcher::match(std::string_view v) const {
  switch (kind_) {
    case Kind::kExact:
      return cased_ ? equalsCased(v, needle_) : equalsFold(v, needle_);
    case Kind::kPrefix:
      return startsWith(v, needle_, cased_);
    case Kind::kSuffix:
      return endsWith(v, needle_, cased_);
    case Kind::kContains:
      return cased_ ? v.find(needle_) != std::string_view::npos : containsFold(v, needle_);
    case Kind::kGlob:
      return globMatch(v);
    case Kind::kRegex:
      return RE2::PartialMatch(re2::StringPiece(v.data(), v.size()), *regex_);
    case Kind::kCidr: {
      if (v.size() > 64) return false;
      bool v6 = false;
      std::array<uint8_t, 16> a{};
      if (!parseIp(v, v6, a)) return false;
      if (v6 != cidr_.v6) {
        // IPv4-mapped IPv6 (::ffff:a.b.c.d) against an IPv4 network.
        static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!(v6 && !cidr_.v6 && std::memcmp(a.data(), kMapped, 12) == 0)) return false;
        std::memmove(a.data(), a.data() + 12, 4);
      }
      int bits = cidr_.prefix;
      for (int i = 0; bits > 0; ++i, bits -= 8) {
        const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
        if ((a[i] & mask) != (cidr_.addr[i] & mask)) return false;
      }
      return true;
    }
    case Kind::kLt:
    case Kind::kLte:
    case Kind::kGt:
    case Kind::kGte: {
      double d = 0;
      const char* b = v.data();
      const char* e = v.data() + v.size();
      while (b < e && *b == ' ') ++b;
      std::from_chars_result r{};
      if (e - b > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X')) {
        uint64_t u = 0;
        r = std::from_chars(b + 2, e, u, 16);
        d = static_cast<double>(u);
      } else {
        r = std::from_chars(b, e, d);
      }
      if (r.ec != std::errc() || r.ptr != e) return false;
      switch (kind_) {
        case Kind::kLt:
          return d < number_;
        case Kind::kLte:
          return d <= number_;
        case Kind::kGt:
          return d > number_;
        default:
          return d >= number_;
      }
    }
    case Kind::kBitAnd: {
      const auto flags = parseFlagValue(v);
      return flags && (*flags & mask_) == mask_;
    }
    case Kind::kNull:
      return v.empty();
  }
  return false;
}

}  // namespace t0w
