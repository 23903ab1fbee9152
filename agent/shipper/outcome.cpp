#include "agent/shipper/outcome.h"

#include <array>
#include <charconv>

#include "common/wire/wire_protocol.h"

namespace t0w {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

bool isRetryableStatus(int status) {
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<int> toInt(std::string_view s) {
  if (!allDigits(s) || s.size() > 9) return std::nullopt;
  int value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  return value;
}

std::optional<unsigned> monthFromName(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (name == kMonths[i]) return static_cast<unsigned>(i + 1);
  }
  return std::nullopt;
}

// "HH:MM:SS" -> seconds of day.
std::optional<int> parseTimeOfDay(std::string_view s) {
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return std::nullopt;
  auto h = toInt(s.substr(0, 2));
  auto m = toInt(s.substr(3, 2));
  auto sec = toInt(s.substr(6, 2));
  if (!h || !m || !sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return *h * 3600 + *m * 60 + std::min(*sec, 59);  // a leap second rounds down
}

std::optional<system_clock::time_point> makeTime(int year, unsigned month, int day, int seconds) {
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                           std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return std::nullopt;
  return system_clock::time_point(sys_days(ymd)) + std::chrono::seconds(seconds);
}

std::vector<std::string_view> splitSpaces(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) parts.push_back(s.substr(start, i - start));
  }
  return parts;
}

}  // namespace

const char* outcomeKindName(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::kAck:
      return "ack";
    case OutcomeKind::kRetry:
      return "retry";
    case OutcomeKind::kSplit:
      return "split";
    case OutcomeKind::kPauseAuth:
      return "pause-auth";
    case OutcomeKind::kPauseConfig:
      return "pause-config";
    case OutcomeKind::kDeadLetter:
      return "dead-letter";
  }
  return "unknown";
}

std::optional<system_clock::time_point> parseHttpDate(std::string_view value,
                                                      system_clock::time_point now) {
  const std::string_view s = trim(value);
  const auto parts = splitSpaces(s);
  const size_t comma = s.find(',');
  if (comma != std::string_view::npos && parts.size() == 6 && parts[5] == "GMT") {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    auto day = toInt(parts[1]);
    auto month = monthFromName(parts[2]);
    auto year = toInt(parts[3]);
    auto tod = parseTimeOfDay(parts[4]);
    if (parts[1].size() != 2 || parts[3].size() != 4 || !day || !month || !year || !tod) {
      return std::nullopt;
    }
    return makeTime(*year, *month, *day, *tod);
  }
  if (comma != std::string_view::npos && parts.size() == 4 && parts[3] == "GMT") {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    const std::string_view date = parts[1];
    if (date.size() != 9 || date[2] != '-' || date[6] != '-') return std::nullopt;
    auto day = toInt(date.substr(0, 2));
    auto month = monthFromName(date.substr(3, 3));
    auto yy = toInt(date.substr(7, 2));
    auto tod = parseTimeOfDay(parts[2]);
    if (!day || !month || !yy || !tod) return std::nullopt;
    // RFC 9110 5.6.7: a two-digit year more than 50 years in the future is in the past century.
    const auto today = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(now));
    const int current = static_cast<int>(today.year());
    int year = current / 100 * 100 + *yy;
    if (year > current + 50) year -= 100;
    return makeTime(year, *month, *day, *tod);
  }
  if (comma == std::string_view::npos && parts.size() == 5) {
    // asctime: "Sun Nov  6 08:49:37 1994"
    auto month = monthFromName(parts[1]);
    auto day = toInt(parts[2]);
    auto tod = parseTimeOfDay(parts[3]);
    auto year = toInt(parts[4]);
    if (parts[2].size() > 2 || parts[4].size() != 4 || !month || !day || !tod || !year) {
      return std::nullopt;
    }
    return makeTime(*year, *month, *day, *tod);
  }
  return std::nullopt;
}

