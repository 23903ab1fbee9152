#include "agent/config/policy_overlay.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "agent/config/config_source.h"

namespace t0w {
namespace {

const char* kFile = R"(agent:
  log_level: info
collector:
  url: https://file.example:8443
  token_file: token.txt
queue:
  max_bytes: 1048576
rules:
  pack_dir: packs
  packs:
    core: true
    noisy: false
windows:
  extra_channels:
    - {channel: "DNS Server", query: "*"}
)";

AgentConfig parseFile(const std::string& yaml = kFile) {
  auto c = parseConfig(yaml, "agent.yaml", "/etc/t0w");
  EXPECT_TRUE(c) << c.error().toString();
  return c ? *c : AgentConfig{};
}

PolicyOverlayResult overlay(const MemoryPolicySource& policy, const std::string& yaml = kFile) {
  MemoryPolicySource copy = policy;
  return applyPolicy(parseFile(yaml), fileProvenance(yaml, "agent.yaml"), *copy.read());
}

TEST(PolicyOverlay, NoPolicyKeepsTheFileAndItsLines) {
  auto r = overlay(MemoryPolicySource{});
  EXPECT_TRUE(r.issues.empty());
  EXPECT_EQ(r.config.url, "https://file.example:8443");
  EXPECT_EQ(originOf(r.provenance, "collector.url").toString(), "file:agent.yaml:4");
  EXPECT_EQ(originOf(r.provenance, "queue.max_bytes").toString(), "file:agent.yaml:7");
  EXPECT_EQ(originOf(r.provenance, "rules.packs.noisy").toString(), "file:agent.yaml:12");
  EXPECT_EQ(originOf(r.provenance, "batch.max_events").toString(), "default");
  EXPECT_EQ(originOf(r.provenance, "windows.security").toString(), "default");
}

TEST(PolicyOverlay, PolicyWinsAndIsNamedAsTheOrigin) {
  MemoryPolicySource p;
  p.set("", "CollectorUrl", PolicyValue::string("https://gpo.example"));
  p.set("", "EnrollmentToken", PolicyValue::string("tok-from-gpo"));
  p.set("", "Proxy", PolicyValue::string("http://proxy:3128"));
  p.set("", "ClientCertificateMatch", PolicyValue::string("Template"));
  p.set("", "ClientCertificate", PolicyValue::string("Tier0Watch Agent"));
  p.set("", "loglevel", PolicyValue::string("DEBUG"));  // names are case-insensitive
  p.set("", "QueueMaxMB", PolicyValue::dword(512));
  p.set("", "QueueOverflow", PolicyValue::string("pause_sources"));
  p.set("Channels", "Security", PolicyValue::dword(0));
  p.set("Channels", "PasswordProtectionAdmin", PolicyValue::dword(1));
  p.set("Channels", "PrivateNetworkConnectorAdmin", PolicyValue::dword(1));
  // The channels on by default, switched off by policy (the new ones included).
  for (const char* off :
       {"PtaAgentAdmin", "PasswordProtectionOperational", "EntraConnectApplication",
        "PowerShellScriptBlock", "SystemServiceAndClear"}) {
    p.set("Channels", off, PolicyValue::dword(0));
  }
  p.set("RulePacks", "noisy", PolicyValue::string("1"));
  p.set("RulePacks", "extra", PolicyValue::dword(0));
  p.set("", "RuleMinAlertLevel", PolicyValue::string("Informational"));
  auto r = overlay(p);
  EXPECT_TRUE(r.issues.empty()) << r.issues.front();
  const AgentConfig& c = r.config;
  EXPECT_EQ(c.url, "https://gpo.example");
  EXPECT_EQ(c.token, "tok-from-gpo");
  EXPECT_TRUE(c.token_file.empty()) << "the policy token replaces the file's token_file";
  EXPECT_EQ(c.proxy, "http://proxy:3128");
  EXPECT_EQ(c.client_certificate, "template:Tier0Watch Agent");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.queue_max_bytes, int64_t{512} << 20);
  EXPECT_EQ(c.queue_overflow, "pause_sources");
  EXPECT_FALSE(c.security_channel);
  EXPECT_TRUE(c.password_protection_admin);
  EXPECT_EQ(c.rule_packs.at("core"), true);
  EXPECT_EQ(c.rule_packs.at("noisy"), true);
  EXPECT_EQ(c.rule_packs.at("extra"), false);
  EXPECT_EQ(c.rule_min_alert_level, "informational");
  EXPECT_EQ(originOf(r.provenance, "rules.min_alert_level").toString(), "policy:RuleMinAlertLevel");
  const std::vector<ChannelSubscription> want = {
      {"Microsoft-AadApplicationProxy-Connector/Admin", "*", true},
      {"Microsoft-Microsoft Entra private network-Connector/Admin", "*", true},
      {"Microsoft-AzureADPasswordProtection-DCAgent/Admin", "*", true},
      {"DNS Server", "*"}};
  EXPECT_EQ(c.channelSubscriptions(), want);
  EXPECT_EQ(originOf(r.provenance, "collector.url").toString(), "policy:CollectorUrl");
  EXPECT_EQ(originOf(r.provenance, "collector.token").toString(), "policy:EnrollmentToken");
  EXPECT_EQ(originOf(r.provenance, "agent.log_level").toString(), "policy:LogLevel");
  EXPECT_EQ(originOf(r.provenance, "windows.security").toString(), "policy:Channels\\Security");
  EXPECT_EQ(originOf(r.provenance, "windows.powershell_script_block").toString(),
            "policy:Channels\\PowerShellScriptBlock");
  EXPECT_EQ(originOf(r.provenance, "rules.packs.noisy").toString(), "policy:RulePacks\\noisy");
  EXPECT_EQ(originOf(r.provenance, "rules.packs.core").toString(), "file:agent.yaml:11");
}

