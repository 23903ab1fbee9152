// Event time per source for the correlation engine. Each source (Event::origin.source: a
// channel, a replay file, a trace file) has its own watermark, the newest event time it has
// shown; an event older than its OWN source's watermark counts at that watermark (time never runs
// backwards within a source). Why per source: one RuleSet serves every source, and a backlog on
// one channel (history read at first start, a replay) must not be clamped to another channel's
// live time, which would squeeze hours of old events into the current window.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace t0w {

namespace correlation_detail {
// Lets string-keyed maps be searched with a string_view (no std::string built per lookup).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
}  // namespace correlation_detail

class CorrelationClocks {
 public:
  using Id = uint32_t;
  // Sources beyond this share one clock (e.g. years of rotated trace-file names): bounded memory.
  static constexpr size_t kMaxClocks = 4096;

  // Called for every event: found without building a string.
  Id idOf(std::string_view source) {
    auto it = ids_.find(source);
    if (it != ids_.end()) return it->second;
    if (marks_.size() >= kMaxClocks) return kMaxClocks - 1;
    const Id id = static_cast<Id>(marks_.size());
    ids_.emplace(std::string(source), id);
    marks_.emplace_back();
    next_expiry_.push_back(std::numeric_limits<int64_t>::max());
    return id;
  }
  std::optional<int64_t> mark(Id id) const {
    return id < marks_.size() ? marks_[id] : std::nullopt;
  }
  // Moves the clock forward (never back); false when `t` is not later than its mark.
  bool advance(Id id, int64_t t) {
    if (marks_[id] && t <= *marks_[id]) return false;
    marks_[id] = t;
    return true;
  }
  // The newest time of all sources.
  std::optional<int64_t> newest() const {
    std::optional<int64_t> n;
    for (const auto& m : marks_) {
      if (m && (!n || *m > *n)) n = m;
    }
    return n;
  }
  // A lower bound of the earliest window end on this clock (removals do not raise it).
  int64_t& nextExpiry(Id id) { return next_expiry_[id]; }
  size_t size() const { return marks_.size(); }
  void reset() {
    ids_.clear();
    marks_.clear();
    next_expiry_.clear();
  }

 private:
  std::unordered_map<std::string, Id, correlation_detail::StringHash, std::equal_to<>> ids_;
  std::vector<std::optional<int64_t>> marks_;
  std::vector<int64_t> next_expiry_;
};

}  // namespace t0w