std::optional<milliseconds> parseRetryAfter(std::string_view value, system_clock::time_point now) {
  const std::string_view s = trim(value);
  if (allDigits(s)) {
    // Saturate absurd values; Backoff clamps further to its max_retry_after.
    constexpr int64_t kMaxSeconds = int64_t{1} << 31;
    int64_t seconds = 0;
    for (char c : s) {
      seconds = seconds * 10 + (c - '0');
      if (seconds > kMaxSeconds) {
        seconds = kMaxSeconds;
        break;
      }
    }
    return std::chrono::duration_cast<milliseconds>(std::chrono::seconds(seconds));
  }
  auto when = parseHttpDate(s, now);
  if (!when) return std::nullopt;
  if (*when <= now) return milliseconds(0);
  return std::chrono::duration_cast<milliseconds>(*when - now);
}

namespace {

// The collector's refusal code ({"error": "revoked", ...}) for logs: a fixed word of lower-case
// letters and '_', never free text (a body could carry anything).
std::string errorCode(const std::string& body) {
  constexpr std::string_view kKey = "\"error\":\"";
  const size_t at = body.find(kKey);
  if (at == std::string::npos) return {};
  std::string code;
  for (size_t i = at + kKey.size(); i < body.size() && body[i] != '"'; ++i) {
    const char c = body[i];
    if (!((c >= 'a' && c <= 'z') || c == '_') || code.size() >= 40) return {};
    code += c;
  }
  return code;
}

}  // namespace

bool isCollectorAnswer(const HttpResponse& response, std::string_view batch_id) {
  if (response.header(kCollectorHeader)) return true;
  if (batch_id.empty() || response.status < 200 || response.status > 299) return false;
  // A collector from before the header acknowledges with {"batch_id": "<id>", ...}.
  const std::string needle = "\"batch_id\":\"" + std::string(batch_id) + "\"";
  return response.body.find(needle) != std::string::npos;
}

Outcome classifyOutcome(const TransportResult& result, system_clock::time_point now,
                        std::string_view batch_id) {
  Outcome out;
  if (!result.isResponse()) {
    out.kind = OutcomeKind::kRetry;
    out.spends_retry_budget = false;
    out.detail = result.error().toString();
    return out;
  }
  const HttpResponse& response = result.response();
  const int status = response.status;
  out.status = status;
  out.detail = "HTTP " + std::to_string(status);
  const bool collector = isCollectorAnswer(response, batch_id);
  if (status >= 400 && collector) {
    if (const std::string code = errorCode(response.body); !code.empty()) out.detail += " " + code;
  }
  if (isRetryableStatus(status) || (!collector && status >= 200 && status <= 299)) {
    out.kind = OutcomeKind::kRetry;
    // A proxy's 502 while the collector is down is not the batch's fault either.
    out.spends_retry_budget = collector;
    if (auto header = response.header("Retry-After")) {
      out.retry_after = parseRetryAfter(*header, now);
    }
  } else if (status >= 200 && status <= 299) {
    out.kind = OutcomeKind::kAck;
  } else if (status == 413) {
    out.kind = OutcomeKind::kSplit;
  } else if (status == 401 || status == 403) {
    out.kind = OutcomeKind::kPauseAuth;
  } else if (status >= 400 && status <= 499 && !collector) {
    // 404/405/400 from a proxy or another server: the batch never reached the collector.
    out.kind = OutcomeKind::kRetry;
  } else if (status >= 400 && status <= 499 &&
             response.header(kRefusalHeader).value_or("") == kRefusalBatch) {
    out.kind = OutcomeKind::kDeadLetter;
  } else {
    out.kind = OutcomeKind::kPauseConfig;
  }
  if (!collector) {
    out.not_collector = true;
    out.detail += " (not from the collector: no " + std::string(kCollectorHeader) + " header)";
  }
  return out;
}

}  // namespace t0w