TEST(PolicyOverlay, ExtraChannelsReplaceTheFileListOnlyWhenThePolicyIsConfigured) {
  MemoryPolicySource p;
  p.set("ExtraChannels", "Directory Service", PolicyValue::string("*[System[(EventID=2889)]]"));
  auto not_configured = overlay(p);
  ASSERT_EQ(not_configured.config.extra_channels.size(), 1u);
  EXPECT_EQ(not_configured.config.extra_channels[0].channel, "DNS Server");

  p.set("", "UseExtraChannels", PolicyValue::dword(1));
  p.set("ExtraChannels", "Microsoft-Windows-NTLM/Operational", PolicyValue::string(""));
  auto enabled = overlay(p);
  const std::vector<ChannelSubscription> want = {{"Directory Service", "*[System[(EventID=2889)]]"},
                                                 {"Microsoft-Windows-NTLM/Operational", "*"}};
  EXPECT_EQ(enabled.config.extra_channels, want);
  EXPECT_EQ(originOf(enabled.provenance, "windows.extra_channels").toString(),
            "policy:UseExtraChannels");

  p.set("", "UseExtraChannels", PolicyValue::dword(0));  // the policy is Disabled: no extras
  EXPECT_TRUE(overlay(p).config.extra_channels.empty());
}

