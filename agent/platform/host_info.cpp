#include "agent/platform/host_info.h"

#include <system_error>

namespace t0w {

const char* hostPlatformName(HostPlatform platform) {
  return platform == HostPlatform::kWindows ? "Windows" : "Linux";
}

std::string executableStamp(const std::string& version) {
  const auto exe = executablePath();
  if (exe.empty()) return {};
  std::error_code ec;
  const auto size = std::filesystem::file_size(exe, ec);
  if (ec) return {};
  const auto time = std::filesystem::last_write_time(exe, ec);
  if (ec) return {};
  return version + " " + std::to_string(size) + " " +
         std::to_string(time.time_since_epoch().count());
}

}  // namespace t0w
