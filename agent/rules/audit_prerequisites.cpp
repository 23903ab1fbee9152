#include "agent/rules/audit_prerequisites.h"

#include <algorithm>
#include <map>

#include "common/text/ascii.h"

namespace t0w {

const std::vector<AuditSubcategory>& auditSubcategories() {
  // GUIDs checked against [MS-GPAC] 2.2.1.2 (SubcategoryGUID table); outcomes as the pack's
  // prerequisites text states them (packs/tier0/pack.yaml).
  static const std::vector<AuditSubcategory> table = {
      {"audit-logon", "0CCE9215-69AE-11D9-BED3-505054503030", "Logon", true, true},
      {"audit-kerberos-auth", "0CCE9242-69AE-11D9-BED3-505054503030",
       "Kerberos Authentication Service", true, true},
      {"audit-kerberos-tickets", "0CCE9240-69AE-11D9-BED3-505054503030",
       "Kerberos Service Ticket Operations", true, true},
      {"audit-credential-validation", "0CCE923F-69AE-11D9-BED3-505054503030",
       "Credential Validation", true, true},
      {"audit-user-account-management", "0CCE9235-69AE-11D9-BED3-505054503030",
       "User Account Management", true, true},
      {"audit-computer-account-management", "0CCE9236-69AE-11D9-BED3-505054503030",
       "Computer Account Management", true, false},
      {"audit-security-group-management", "0CCE9237-69AE-11D9-BED3-505054503030",
       "Security Group Management", true, false},
      {"audit-ds-changes-sacl", "0CCE923C-69AE-11D9-BED3-505054503030", "Directory Service Changes",
       true, false},
      {"audit-ds-access-sacl", "0CCE923B-69AE-11D9-BED3-505054503030", "Directory Service Access",
       true, false},
      {"audit-other-object-access", "0CCE9227-69AE-11D9-BED3-505054503030",
       "Other Object Access Events", true, false},
      {"audit-policy-change", "0CCE922F-69AE-11D9-BED3-505054503030", "Audit Policy Change", true,
       false},
      {"audit-security-system-extension", "0CCE9211-69AE-11D9-BED3-505054503030",
       "Security System Extension", true, false},
      {"audit-process-creation", "0CCE922B-69AE-11D9-BED3-505054503030", "Process Creation", true,
       false},
  };
  return table;
}

std::string auditBitsText(uint32_t bits) {
  const bool s = (bits & kAuditSuccess) != 0, f = (bits & kAuditFailure) != 0;
  if (s && f) return "success and failure";
  if (s) return "success";
  if (f) return "failure";
  return "no auditing";
}

std::vector<RuleBlocker> checkAuditPrerequisites(const std::vector<RuleNeeds>& rules,
                                                 const std::vector<std::string>& subscribed,
                                                 AuditPolicyReader& reader) {
  std::map<std::string, const AuditSubcategory*> by_key;
  for (const auto& s : auditSubcategories()) by_key[s.prereq] = &s;
  // Each setting is read once, however many rules need it.
  std::map<std::string, std::optional<std::string>> why;  // key -> reason (nullopt: fine)
  const auto reason = [&](const std::string& key) -> std::optional<std::string> {
    if (auto it = why.find(key); it != why.end()) return it->second;
    std::optional<std::string> r;
    if (key.rfind("channel:", 0) == 0) {
      const std::string name = key.substr(8);
      auto c = reader.channel(name);
      if (!c) {
        r = c.error().code == Errc::kNotFound
                ? "channel " + name + " does not exist on this host"
                : "channel " + name + " could not be checked: " + c.error().message;
      } else if (!c->enabled) {
        r = "channel " + name + " is disabled";
      }
    } else if (key == "powershell-script-block-logging") {
      auto on = reader.scriptBlockLogging();
      if (!on) {
        r = "script block logging could not be checked: " + on.error().message;
      } else if (!*on) {
        r = "PowerShell script block logging is off (Group Policy: Turn on PowerShell Script "
            "Block Logging)";
      }
    } else if (auto it = by_key.find(key); it != by_key.end()) {
      const AuditSubcategory& s = *it->second;
      auto bits = reader.subcategory(s.guid);
      if (!bits) {
        r = std::string("audit subcategory ") + s.name +
            " could not be checked: " + bits.error().message;
      } else {
        const bool ok =
            (!s.success || (*bits & kAuditSuccess)) && (!s.failure || (*bits & kAuditFailure));
        if (!ok) {
          r = std::string("advanced audit policy ") + s.name + " is " + auditBitsText(*bits) +
              "; the rule needs " +
              auditBitsText((s.success ? kAuditSuccess : 0) | (s.failure ? kAuditFailure : 0));
        }
      }
    }
    why[key] = r;
    return r;
  };
  const auto isSubscribed = [&](const std::string& channel) {
    for (const auto& s : subscribed) {
      if (equalsIgnoreCaseAscii(s, channel)) return true;
    }
    return false;
  };
  std::vector<RuleBlocker> out;
  for (const auto& rule : rules) {
    std::vector<std::string> mine;
    for (const auto& c : rule.channels) {
      if (isSubscribed(c)) mine.push_back(c);
    }
    if (mine.empty()) continue;  // not a log this host is watched for
    std::vector<std::string> reasons;
    std::vector<std::string> channel_reasons;
    for (const auto& c : mine) {
      if (auto r = reason("channel:" + c)) channel_reasons.push_back(*r);
    }
    // Several names of one log (the connector's two): one usable is enough.
    if (channel_reasons.size() == mine.size()) {
      for (auto& r : channel_reasons) reasons.push_back(std::move(r));
    }
    for (const auto& k : rule.prereqs) {
      if (auto r = reason(k)) reasons.push_back(*r);
    }
    if (reasons.empty()) continue;
    std::string text;
    for (const auto& r : reasons) text += (text.empty() ? "" : "; ") + r;
    out.push_back(RuleBlocker{rule.rule, text});
  }
  return out;
}

#ifndef _WIN32
std::unique_ptr<AuditPolicyReader> makeAuditPolicyReader() { return nullptr; }
#endif

}  // namespace t0w
