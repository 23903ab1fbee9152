#include "agent/platform/host_info.h"

namespace t0w {

const char* hostPlatformName(HostPlatform platform) {
  return platform == HostPlatform::kWindows ? "Windows" : "Linux";
}

}  // namespace t0w