TEST(PolicyOverlay, BadValuesAreReportedAndIgnored) {
  MemoryPolicySource p;
  p.set("", "CollectorUrl", PolicyValue::string("ftp://nope"));
  p.set("", "EnrollmentToken", PolicyValue::string("   "));
  p.set("", "LogLevel", PolicyValue::string("verbose"));
  p.set("", "QueueMaxMB", PolicyValue::string("512"));  // REG_SZ where REG_DWORD is read
  p.set("", "QueueOverflow", PolicyValue::string("block"));
  p.set("", "ClientCertificateMatch", PolicyValue::string("issuer"));
  p.set("Channels", "Security", PolicyValue::string("1"));
  p.set("RulePacks", "core", PolicyValue::string("maybe"));
  p.set("RulePacks", "../x", PolicyValue::string("1"));
  p.set("", "CollectorURLTypo", PolicyValue::string("x"));
  p.set("", "RuleMinAlertLevel", PolicyValue::string("loud"));
  auto r = overlay(p);
  const AgentConfig file = parseFile();
  EXPECT_EQ(r.config.url, file.url);
  EXPECT_EQ(r.config.token_file, file.token_file);
  EXPECT_EQ(r.config.log_level, "info");
  EXPECT_EQ(r.config.queue_max_bytes, 1048576);
  EXPECT_EQ(r.config.queue_overflow, "drop_oldest");
  EXPECT_TRUE(r.config.client_certificate.empty());
  EXPECT_TRUE(r.config.security_channel);
  EXPECT_EQ(r.config.rule_packs.at("core"), true);
  EXPECT_EQ(r.config.rule_min_alert_level, "low");
  EXPECT_EQ(originOf(r.provenance, "collector.url").kind, SettingOrigin::Kind::kFile);
  std::string all;
  for (const auto& i : r.issues) all += i + "\n";
  EXPECT_EQ(r.issues.size(), 11u) << all;
  for (const char* needle :
       {"policy CollectorUrl: \"ftp://nope\" is not an https:// URL; ignored",
        "policy EnrollmentToken: empty; ignored", "policy LogLevel: \"verbose\"",
        "policy QueueMaxMB: expected REG_DWORD, found REG_SZ; ignored",
        "policy QueueOverflow: \"block\"", "policy ClientCertificateMatch: \"issuer\"",
        "policy Channels\\Security: expected REG_DWORD", "policy RulePacks\\core: \"maybe\"",
        "policy RulePacks\\../x: bad pack name",
        "policy CollectorURLTypo: not a Tier0Watch policy value",
        "policy RuleMinAlertLevel: \"loud\" is not informational"}) {
    EXPECT_NE(all.find(needle), std::string::npos) << needle << "\n" << all;
  }
}

TEST(PolicyOverlay, QueueCapOutOfRangeAndPackWithoutPackDir) {
  MemoryPolicySource p;
  p.set("", "QueueMaxMB", PolicyValue::dword(0));
  // Packs are also found where tier0watch is installed: no rules.pack_dir needed.
  p.set("RulePacks", "core", PolicyValue::string("1"));
  auto r = overlay(p, "collector: {url: https://c}\n");
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_NE(r.issues[0].find("0 MB is outside 1..1048576"), std::string::npos) << r.issues[0];
  EXPECT_EQ(r.config.rule_packs.at("core"), true);
  EXPECT_EQ(r.config.enabledRulePacks(), (std::vector<std::string>{"tier0", "core"}));
}

TEST(PolicyOverlay, RulePlaceholders) {
  MemoryPolicySource p;
  p.set("RulePlaceholders", "tier0_sync_accounts", PolicyValue::string(" MSOL_1a2b; MSOL_3c4d ;"));
  p.set("RulePlaceholders", "tier0_ca_groups", PolicyValue::string(""));
  PolicyValue multi;
  multi.type = PolicyValue::Type::kMultiString;
  multi.items = {"DC01$", "", "DC02$"};
  p.set("RulePlaceholders", "tier0_domain_controllers", multi);
  p.set("RulePlaceholders", "bad", PolicyValue::dword(1));
  auto r = overlay(p,
                   "collector: {url: https://c}\n"
                   "rules: {placeholders: {tier0_sync_accounts: [MSOL_file], other: [x]}}\n");
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_NE(r.issues[0].find("RulePlaceholders\\bad: expected REG_SZ"), std::string::npos)
      << r.issues[0];
  const auto& ph = r.config.rule_placeholders;
  EXPECT_EQ(ph.at("tier0_sync_accounts"), (std::vector<std::string>{"MSOL_1a2b", "MSOL_3c4d"}));
  EXPECT_TRUE(ph.at("tier0_ca_groups").empty());
  EXPECT_EQ(ph.at("tier0_domain_controllers"), (std::vector<std::string>{"DC01$", "DC02$"}));
  EXPECT_EQ(ph.at("other"), (std::vector<std::string>{"x"}));
  EXPECT_EQ(originOf(r.provenance, "rules.placeholders.tier0_sync_accounts").toString(),
            "policy:RulePlaceholders\\tier0_sync_accounts");
}

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("t0w-policy-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "agent.yaml";
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path dir_, path_;
};

