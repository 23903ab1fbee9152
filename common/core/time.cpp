#include "common/core/time.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace t0w {
namespace {

// Howard Hinnant's civil-date algorithms (public domain), proleptic Gregorian calendar.
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp + (mp < 10 ? 3 : -9);
  y += m <= 2;
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

size_t writeFiletime(char* buf, int64_t ticks) {
  int64_t secs = ticks / kTicksPerSecond;
  int64_t frac = ticks % kTicksPerSecond;
  if (frac < 0) {
    frac += kTicksPerSecond;
    --secs;
  }
  int64_t unix_secs = secs - kEpochDeltaSeconds;
  int64_t days = unix_secs / 86400;
  int64_t rem = unix_secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civilFromDays(days, y, m, d);
  if (y >= 0 && y <= 9999) {
    // Every event is stamped twice (its JSON and its wire record): digits written directly,
    // since snprintf cost more than the rest of the encoding of the time.
    // Two digits per step from a table: half the divisions.
    static constexpr char kPairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    auto put = [&buf](size_t at, int64_t v, size_t n) {
      size_t i = n;
      for (; i >= 2; i -= 2, v /= 100) std::memcpy(buf + at + i - 2, kPairs + 2 * (v % 100), 2);
      if (i == 1) buf[at] = static_cast<char>('0' + v % 10);
    };
    put(0, y, 4);
    buf[4] = '-';
    put(5, m, 2);
    buf[7] = '-';
    put(8, d, 2);
    buf[10] = 'T';
    put(11, rem / 3600, 2);
    buf[13] = ':';
    put(14, rem / 60 % 60, 2);
    buf[16] = ':';
    put(17, rem % 60, 2);
    buf[19] = '.';
    put(20, frac, 7);
    buf[27] = 'Z';
    return 28;
  }
  const int n = std::snprintf(buf, kMaxFiletimeText + 1, "%04lld-%02u-%02uT%02d:%02d:%02d.%07lldZ",
                              static_cast<long long>(y), m, d, static_cast<int>(rem / 3600),
                              static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60),
                              static_cast<long long>(frac));
  return static_cast<size_t>(std::clamp(n, 0, static_cast<int>(kMaxFiletimeText)));
}

void appendFiletime(std::string& out, int64_t ticks) {
  char buf[kMaxFiletimeText + 1];
  out.append(buf, writeFiletime(buf, ticks));
}

std::string formatFiletime(int64_t ticks) {
  std::string out;
  appendFiletime(out, ticks);
  return out;
}

std::optional<int64_t> parseFiletime(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != ' ') || !digits(s, 11, 2, h) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 7) frac = frac * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (size_t i = n; i < 7; ++i) frac *= 10;
  }
  int64_t offset_secs = 0;
  if (pos == s.size()) {
    // No zone: EvtRender always writes one, but tolerate local-less text as UTC.
  } else if (s[pos] == 'Z' && pos + 1 == s.size()) {
  } else if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size() && s[pos + 3] == ':') {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || !digits(s, pos + 4, 2, om)) return std::nullopt;
    offset_secs = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  int64_t days = daysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t unix_secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_secs;
  int64_t secs1601 = unix_secs + kEpochDeltaSeconds;
  if (secs1601 < 0) return std::nullopt;
  return secs1601 * kTicksPerSecond + frac;
}

int64_t unixMicrosToFiletime(int64_t micros) {
  return (micros + kEpochDeltaSeconds * 1'000'000) * 10;
}

int64_t filetimeToUnixMicros(int64_t ticks) { return ticks / 10 - kEpochDeltaSeconds * 1'000'000; }

std::string formatHex64(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace t0w
