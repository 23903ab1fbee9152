// LoadGovernor: self-protection on the DC. The agent measures its own CPU and memory
// (ProcessUsage) against configured ceilings (agent.max_cpu_percent of one core, sustained over
// a window; agent.max_memory_mb) and, while over, asks deferrable work to slow down: backfill
// (history read beside live) first, then rule evaluation. It never drops anything: reading
// slower only lets the event log hold the events longer (the queue's own cap, with its drop
// records, is unchanged), and the state is reported in the heartbeat, where the collector opens a
// `resource_limit` health issue.
//
// Sources and stages see only LoadThrottle: before a unit of deferrable work they ask
// delayFor(kind) and wait that long (interruptibly). A null LoadThrottle* means "never throttle".
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>

#include "agent/metrics/process_usage.h"

namespace t0w {

class LoadThrottle {
 public:
  enum class Work {
    kBackfill,  // reading history: slowed first and most
    kRules,     // rule evaluation of a batch: slowed second
  };
  virtual ~LoadThrottle() = default;
  // How long to hold back before the next unit of `work`; zero when not throttled.
  virtual std::chrono::milliseconds delayFor(Work work) const = 0;
  virtual bool throttled() const = 0;
};

struct LoadCeilings {
  double cpu_percent = 5.0;                        // of one core, averaged over `sustain`
  uint64_t memory_bytes = 200ull << 20;            // resident / working set
  std::chrono::seconds sustain{60};                // CPU must stay over this long
  std::chrono::milliseconds backfill_delay{1000};  // per backfill batch while throttled
  std::chrono::milliseconds rules_delay{100};      // per rule-evaluation batch while throttled
};

struct LoadState {
  double cpu_percent = 0;  // over the last window (0 until one full window)
  uint64_t memory_bytes = 0;
  uint64_t peak_memory_bytes = 0;
  bool over_cpu = false;
  bool over_memory = false;
  bool throttled = false;
  uint64_t throttle_episodes = 0;  // times throttling started since the agent started
};

class LoadGovernor final : public LoadThrottle {
 public:
  explicit LoadGovernor(LoadCeilings ceilings);

  // One measurement taken at `now` (monotonic). Call regularly (the agent: every second).
  void observe(const ProcessSample& sample, std::chrono::steady_clock::time_point now);
  LoadState state() const;
  const LoadCeilings& ceilings() const { return ceilings_; }

  std::chrono::milliseconds delayFor(Work work) const override;
  bool throttled() const override;

 private:
  struct Point {
    std::chrono::steady_clock::time_point at;
    std::chrono::microseconds cpu;
  };
  const LoadCeilings ceilings_;
  mutable std::mutex mu_;
  std::deque<Point> window_;
  LoadState state_;
};

}  // namespace t0w