TEST(LoadEffectiveConfig, CollectorUrlMayComeFromPolicyAlone) {
  TempFile f("agent: {log_level: warn}\n");
  MemoryPolicySource p;
  EXPECT_FALSE(loadEffectiveConfig(f.path(), &p)) << "no URL anywhere";
  p.set("", "CollectorUrl", PolicyValue::string("https://gpo.example"));
  auto e = loadEffectiveConfig(f.path(), &p);
  ASSERT_TRUE(e) << e.error().toString();
  EXPECT_EQ(e->config.url, "https://gpo.example");
  EXPECT_EQ(e->config.log_level, "warn");
  EXPECT_EQ(originOf(e->provenance, "agent.log_level").toString(),
            "file:" + f.path().string() + ":1");
  EXPECT_EQ(originOf(e->provenance, "collector.url").toString(), "policy:CollectorUrl");
  p.set("", "CollectorUrl", PolicyValue::string("not a url"));
  auto bad = loadEffectiveConfig(f.path(), &p);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("CollectorUrl is unusable"), std::string::npos);
}

// A policy source that cannot be read (access denied) leaves the file in charge, reported.
class FailingPolicySource final : public PolicySource {
 public:
  Result<PolicySnapshot> read() override { return makeError(Errc::kIo, "access denied"); }
  std::string describe() const override { return "HKLM\\SOFTWARE\\Policies\\Tier0Watch"; }
};

TEST(LoadEffectiveConfig, UnreadablePolicyIsAnIssueNotAFailure) {
  TempFile f("collector: {url: https://c}\n");
  FailingPolicySource p;
  auto e = loadEffectiveConfig(f.path(), &p);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->issues.size(), 1u);
  EXPECT_EQ(e->issues[0],
            "HKLM\\SOFTWARE\\Policies\\Tier0Watch: access denied; running with the configuration "
            "file only");
}

TEST(ConfigSource, SecretsAreRedactedInEffectiveSettings) {
  AgentConfig c =
      parseFile("collector: {url: https://c, token: s3cr3t, proxy: \"http://u:pw@p\"}\n");
  for (const auto& s : effectiveSettings(c)) {
    const std::string dumped = s.value.dump();
    EXPECT_EQ(dumped.find("s3cr3t"), std::string::npos) << s.key;
    EXPECT_EQ(dumped.find("pw@"), std::string::npos) << s.key;
    if (s.key == "collector.token" || s.key == "collector.proxy") {
      EXPECT_TRUE(s.secret);
      EXPECT_EQ(s.value, "<set>");
    }
  }
}

TEST(ConfigSource, DiffSeparatesLiveFromRestartSettingsAndMergeTakesOnlyLiveOnes) {
  const AgentConfig before = parseFile();
  AgentConfig after = before;
  after.url = "https://new";
  after.token = "other";  // redacted the same way, still a change
  after.log_level = "debug";
  after.security_channel = false;
  after.rule_packs["noisy"] = true;
  after.queue_max_bytes = 2 << 20;
  after.state_dir = "/elsewhere";
  after.batch_max_events = 10;
  const ConfigDiff d = diffConfig(before, after);
  const std::vector<std::string> live = {"agent.log_level",   "collector.token",
                                         "collector.url",     "queue.max_bytes",
                                         "rules.packs.noisy", "windows.security"};
  const std::vector<std::string> restart = {"agent.state_dir", "batch.max_events"};
  EXPECT_EQ(d.live, live);
  EXPECT_EQ(d.restart, restart);
  const AgentConfig merged = mergeLive(before, after);
  const ConfigDiff rest = diffConfig(merged, after);
  EXPECT_TRUE(rest.live.empty()) << rest.live.front();
  EXPECT_EQ(rest.restart, restart);
  EXPECT_TRUE(diffConfig(before, before).empty());
}

}  // namespace
}  // namespace t0w
