// How `tier0watch service install|configure` sets up the Windows service (and what the MSI's
// custom action re-applies): portable data, so the choices are visible and unit-tested; the
// Win32 calls that apply it are in service_installer_windows.cpp.
//
// Account: LocalSystem, with an unrestricted service SID. Why not the virtual account
// "NT SERVICE\Tier0Watch": on a domain controller the Security log is readable by SYSTEM,
// Administrators and BUILTIN\Event Log Readers; a virtual account is none of these and, the
// DC having no local SAM, it cannot be put into the (domain) Event Log Readers group, so the
// only way would be to rewrite the channel's access SDDL, which Group Policy also manages.
// The machine certificate's private key used for mutual TLS (LocalMachine\My) is readable by
// SYSTEM and Administrators only. The service SID (SERVICE_SID_TYPE_UNRESTRICTED) lets the
// installer grant %ProgramData%\Tier0Watch to "NT SERVICE\Tier0Watch" alone; RESTRICTED is not
// possible because a write-restricted token would fail the Security channel's access check.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/text/windows_argument.h"

namespace t0w {

// SERVICE_SID_INFO.dwServiceSidType values.
enum class ServiceSidType : uint32_t { kNone = 0, kUnrestricted = 1, kRestricted = 3 };

struct ServiceSpec {
  std::string name = "Tier0Watch";
  std::string display_name = "Tier0Watch agent";
  std::string description =
      "Collects security events of this Tier 0 server, runs the Tier0Watch detection rules and "
      "ships events and alerts to the Tier0Watch collector.";
  std::string account = "LocalSystem";  // see above
  ServiceSidType sid_type = ServiceSidType::kUnrestricted;
  bool delayed_auto_start = true;  // after the boot-critical services
  // SC_ACTION_RESTART after each of the first three failures, then the same again after the
  // reset period without failures.
  std::vector<std::chrono::milliseconds> restart_delays = {std::chrono::milliseconds(10'000),
                                                           std::chrono::milliseconds(30'000),
                                                           std::chrono::milliseconds(60'000)};
  std::chrono::seconds failure_reset_period{86'400};
  // Restart also when the service stops with a non-zero exit code (not only on a crash).
  bool failure_actions_on_non_crash = true;
  // What the SCM waits after PRESHUTDOWN for the queue flush (Windows' default is 10 s).
  std::chrono::milliseconds preshutdown_timeout{60'000};
  std::filesystem::path executable;  // absolute path of tier0watch.exe
  std::filesystem::path config;      // absolute path of the YAML file
};

// The service's ImagePath: "<exe>" service run --config "<config>".
std::string serviceCommandLine(const ServiceSpec& spec);

}  // namespace t0w
