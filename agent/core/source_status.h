// SourceStatusBoard: what each source is doing right now (subscribed, absent, failing, ...), with
// its last position, rate, lag and time-to-wrap. Sources write it from their own threads; the
// status record, the heartbeat and `tier0watch status` read one snapshot of it, so all three show
// the same figures.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/clock.h"

namespace t0w {

enum class SourceState {
  kStarting,      // configured, not yet opened
  kSubscribed,    // reading live
  kBackfilling,   // reading history (bounded rate) before or beside live
  kAbsent,        // channel or folder does not exist on this host (configured, absent)
  kAccessDenied,  // exists, the agent may not read it
  kFailing,       // opened before or should open, errors now (retrying)
  kPaused,        // reading held back (queue full, self-protection)
  kStopped,       // finished (files) or agent stopping
};

std::string_view toString(SourceState state);
std::optional<SourceState> parseSourceState(std::string_view text);

struct SourceStatus {
  std::string name;  // the source's name in the configuration (channel, glob, file)
  std::string kind;  // "eventlog", "tracefile", "evtx", "xml"
  SourceState state = SourceState::kStarting;
  std::string detail;  // why: the error text for absent/denied/failing, empty otherwise
  std::chrono::system_clock::time_point state_since{};
  std::string last_position;                                             // record id, file@offset
  std::optional<std::chrono::system_clock::time_point> last_event_time;  // newest event read
  uint64_t events = 0;                         // events read since the agent started
  double rate_per_second = 0;                  // events/s over the last rate window
  std::optional<double> lag_seconds;           // now - last_event_time while behind
  std::optional<double> time_to_wrap_seconds;  // forecast: when the log overwrites unread data
  std::optional<uint64_t> gaps;                // gap records emitted since start
};

class SourceStatusBoard {
 public:
  explicit SourceStatusBoard(const Clock& clock,
                             std::chrono::seconds rate_window = std::chrono::seconds(60));

  // Registers a source (idempotent); state kStarting until a setState.
  void add(const std::string& name, const std::string& kind);
  // Records a state change; a repeat of the same state and detail keeps state_since.
  void setState(const std::string& name, SourceState state, std::string detail = {});
  // Records progress: `events` more events read, up to `position`, newest event time `event_time`.
  void progress(const std::string& name, uint64_t events, std::string position,
                std::optional<std::chrono::system_clock::time_point> event_time);
  void setTimeToWrap(const std::string& name, std::optional<double> seconds);
  void addGap(const std::string& name);

  // A consistent copy, sorted by name; rate and lag computed at the time of the call.
  std::vector<SourceStatus> snapshot() const;

 private:
  struct Entry {
    SourceStatus status;
    // Rate: events counted in the current window and the rate of the last complete one.
    std::chrono::steady_clock::time_point window_start{};
    uint64_t window_events = 0;
    double last_rate = 0;
    bool has_full_window = false;
  };
  Entry& entry(const std::string& name);  // mu_ held; adds with kind "" when unknown
  void roll(Entry& e, std::chrono::steady_clock::time_point now) const;

  const Clock& clock_;
  const std::chrono::seconds rate_window_;
  mutable std::mutex mu_;
  mutable std::map<std::string, Entry> entries_;
};

}  // namespace t0w
