#include "agent/metrics/load_governor.h"

#include <algorithm>

namespace t0w {

LoadGovernor::LoadGovernor(LoadCeilings ceilings) : ceilings_(ceilings) {}

void LoadGovernor::observe(const ProcessSample& sample, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  window_.push_back({now, sample.cpu_time});
  // Keep one point at or before the window start, so the average spans the whole window.
  while (window_.size() > 2 && now - window_[1].at >= ceilings_.sustain) window_.pop_front();
  state_.memory_bytes = sample.memory_bytes;
  state_.peak_memory_bytes = std::max(state_.peak_memory_bytes, sample.peak_memory_bytes);
  const auto span = now - window_.front().at;
  const bool full_window = span >= ceilings_.sustain;
  if (span > std::chrono::steady_clock::duration::zero()) {
    const double cpu_us = static_cast<double>((sample.cpu_time - window_.front().cpu).count());
    const double wall_us =
        static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(span).count());
    state_.cpu_percent = 100.0 * cpu_us / wall_us;
  }
  // Hysteresis: over at the ceiling, back under at 80% of it, so that the throttle does not
  // flap around the line.
  if (full_window) {
    if (state_.cpu_percent > ceilings_.cpu_percent) state_.over_cpu = true;
    if (state_.cpu_percent < 0.8 * ceilings_.cpu_percent) state_.over_cpu = false;
  }
  const auto mem = static_cast<double>(sample.memory_bytes);
  const auto cap = static_cast<double>(ceilings_.memory_bytes);
  if (mem > cap) state_.over_memory = true;
  if (mem < 0.8 * cap) state_.over_memory = false;
  const bool was = state_.throttled;
  state_.throttled = state_.over_cpu || state_.over_memory;
  if (state_.throttled && !was) ++state_.throttle_episodes;
}

LoadState LoadGovernor::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

bool LoadGovernor::throttled() const {
  std::lock_guard lock(mu_);
  return state_.throttled;
}

std::chrono::milliseconds LoadGovernor::delayFor(Work work) const {
  if (!throttled()) return std::chrono::milliseconds(0);
  return work == Work::kBackfill ? ceilings_.backfill_delay : ceilings_.rules_delay;
}

}  // namespace t0w
