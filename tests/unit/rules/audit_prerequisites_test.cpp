// The audit prerequisite check over a scripted AuditPolicyReader (the Windows reader is
// agent/platform/audit_policy_windows.cpp; the tier0 pack's tags are read for real).
#include "agent/rules/audit_prerequisites.h"

#include <gtest/gtest.h>

#include <map>

#include "agent/rules/pack_coverage.h"
#include "agent/rules/rule_pack.h"
#include "agent/rules/rule_sources.h"

namespace t0w {
namespace {

class ScriptedReader final : public AuditPolicyReader {
 public:
  std::map<std::string, uint32_t> bits;  // GUID -> bits; absent: an error
  bool script_blocks = false;
  std::map<std::string, ChannelConfigState> channels;
  int subcategory_reads = 0;

  Result<uint32_t> subcategory(const std::string& guid) override {
    ++subcategory_reads;
    auto it = bits.find(guid);
    if (it == bits.end()) return makeError(Errc::kIo, "access denied");
    return it->second;
  }
  Result<bool> scriptBlockLogging() override { return script_blocks; }
  Result<ChannelConfigState> channel(const std::string& name) override {
    auto it = channels.find(name);
    if (it == channels.end()) return makeError(Errc::kNotFound, name + " does not exist");
    return it->second;
  }
};

const char* guidOf(const char* prereq) {
  for (const auto& s : auditSubcategories()) {
    if (std::string(s.prereq) == prereq) return s.guid;
  }
  return "";
}

TEST(AuditPrerequisitesTest, ReportsEachRuleThatCannotFireWithItsReason) {
  ScriptedReader reader;
  reader.channels["Security"] = {true, 128 << 20};
  reader.channels["Microsoft-Windows-PowerShell/Operational"] = {true, 15 << 20};
  reader.bits[guidOf("audit-kerberos-tickets")] = kAuditSuccess;  // no failure auditing
  reader.bits[guidOf("audit-logon")] = kAuditSuccess | kAuditFailure;
  const std::vector<RuleNeeds> rules = {
      {"Kerberoasting", {"audit-kerberos-tickets"}, {"Security"}},
      {"Logon from Internet", {"audit-logon"}, {"Security"}},
      {"Encoded PowerShell",
       {"powershell-script-block-logging"},
       {"Microsoft-Windows-PowerShell/Operational"}},
      {"PTA agent", {"channel-pta-agent"}, {"Microsoft-AzureADConnect-AuthenticationAgent/Admin"}},
      {"Another ticket rule", {"audit-kerberos-tickets"}, {"Security"}},
  };
  const auto blocked = checkAuditPrerequisites(
      rules, {"security", "Microsoft-Windows-PowerShell/Operational"}, reader);
  ASSERT_EQ(blocked.size(), 3u);
  EXPECT_EQ(blocked[0].rule, "Kerberoasting");
  EXPECT_EQ(blocked[0].reason,
            "advanced audit policy Kerberos Service Ticket Operations is success; the rule needs "
            "success and failure");
  EXPECT_EQ(blocked[1].rule, "Encoded PowerShell");
  EXPECT_NE(blocked[1].reason.find("script block logging is off"), std::string::npos);
  EXPECT_EQ(blocked[2].rule, "Another ticket rule");
  EXPECT_EQ(reader.subcategory_reads, 2);  // each subcategory read once
  // The PTA rule reads a log this host is not watched for: not applicable, not reported.
}

TEST(AuditPrerequisitesTest, ChannelsMissingOrDisabledAndUncheckableSettings) {
  ScriptedReader reader;
  reader.channels["Directory Service"] = {false, 1 << 20};
  const std::vector<RuleNeeds> rules = {
      {"LDAP signing", {}, {"Directory Service"}},
      {"Connector", {}, {"Name A/Admin", "Name B/Admin"}},
      {"Policy change", {"audit-policy-change"}, {"Security"}},
  };
  reader.channels["Name B/Admin"] = {true, 1 << 20};
  reader.channels["Security"] = {true, 1 << 20};
  const auto blocked = checkAuditPrerequisites(
      rules, {"Directory Service", "Name A/Admin", "Name B/Admin", "Security"}, reader);
  ASSERT_EQ(blocked.size(), 2u);
  EXPECT_EQ(blocked[0].reason, "channel Directory Service is disabled");
  // One of the connector's two names exists: enough.
  EXPECT_EQ(blocked[1].rule, "Policy change");
  EXPECT_EQ(blocked[1].reason,
            "audit subcategory Audit Policy Change could not be checked: access denied");
  reader.channels.erase("Directory Service");
  const auto gone = checkAuditPrerequisites({rules[0]}, {"Directory Service"}, reader);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].reason, "channel Directory Service does not exist on this host");
}

TEST(AuditPrerequisitesTest, EveryAuditPrerequisiteOfTheTier0PackIsMapped) {
  auto dir = locatePack("tier0", packSearchDirs({}));
  if (!dir) GTEST_SKIP() << dir.error().message;
  RuleSources sources;
  sources.packs.push_back(*dir);
  const auto loaded = loadRuleSources(sources);
  const auto coverage = computeCoverage(loaded, {});
  size_t audit_rules = 0;
  for (const auto& rule : coverage.rules) {
    for (const auto& p : rule.prereqs) {
      if (p.rfind("audit-", 0) != 0) continue;
      ++audit_rules;
      EXPECT_STRNE(guidOf(p.c_str()), "") << rule.id << " needs " << p << ", which has no GUID";
    }
  }
  EXPECT_GT(audit_rules, 10u);
}

}  // namespace
}  // namespace t0w
