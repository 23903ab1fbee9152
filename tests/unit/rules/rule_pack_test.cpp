// Rule packs: pack.yaml/catalog.yaml metadata, where packs are found, and loading packs with
// their placeholder defaults under the configured values (rule_pack.h, rule_sources.h).
#include "agent/rules/rule_pack.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "agent/rules/rule_sources.h"

namespace t0w {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp directory (portable: the rules tests also run under
// Wine), removed afterwards.
class PackDir {
 public:
  PackDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("t0w-pack-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~PackDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path write(const std::string& rel, const std::string& text) const {
    const fs::path p = path_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

constexpr const char* kPackYaml = R"(name: demo
title: Demo pack
placeholders:
  admins:
    description: the admins
    default: [alice, bob]
  groups:
    description: nothing by default
    default: []
prerequisites:
  audit-logon: Audit Logon
)";

constexpr const char* kCatalog = R"(rows:
  - {id: ROW-1, kind: guide, title: First, risk: High, local: yes}
  - {id: T0-X, kind: pack, title: Mine, risk: Low, local: partial}
  - {id: CLOUD-1, kind: guide, title: Cloud only, risk: Medium, local: no, cloud: Entra audit log}
)";

constexpr const char* kAdminRule = R"(title: Admin logon
id: rule-admin
tags: [tier0watch.guide.row-1, tier0watch.prereq.audit-logon, attack.t1078]
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4624
    TargetUserName|expand: '%admins%'
  condition: sel
level: high
)";

Event logon(const std::string& user) {
  Event e;
  e.system.channel = "Security";
  e.system.event_id = 4624;
  e.addField("TargetUserName", user);
  return e;
}

TEST(RulePack, ReadsPackAndCatalog) {
  PackDir d;
  d.write("pack.yaml", kPackYaml);
  d.write("catalog.yaml", kCatalog);
  auto pack = loadRulePack(d.path());
  ASSERT_TRUE(pack) << pack.error().toString();
  EXPECT_EQ(pack->name, "demo");
  EXPECT_EQ(pack->rules_dir, d.path() / "rules");
  ASSERT_EQ(pack->placeholders.size(), 2u);
  EXPECT_EQ(pack->placeholderDefaults().at("admins"), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_TRUE(pack->placeholderDefaults().at("groups").empty());
  ASSERT_NE(pack->prerequisite("audit-logon"), nullptr);
  EXPECT_EQ(pack->prerequisite("nope"), nullptr);
  ASSERT_EQ(pack->catalog.size(), 3u);
  EXPECT_EQ(pack->catalog[0].tag(), "tier0watch.guide.row-1");
  EXPECT_EQ(pack->catalog[1].tag(), "tier0watch.pack.t0-x");
  EXPECT_EQ(pack->catalog[2].cloud, "Entra audit log");
}

TEST(RulePack, DirectoryWithoutPackYamlIsAPlainPack) {
  PackDir d;
  d.write("a.yml", kAdminRule);
  auto pack = loadRulePack(d.path());
  ASSERT_TRUE(pack);
  EXPECT_EQ(pack->rules_dir, d.path());
  EXPECT_TRUE(pack->catalog.empty());
  EXPECT_FALSE(loadRulePack(d.path() / "missing"));
}

TEST(RulePack, BadMetadataNamesFileAndRow) {
  PackDir d;
  d.write("pack.yaml", "placeholders: [a, b]\n");
  auto bad = loadRulePack(d.path());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("pack.yaml"), std::string::npos) << bad.error().message;
  d.write("pack.yaml", "name: x\n");
  d.write("catalog.yaml", "rows:\n  - {id: R-1, local: maybe}\n");
  bad = loadRulePack(d.path());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("R-1"), std::string::npos) << bad.error().message;
}

TEST(RulePack, SearchOrderIsBesideTheExecutableThenShareThenSource) {
  const auto dirs = packSearchDirs(fs::path("/opt/t0w/bin/tier0watch"));
  ASSERT_GE(dirs.size(), 2u);
  EXPECT_EQ(dirs[0], fs::path("/opt/t0w/bin/packs"));
  EXPECT_EQ(dirs[1], fs::path("/opt/t0w/share/tier0watch/packs"));
  EXPECT_EQ(dirs.back(), fs::path(T0W_SOURCE_DIR) / "packs");
}

TEST(RulePack, LocateByNameOrPath) {
  PackDir a, b;
  a.write("tier0/pack.yaml", "name: tier0\n");
  b.write("tier0/pack.yaml", "name: tier0\n");
  b.write("other/x.yml", kAdminRule);
  auto found = locatePack("tier0", {a.path(), b.path()});
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, a.path() / "tier0");  // first search directory wins
  found = locatePack("other", {a.path(), b.path()});
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, b.path() / "other");
  auto by_path = locatePack((b.path() / "tier0").string(), {});
  ASSERT_TRUE(by_path);
  auto missing = locatePack("nope", {a.path()});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find((a.path() / "nope").string()), std::string::npos);
  EXPECT_FALSE(locatePack("./nope", {a.path()}));
}

TEST(RuleSources, PackDefaultsThenConfiguredPlaceholders) {
  PackDir d;
  d.write("pack.yaml", kPackYaml);
  d.write("rules/admin.yml", kAdminRule);
  RuleSources s;
  s.packs.push_back(d.path());
  LoadedRuleSet loaded = loadRuleSources(s);
  EXPECT_TRUE(loaded.report.rejected.empty());
  ASSERT_EQ(loaded.packs.size(), 1u);
  EXPECT_EQ(loaded.rules->countMatches(logon("bob")), 1u);
  EXPECT_EQ(loaded.rules->countMatches(logon("carol")), 0u);
  s.placeholders["admins"] = {"carol"};  // replaces the default list
  loaded = loadRuleSources(s);
  EXPECT_EQ(loaded.rules->countMatches(logon("bob")), 0u);
  EXPECT_EQ(loaded.rules->countMatches(logon("carol")), 1u);
  EXPECT_EQ(loaded.placeholders.at("admins"), (std::vector<std::string>{"carol"}));
}

TEST(RuleSources, BrokenPackYamlIsReportedAndItsRulesStillLoad) {
  PackDir d;
  d.write("pack.yaml", "placeholders: [oops]\n");
  d.write("rules/plain.yml",
          "title: t\nid: plain\nlogsource: {product: windows, service: security}\n"
          "detection:\n  sel: {EventID: 4625}\n  condition: sel\n");
  RuleSources s;
  s.packs.push_back(d.path());
  LoadedRuleSet loaded = loadRuleSources(s);
  ASSERT_EQ(loaded.report.rejected.size(), 1u);
  EXPECT_EQ(loaded.report.rejected[0].kind, "invalid pack");
  EXPECT_EQ(loaded.rules->size(), 1u);
}

}  // namespace
}  // namespace t0w
