// What the agent needs to know about the machine it runs on, per platform: host_info_posix.cpp
// (Linux) and host_info_windows.cpp (Windows). Kept out of agent.cpp/pipeline.cpp so that those
// have no OS headers.
#pragma once

#include <filesystem>
#include <string>

namespace t0w {

// Platform-specific settings are validated against the platform the agent runs on; the checks
// take it as a parameter so that both rule sets are unit-tested on every build.
enum class HostPlatform { kLinux, kWindows };
#ifdef _WIN32
inline constexpr HostPlatform kThisPlatform = HostPlatform::kWindows;
#else
inline constexpr HostPlatform kThisPlatform = HostPlatform::kLinux;
#endif
const char* hostPlatformName(HostPlatform platform);  // "Linux" | "Windows"

// The name the collector shows for this agent's machine. Windows: the DNS fully qualified
// name (GetComputerNameExW(ComputerNameDnsFullyQualified), "dc01.corp.example"), which is what
// the events' <Computer> carries; Linux: gethostname(). "unknown" when the system has none.
std::string hostName();

// Windows under Wine (ntdll exports wine_get_version). Wine 8's wevtapi.dll has unimplemented
// stubs (EvtCreateBookmark, ...) that abort the process when called, so the agent does not
// start event log subscriptions there. Always false on Linux.
bool runningUnderWine();

// The running executable's full path (Linux: /proc/self/exe; Windows: GetModuleFileNameW); empty
// when the system cannot tell. Rule packs are found relative to it (rule_pack.h).
std::filesystem::path executablePath();

// `version` with the running executable's size and modification time: changes with every build
// installed, so that what one build cached (the rule cache) is not read by another. "" when the
// executable cannot be found.
std::string executableStamp(const std::string& version);

}  // namespace t0w
