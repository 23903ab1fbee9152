#include "agent/metrics/process_usage.h"

#ifdef _WIN32
#include <windows.h>
// windows.h first: psapi.h needs its types.
#include <psapi.h>
#else
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#endif

namespace t0w {
namespace {

#ifdef _WIN32

uint64_t fileTimeMicros(const FILETIME& ft) {
  const uint64_t ticks = (uint64_t{ft.dwHighDateTime} << 32) | ft.dwLowDateTime;
  return ticks / 10;  // 100 ns ticks
}

class WindowsProcessUsage final : public ProcessUsage {
 public:
  std::optional<ProcessSample> sample() override {
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user)) {
      return std::nullopt;
    }
    PROCESS_MEMORY_COUNTERS pmc{};
    pmc.cb = sizeof(pmc);
    if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof(pmc))) return std::nullopt;
    ProcessSample s;
    s.cpu_time = std::chrono::microseconds(fileTimeMicros(kernel) + fileTimeMicros(user));
    s.memory_bytes = pmc.WorkingSetSize;
    s.peak_memory_bytes = pmc.PeakWorkingSetSize;
    return s;
  }
};

#else

// Linux: utime and stime are fields 14 and 15 of /proc/self/stat (clock ticks); the command
// name (field 2) may hold spaces, so counting starts after its closing parenthesis.
std::optional<std::chrono::microseconds> procCpuTime() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After ')': field 3 (state) is the first; utime is field 14.
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) return std::nullopt;
  return std::chrono::microseconds((utime + stime) * 1'000'000ull / static_cast<uint64_t>(hz));
}

// "VmRSS:   1234 kB" lines of /proc/self/status.
uint64_t statusKb(const std::string& text, const char* name) {
  const auto at = text.find(name);
  if (at == std::string::npos) return 0;
  std::istringstream in(text.substr(at + std::char_traits<char>::length(name)));
  uint64_t kb = 0;
  in >> kb;
  return kb * 1024;
}

class ProcProcessUsage final : public ProcessUsage {
 public:
  std::optional<ProcessSample> sample() override {
    auto cpu = procCpuTime();
    if (!cpu) return std::nullopt;
    std::ifstream in("/proc/self/status");
    std::stringstream text;
    text << in.rdbuf();
    ProcessSample s;
    s.cpu_time = *cpu;
    s.memory_bytes = statusKb(text.str(), "VmRSS:");
    s.peak_memory_bytes = statusKb(text.str(), "VmHWM:");
    return s;
  }
};

#endif

}  // namespace

std::unique_ptr<ProcessUsage> makeProcessUsage() {
#ifdef _WIN32
  return std::make_unique<WindowsProcessUsage>();
#else
  return std::make_unique<ProcProcessUsage>();
#endif
}

}  // namespace t0w
