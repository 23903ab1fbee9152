// ProcessUsage: the agent's own CPU time and memory, read from the operating system (Linux
// /proc/self, Windows GetProcessTimes / GetProcessMemoryInfo). An interface so that the load
// governor and the heartbeat are tested with scripted samples.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace t0w {

struct ProcessSample {
  std::chrono::microseconds cpu_time{0};  // user + kernel time since the process started
  uint64_t memory_bytes = 0;              // resident (Linux VmRSS) / working set (Windows)
  uint64_t peak_memory_bytes = 0;         // Linux VmHWM / Windows PeakWorkingSetSize
};

class ProcessUsage {
 public:
  virtual ~ProcessUsage() = default;
  // nullopt when the platform refuses (the heartbeat then reports null).
  virtual std::optional<ProcessSample> sample() = 0;
};

// This process, read from the platform.
std::unique_ptr<ProcessUsage> makeProcessUsage();

}  // namespace t0w
