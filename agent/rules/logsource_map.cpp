#include "agent/rules/logsource_map.h"

#include <array>

namespace t0w {

std::string_view FieldMapping::map(std::string_view sigma_name) const {
  for (const auto& [from, to] : renames) {
    if (from == sigma_name) return to;
  }
  return sigma_name;
}

namespace {

constexpr std::string_view kSysmon = "Microsoft-Windows-Sysmon/Operational";
constexpr std::string_view kPsOperational = "Microsoft-Windows-PowerShell/Operational";
constexpr std::string_view kPsCore = "PowerShellCore/Operational";
constexpr std::string_view kPsClassic = "Windows PowerShell";

// Security 4688 carries process creation under other names (Sigma's windows-audit mapping).
const FieldMapping& security4688Fields() {
  static const FieldMapping m{{
      {"Image", "NewProcessName"},
      {"ParentImage", "ParentProcessName"},
      {"ProcessId", "NewProcessId"},
      {"ParentProcessId", "ProcessId"},
      {"User", "SubjectUserName"},
      {"LogonId", "SubjectLogonId"},
  }};
  return m;
}

struct CategoryEntry {
  std::string_view category;
  std::string_view channel;
  std::array<uint32_t, 3> ids;  // zero-terminated
};

// Categories served by one channel and a few EventIDs.
constexpr CategoryEntry kCategories[] = {
    {"process_creation", kSysmon, {1}},
    {"file_change", kSysmon, {2}},
    {"network_connection", kSysmon, {3}},
    {"sysmon_status", kSysmon, {4, 16}},
    {"process_termination", kSysmon, {5}},
    {"driver_load", kSysmon, {6}},
    {"image_load", kSysmon, {7}},
    {"create_remote_thread", kSysmon, {8}},
    {"raw_access_thread", kSysmon, {9}},
    {"process_access", kSysmon, {10}},
    {"file_event", kSysmon, {11}},
    {"registry_add", kSysmon, {12}},
    {"registry_delete", kSysmon, {12}},
    {"registry_set", kSysmon, {13}},
    {"registry_rename", kSysmon, {14}},
    {"registry_event", kSysmon, {12, 13, 14}},
    {"create_stream_hash", kSysmon, {15}},
    {"pipe_created", kSysmon, {17, 18}},
    {"wmi_event", kSysmon, {19, 20, 21}},
    {"dns_query", kSysmon, {22}},
    {"file_delete", kSysmon, {23, 26}},
    {"file_delete_detected", kSysmon, {26}},
    {"clipboard_capture", kSysmon, {24}},
    {"process_tampering", kSysmon, {25}},
    {"file_block_executable", kSysmon, {27}},
    {"file_block_shredding", kSysmon, {28}},
    {"file_executable_detected", kSysmon, {29}},
    {"sysmon_error", kSysmon, {255}},
    {"ps_classic_start", kPsClassic, {400}},
    {"ps_classic_provider_start", kPsClassic, {600}},
    {"ps_classic_script", kPsClassic, {800}},
    {"ps_module", kPsOperational, {4103}},
    {"ps_script", kPsOperational, {4104}},
};

struct ServiceEntry {
  std::string_view service;
  std::array<std::string_view, 4> channels;  // empty-terminated
};

constexpr ServiceEntry kServices[] = {
    {"security", {"Security"}},
    {"system", {"System"}},
    {"application", {"Application"}},
    {"setup", {"Setup"}},
    {"sysmon", {kSysmon}},
    {"powershell", {kPsOperational, kPsCore}},
    {"powershell-classic", {kPsClassic}},
    {"taskscheduler", {"Microsoft-Windows-TaskScheduler/Operational"}},
    {"wmi", {"Microsoft-Windows-WMI-Activity/Operational"}},
    {"dns-server", {"DNS Server"}},
    {"dns-server-audit", {"Microsoft-Windows-DNS-Server/Audit"}},
    {"dns-server-analytic", {"Microsoft-Windows-DNS-Server/Analytical"}},
    {"dns-client", {"Microsoft-Windows-DNS-Client/Operational"}},
    {"driver-framework", {"Microsoft-Windows-DriverFrameworks-UserMode/Operational"}},
    {"ntlm", {"Microsoft-Windows-NTLM/Operational"}},
    {"dhcp", {"Microsoft-Windows-DHCP-Server/Operational"}},
    {"msexchange-management", {"MSExchange Management"}},
    {"applocker",
     {"Microsoft-Windows-AppLocker/MSI and Script", "Microsoft-Windows-AppLocker/EXE and DLL",
      "Microsoft-Windows-AppLocker/Packaged app-Deployment",
      "Microsoft-Windows-AppLocker/Packaged app-Execution"}},
    {"printservice-admin", {"Microsoft-Windows-PrintService/Admin"}},
    {"printservice-operational", {"Microsoft-Windows-PrintService/Operational"}},
    {"codeintegrity-operational", {"Microsoft-Windows-CodeIntegrity/Operational"}},
    {"codeintegrity", {"Microsoft-Windows-CodeIntegrity/Operational"}},
    {"smbclient-security", {"Microsoft-Windows-SmbClient/Security"}},
    {"smbclient-connectivity", {"Microsoft-Windows-SmbClient/Connectivity"}},
    {"smbserver-connectivity", {"Microsoft-Windows-SmbServer/Connectivity"}},
    {"firewall-as", {"Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"}},
    {"bits-client", {"Microsoft-Windows-Bits-Client/Operational"}},
    {"windefend", {"Microsoft-Windows-Windows Defender/Operational"}},
    {"terminalservices-localsessionmanager",
     {"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"}},
    {"terminalservices-remoteconnectionmanager",
     {"Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational"}},
    {"microsoft-servicebus-client", {"Microsoft-ServiceBus-Client"}},
    {"ldap_debug", {"Microsoft-Windows-LDAP-Client/Debug"}},
    {"ldap", {"Microsoft-Windows-LDAP-Client/Debug"}},
    {"security-mitigations",
     {"Microsoft-Windows-Security-Mitigations/KernelMode",
      "Microsoft-Windows-Security-Mitigations/UserMode",
      "Microsoft-Windows-Security-Mitigations/Kernel Mode",
      "Microsoft-Windows-Security-Mitigations/User Mode"}},
    {"diagnosis-scripted", {"Microsoft-Windows-Diagnosis-Scripted/Operational"}},
    {"shell-core", {"Microsoft-Windows-Shell-Core/Operational"}},
    {"openssh", {"OpenSSH/Operational"}},
    {"bitlocker", {"Microsoft-Windows-BitLocker/BitLocker Management"}},
    {"appxdeployment-server", {"Microsoft-Windows-AppXDeploymentServer/Operational"}},
    {"appxpackaging-om", {"Microsoft-Windows-AppxPackaging/Operational"}},
    {"appmodel-runtime", {"Microsoft-Windows-AppModel-Runtime/Admin"}},
    {"capi2", {"Microsoft-Windows-CAPI2/Operational"}},
    {"certificateservicesclient-lifecycle-system",
     {"Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"}},
    {"iis-configuration", {"Microsoft-IIS-Configuration/Operational"}},
    {"lsa-server", {"Microsoft-Windows-LSA/Operational"}},
    {"hyper-v-worker", {"Microsoft-Windows-Hyper-V-Worker-Admin"}},
    {"kernel-event-tracing", {"Microsoft-Windows-Kernel-EventTracing/Admin"}},
    {"kernel-shimengine", {"Microsoft-Windows-Kernel-ShimEngine/Operational"}},
    {"sense", {"Microsoft-Windows-SENSE/Operational"}},
    {"vhdmp", {"Microsoft-Windows-VHDMP-Operational"}},
    {"winrm", {"Microsoft-Windows-WinRM/Operational"}},
    {"wmi-activity", {"Microsoft-Windows-WMI-Activity/Operational"}},
    {"application-experience",
     {"Microsoft-Windows-Application-Experience/Program-Telemetry",
      "Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant"}},
    {"directory-service", {"Directory Service"}},
    {"ad-fs", {"AD FS/Admin"}},
    // Tier0Watch: Entra Connect, Entra private network connector, Entra Password Protection.
    {"aadconnect-pta", {"Microsoft-AzureADConnect-AuthenticationAgent/Admin"}},
    {"pass-through-authentication", {"Microsoft-AzureADConnect-AuthenticationAgent/Admin"}},
    {"private-network-connector",
     {"Microsoft-AadApplicationProxy-Connector/Admin",
      "Microsoft-Microsoft Entra private network-Connector/Admin"}},
    {"password-protection",
     {"Microsoft-AzureADPasswordProtection-DCAgent/Admin",
      "Microsoft-AzureADPasswordProtection-DCAgent/Operational"}},
};

}  // namespace

Result<std::vector<LogSourceTarget>> resolveLogSource(const LogSourceSpec& spec) {
  std::vector<LogSourceTarget> out;
  if (spec.product != "windows") {
    return makeError(Errc::kUnsupported, "logsource product '" +
                                             (spec.product.empty() ? "(none)" : spec.product) +
                                             "' is not a Windows log source");
  }
  if (!spec.category.empty()) {
    if (spec.category == "file_access" || spec.category == "file_rename") {
      // Sigma's taxonomy: ETW provider Microsoft-Windows-Kernel-File (no classic channel).
      LogSourceTarget t;
      t.name = "kernel-file";
      t.providers = {"Microsoft-Windows-Kernel-File"};
      out.push_back(std::move(t));
    } else {
      for (const auto& c : kCategories) {
        if (c.category != spec.category) continue;
        LogSourceTarget t;
        t.name = std::string(c.channel == kSysmon ? "sysmon" : "powershell") + "-" + spec.category;
        t.channels.emplace_back(c.channel);
        if (c.category == "ps_module" || c.category == "ps_script") {
          t.channels.emplace_back(kPsCore);
        }
        for (uint32_t id : c.ids) {
          if (id != 0) t.event_ids.push_back(id);
        }
        out.push_back(std::move(t));
      }
      if (out.empty()) {
        return makeError(Errc::kNotFound,
                         "unknown Windows logsource category '" + spec.category + "'");
      }
      if (spec.category == "process_creation") {
        LogSourceTarget t;
        t.name = "security-4688";
        t.channels = {"Security"};
        t.event_ids = {4688};
        t.fields = &security4688Fields();
        out.push_back(std::move(t));
      }
    }
    if (!spec.service.empty()) {
      // category + service: the service narrows the channel only where it names one we know.
      for (const auto& s : kServices) {
        if (s.service != spec.service) continue;
        for (auto& t : out) {
          std::vector<std::string> keep;
          for (const auto& ch : t.channels) {
            for (auto sc : s.channels) {
              if (!sc.empty() && sc == ch) keep.push_back(ch);
            }
          }
          if (!keep.empty()) t.channels = std::move(keep);
        }
      }
    }
    return out;
  }
  if (spec.service.empty()) {
    LogSourceTarget t;  // product: windows only: every Windows event
    t.name = "windows";
    out.push_back(std::move(t));
    return out;
  }
  if (spec.service == "aadconnect-trace") {
    LogSourceTarget t;
    t.name = "aadconnect-trace";
    t.providers = {std::string(kAadConnectTraceProvider)};
    out.push_back(std::move(t));
    return out;
  }
  for (const auto& s : kServices) {
    if (s.service != spec.service) continue;
    LogSourceTarget t;
    t.name = spec.service;
    for (auto ch : s.channels) {
      if (!ch.empty()) t.channels.emplace_back(ch);
    }
    out.push_back(std::move(t));
    return out;
  }
  return makeError(Errc::kNotFound, "unknown Windows logsource service '" + spec.service + "'");
}

}  // namespace t0w
