// Audit prerequisites: which enabled rules cannot fire on this host, and why. The pack's rules
// name what the server must log with tier0watch.prereq.<key> tags (packs/tier0/pack.yaml
// "prerequisites"); each audit-* key maps to one advanced audit subcategory (GUIDs as in
// [MS-GPAC] 2.2.1.2 and ntsecapi.h) and the outcome it needs, powershell-script-block-logging to
// the ScriptBlockLogging policy, and the rules' channels must be enabled. The host's state comes
// from an AuditPolicyReader: AuditQuerySystemPolicy, the registry and EvtGetChannelConfigProperty
// on Windows (agent/platform/audit_policy_windows.cpp); tests use a double. The agent checks at
// start and daily and reports each blocked rule in its heartbeat (audit_policy health issue).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/rule_blocker.h"
#include "common/core/result.h"

namespace t0w {

struct AuditSubcategory {
  const char* prereq;  // tier0watch.prereq key: "audit-kerberos-tickets"
  const char* guid;    // "0CCE9240-69AE-11D9-BED3-505054503030"
  const char* name;    // "Kerberos Service Ticket Operations"
  bool success;        // the rules need success auditing
  bool failure;        // ... and failure auditing
};
const std::vector<AuditSubcategory>& auditSubcategories();

inline constexpr uint32_t kAuditSuccess = 1;  // POLICY_AUDIT_EVENT_SUCCESS
inline constexpr uint32_t kAuditFailure = 2;  // POLICY_AUDIT_EVENT_FAILURE

struct ChannelConfigState {
  bool enabled = false;
  uint64_t max_size_bytes = 0;
};

class AuditPolicyReader {
 public:
  virtual ~AuditPolicyReader() = default;
  // The effective audit bits (kAuditSuccess | kAuditFailure) of a subcategory GUID.
  virtual Result<uint32_t> subcategory(const std::string& guid) = 0;
  // HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell\ScriptBlockLogging
  // EnableScriptBlockLogging.
  virtual Result<bool> scriptBlockLogging() = 0;
  // Kind kNotFound when the channel does not exist.
  virtual Result<ChannelConfigState> channel(const std::string& name) = 0;
};

// The platform's reader; nullptr where there is none (Linux): the check is then not made.
std::unique_ptr<AuditPolicyReader> makeAuditPolicyReader();

// One rule and what it needs (from PackCoverage: its prerequisite tags and channels; provider
// names and "any log" left out).
struct RuleNeeds {
  std::string rule;  // title (id)
  std::vector<std::string> prereqs;
  std::vector<std::string> channels;
};

// Each rule whose prerequisites the host does not meet, with the reason. Only rules that read a
// channel the agent subscribes to (`subscribed`) apply to this host; among those, a rule is
// blocked when none of its subscribed channels exists and is enabled, or when an audit
// subcategory or the script block logging it needs is off. A setting the reader cannot read is
// reported as "could not be checked".
std::vector<RuleBlocker> checkAuditPrerequisites(const std::vector<RuleNeeds>& rules,
                                                 const std::vector<std::string>& subscribed,
                                                 AuditPolicyReader& reader);

// Advanced-audit settings 1..3 as text ("success", "failure", "success and failure", "no
// auditing") for reasons.
std::string auditBitsText(uint32_t bits);

}  // namespace t0w
