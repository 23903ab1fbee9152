#include "collectors/tracefile/trace_entry.h"

#include <array>
#include <chrono>

#include "common/core/time.h"

namespace t0w {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

int num(std::string_view s, size_t at, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; ++i) v = v * 10 + (s[at + i] - '0');
  return v;
}

bool digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  for (size_t i = 0; i < n; ++i) {
    if (!digit(s[at + i])) return false;
  }
  return true;
}

int64_t daysFromCivil(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days(year{y} / month{m} / day{d}).time_since_epoch().count();
}

constexpr int64_t kDayMs = 86'400'000;

}  // namespace

bool startsWithTraceTimestamp(std::string_view s) {
  return s.size() >= 14 && s[0] == '[' && digits(s, 1, 2) && s[3] == ':' && digits(s, 4, 2) &&
         s[6] == ':' && digits(s, 7, 2) && s[9] == '.' && digits(s, 10, 3) && s[13] == ']';
}

std::optional<TraceLineFields> parseTraceLine(std::string_view s) {
  if (!startsWithTraceTimestamp(s)) return std::nullopt;
  TraceLineFields f;
  f.time = s.substr(1, 12);
  const int h = num(s, 1, 2), m = num(s, 4, 2), sec = num(s, 7, 2), ms = num(s, 10, 3);
  if (h > 23 || m > 59 || sec > 60) return std::nullopt;
  f.time_of_day_ms = ((h * 60 + m) * 60 + sec) * 1000LL + ms;
  // " [  1]": the thread number, padded with spaces.
  size_t i = 14;
  if (i + 2 > s.size() || s[i] != ' ' || s[i + 1] != '[') return std::nullopt;
  i += 2;
  while (i < s.size() && s[i] == ' ') ++i;
  const size_t t0 = i;
  while (i < s.size() && digit(s[i])) ++i;
  if (i == t0 || i >= s.size() || s[i] != ']') return std::nullopt;
  f.thread = s.substr(t0, i - t0);
  ++i;
  // " [INFO ]": the level, padded to 5.
  if (i + 2 > s.size() || s[i] != ' ' || s[i + 1] != '[') return std::nullopt;
  i += 2;
  const size_t close = s.find(']', i);
  if (close == std::string_view::npos || close - i > 8) return std::nullopt;
  std::string_view level = s.substr(i, close - i);
  while (!level.empty() && level.back() == ' ') level.remove_suffix(1);
  if (level.empty()) return std::nullopt;
  for (char c : level) {
    if (c < 'A' || c > 'Z') return std::nullopt;
  }
  f.level = level;
  i = close + 1;
  // " message" (an empty message writes nothing after the level).
  if (i < s.size() && s[i] == ' ') ++i;
  f.message = s.substr(i);
  return f;
}

uint8_t traceLevelNumber(std::string_view level) {
  if (level == "ERROR") return 2;
  if (level == "WARN") return 3;
  if (level == "INFO") return 4;
  if (level == "VERB") return 5;
  return 0;
}

std::optional<int64_t> parseHeaderTime(std::string_view t) {
  // "Thu, 16 Nov 2023 12:09:02 GMT"
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const size_t comma = t.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  t.remove_prefix(comma + 2);
  if (t.size() < 20 || !digits(t, 0, 2) || t[2] != ' ' || t[6] != ' ' || !digits(t, 7, 4) ||
      t[11] != ' ' || !digits(t, 12, 2) || t[14] != ':' || !digits(t, 15, 2) || t[17] != ':' ||
      !digits(t, 18, 2)) {
    return std::nullopt;
  }
  unsigned month = 0;
  for (size_t k = 0; k < kMonths.size(); ++k) {
    if (t.substr(3, 3) == kMonths[k]) month = static_cast<unsigned>(k + 1);
  }
  const int day = num(t, 0, 2);
  if (month == 0 || day < 1 || day > 31) return std::nullopt;
  const int64_t days = daysFromCivil(num(t, 7, 4), month, static_cast<unsigned>(day));
  return days * 86400 + num(t, 12, 2) * 3600 + num(t, 15, 2) * 60 + num(t, 18, 2);
}

void TraceClock::startFromFileName(std::string_view name) {
  // trace-YYYYMMDD-HHMMSS.log
  if (name.size() < 21 || !name.starts_with("trace-") || !digits(name, 6, 8) || name[14] != '-') {
    return;
  }
  const int m = num(name, 10, 2), d = num(name, 12, 2);
  if (m < 1 || m > 12 || d < 1 || d > 31) return;
  local_day = daysFromCivil(num(name, 6, 4), static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::optional<int64_t> TraceClock::advance(const TraceLineFields& f) {
  static constexpr std::string_view kLocal = "Start Time (Local): ";
  static constexpr std::string_view kUtc = "Start Time (UTC): ";
  if (f.message.starts_with(kLocal)) {
    if (auto t = parseHeaderTime(f.message.substr(kLocal.size()))) {
      local_start_s = *t;
      local_day = *t / 86400;
      day_shift = 0;
      last_time_of_day_ms = -1;
    }
  } else if (f.message.starts_with(kUtc) && local_start_s) {
    if (auto t = parseHeaderTime(f.message.substr(kUtc.size()))) {
      // Offsets are whole quarter hours; the two header lines may straddle a second.
      const int64_t minutes = (*local_start_s - *t) / 60;
      utc_offset_minutes =
          static_cast<int32_t>((minutes >= 0 ? minutes + 7 : minutes - 7) / 15 * 15);
    }
  }
  if (last_time_of_day_ms >= 0 && f.time_of_day_ms + kDayMs / 2 < last_time_of_day_ms) {
    ++day_shift;  // midnight passed
  }
  last_time_of_day_ms = f.time_of_day_ms;
  if (!local_day || !utc_offset_minutes) return std::nullopt;
  const int64_t local_ms = (*local_day + day_shift) * kDayMs + f.time_of_day_ms;
  const int64_t utc_ms = local_ms - int64_t{*utc_offset_minutes} * 60'000;
  return unixMicrosToFiletime(utc_ms * 1000);
}

}  // namespace t0w
