#include "agent/core/source_status.h"

#include <array>
#include <utility>

namespace t0w {
namespace {

constexpr std::array<std::pair<SourceState, std::string_view>, 8> kNames{{
    {SourceState::kStarting, "starting"},
    {SourceState::kSubscribed, "subscribed"},
    {SourceState::kBackfilling, "backfilling"},
    {SourceState::kAbsent, "absent"},
    {SourceState::kAccessDenied, "access_denied"},
    {SourceState::kFailing, "failing"},
    {SourceState::kPaused, "paused"},
    {SourceState::kStopped, "stopped"},
}};

}  // namespace

std::string_view toString(SourceState state) {
  for (const auto& [s, n] : kNames) {
    if (s == state) return n;
  }
  return "unknown";
}

std::optional<SourceState> parseSourceState(std::string_view text) {
  for (const auto& [s, n] : kNames) {
    if (n == text) return s;
  }
  return std::nullopt;
}

SourceStatusBoard::SourceStatusBoard(const Clock& clock, std::chrono::seconds rate_window)
    : clock_(clock),
      rate_window_(rate_window.count() > 0 ? rate_window : std::chrono::seconds(1)) {}

SourceStatusBoard::Entry& SourceStatusBoard::entry(const std::string& name) {
  auto [it, inserted] = entries_.try_emplace(name);
  if (inserted) {
    it->second.status.name = name;
    it->second.status.state_since = clock_.now();
    it->second.window_start = clock_.monotonic();
  }
  return it->second;
}

void SourceStatusBoard::add(const std::string& name, const std::string& kind) {
  std::lock_guard lock(mu_);
  Entry& e = entry(name);
  if (!kind.empty()) e.status.kind = kind;
}

void SourceStatusBoard::setState(const std::string& name, SourceState state, std::string detail) {
  std::lock_guard lock(mu_);
  Entry& e = entry(name);
  if (e.status.state == state && e.status.detail == detail) return;
  if (e.status.state != state) e.status.state_since = clock_.now();
  e.status.state = state;
  e.status.detail = std::move(detail);
}

void SourceStatusBoard::roll(Entry& e, std::chrono::steady_clock::time_point now) const {
  const auto elapsed = now - e.window_start;
  if (elapsed < rate_window_) return;
  // A window with no progress call still ends: an idle source's rate decays to 0.
  e.last_rate =
      static_cast<double>(e.window_events) / std::chrono::duration<double>(elapsed).count();
  e.window_events = 0;
  e.window_start = now;
  e.has_full_window = true;
}

void SourceStatusBoard::progress(const std::string& name, uint64_t events, std::string position,
                                 std::optional<std::chrono::system_clock::time_point> event_time) {
  std::lock_guard lock(mu_);
  Entry& e = entry(name);
  roll(e, clock_.monotonic());
  e.window_events += events;
  e.status.events += events;
  if (!position.empty()) e.status.last_position = std::move(position);
  if (event_time && (!e.status.last_event_time || *event_time > *e.status.last_event_time)) {
    e.status.last_event_time = event_time;
  }
}

void SourceStatusBoard::setTimeToWrap(const std::string& name, std::optional<double> seconds) {
  std::lock_guard lock(mu_);
  entry(name).status.time_to_wrap_seconds = seconds;
}

void SourceStatusBoard::addGap(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& gaps = entry(name).status.gaps;
  gaps = gaps.value_or(0) + 1;
}

std::vector<SourceStatus> SourceStatusBoard::snapshot() const {
  std::lock_guard lock(mu_);
  const auto mono = clock_.monotonic();
  const auto now = clock_.now();
  std::vector<SourceStatus> out;
  out.reserve(entries_.size());
  for (auto& [name, e] : entries_) {
    roll(e, mono);
    SourceStatus s = e.status;
    // The rate of the last complete window; before the first one ends, the running average.
    const double open = std::chrono::duration<double>(mono - e.window_start).count();
    s.rate_per_second =
        e.has_full_window || open <= 0 ? e.last_rate : static_cast<double>(e.window_events) / open;
    if (s.last_event_time) {
      const double lag = std::chrono::duration<double>(now - *s.last_event_time).count();
      s.lag_seconds = lag > 0 ? lag : 0.0;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace t0w
