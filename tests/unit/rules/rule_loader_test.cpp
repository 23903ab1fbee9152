#include "agent/rules/rule_loader.h"

#include <gtest/gtest.h>

#include "tests/unit/rules/rule_test_support.h"

namespace t0w::testing {
namespace {

const char* kGood =
    "title: Good\nid: good-1\nlevel: low\nunknown_key: {nested: [1, 2]}\n"
    "logsource: {product: windows, service: security}\n"
    "detection:\n  sel:\n    EventID: 4624\n  condition: sel\n"
    "falsepositives: [none]\nfields: [TargetUserName]\n";

TEST(RuleLoader, MetadataAndUnknownKeysTolerated) {
  auto r = load(kGood);
  ASSERT_EQ(r.set->size(), 1u) << r.rejection();
  const auto& info = r.set->rule(0).info;
  EXPECT_EQ(info.id, "good-1");
  EXPECT_EQ(info.title, "Good");
  EXPECT_EQ(info.level, "low");
  EXPECT_EQ(info.falsepositives, std::vector<std::string>{"none"});
  EXPECT_EQ(info.fields, std::vector<std::string>{"TargetUserName"});
}

TEST(RuleLoader, MalformedRuleRejectedOthersStillLoad) {
  std::string text = std::string(kGood) +
                     "---\ntitle: Bad\nid: bad-2\nlogsource: {product: windows, service: "
                     "security}\ndetection:\n  sel:\n    EventID: 1\n  condition: nosuch\n"
                     "---\n" +
                     std::string(kGood);
  auto r = load(text);
  EXPECT_EQ(r.set->size(), 2u);
  ASSERT_EQ(r.report.rejected.size(), 1u);
  const auto& issue = r.report.rejected[0];
  EXPECT_EQ(issue.file, "test.yml");
  EXPECT_EQ(issue.rule_id, "bad-2");
  EXPECT_NE(issue.message.find("nosuch"), std::string::npos);
}

TEST(RuleLoader, BrokenYamlDocumentDoesNotHideItsSiblings) {
  auto r = load(std::string(kGood) + "---\ntitle: [unclosed\nid: broken-9\n---\n" + kGood);
  EXPECT_EQ(r.set->size(), 2u);
  ASSERT_EQ(r.report.rejected.size(), 1u);
  EXPECT_EQ(r.report.rejected[0].kind, "invalid YAML");
  EXPECT_EQ(r.report.rejected[0].rule_id, "broken-9");
  EXPECT_NE(r.report.rejected[0].message.find("document 2"), std::string::npos);
  // yaml-cpp's LoadAll never returns on this input; the loader must.
  auto hang = load(" ,");
  EXPECT_EQ(hang.set->size(), 0u);
}

TEST(RuleLoader, MissingRequiredPartsAreRejected) {
  for (const char* bad :
       {"id: x\nlogsource: {product: windows}\ndetection: {s: {a: 1}, condition: s}\n",
        "title: t\nid: x\ndetection: {s: {a: 1}, condition: s}\n",
        "title: t\nid: x\nlogsource: {product: windows}\n",
        "title: t\nid: x\nlevel: severe\nlogsource: {product: windows}\n"
        "detection: {s: {a: 1}, condition: s}\n",
        "title: t\nid: x\nlogsource: {product: windows}\ndetection: {s: {a: 1}}\n",
        "title: t\nid: x\nlogsource: {product: windows, category: nosuchcategory}\n"
        "detection: {s: {a: 1}, condition: s}\n",
        "- just\n- a list\n", "title: [unclosed\n"}) {
    auto r = load(bad);
    EXPECT_EQ(r.set->size(), 0u) << bad;
    EXPECT_EQ(r.report.rejected.size(), 1u) << bad;
  }
}

TEST(RuleLoader, OutOfScopeProductsAreSkippedNotRejected) {
  auto r = load(
      "title: t\nid: x\nlogsource: {product: cisco, service: aaa}\n"
      "detection: {s: {a: 1}, condition: s}\n");
  EXPECT_EQ(r.set->size(), 0u);
  EXPECT_TRUE(r.report.rejected.empty());
  EXPECT_EQ(r.report.out_of_scope, 1u);
}

TEST(RuleLoader, CollectionGlobalRepeatReset) {
  const char* text =
      "action: global\ntitle: Collection\nlevel: high\n"
      "logsource: {product: windows, service: security}\n"
      "detection:\n  condition: sel\n"
      "---\nid: c1\ndetection:\n  sel:\n    EventID: 4720\n"
      "---\naction: repeat\nid: c2\ndetection:\n  sel:\n    EventID: 4726\n"
      "---\naction: reset\n"
      "---\ntitle: Standalone\nid: c3\nlogsource: {product: windows, service: system}\n"
      "detection:\n  sel:\n    EventID: 7045\n  condition: sel\n";
  auto r = load(text);
  ASSERT_EQ(r.set->size(), 3u) << r.rejection();
  EXPECT_EQ(r.set->rule(0).info.title, "Collection");
  EXPECT_EQ(r.set->rule(0).info.level, "high");
  EXPECT_EQ(r.set->rule(1).info.id, "c2");
  EXPECT_EQ(r.set->rule(1).info.title, "Collection");
  EXPECT_EQ(r.set->rule(2).info.level, "");  // reset: no global level any more
  EXPECT_EQ(r.matches(makeEvent("Security", 4720, {})), 1u);
  EXPECT_EQ(r.matches(makeEvent("Security", 4726, {})), 1u);
  EXPECT_EQ(r.matches(makeEvent("Security", 4725, {})), 0u);
  EXPECT_EQ(r.matches(makeEvent("System", 7045, {})), 1u);
}

TEST(RuleLoader, YamlBombIsRejected) {
  std::string bomb = "title: bomb\nid: bomb\na: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = c;
  }
  bomb += "logsource: {product: windows}\ndetection: {s: {a: 1}, condition: s}\n";
  auto r = load(bomb);
  EXPECT_EQ(r.set->size(), 0u);
  ASSERT_EQ(r.report.rejected.size(), 1u);
  EXPECT_EQ(r.report.rejected[0].kind, "limit exceeded");
}

TEST(RuleLoader, DeepNestingIsRejected) {
  std::string deep = "title: deep\nid: deep\nx: " + std::string(100, '[') + std::string(100, ']') +
                     "\nlogsource: {product: windows}\ndetection: {s: {a: 1}, condition: s}\n";
  auto r = load(deep);
  EXPECT_EQ(r.set->size(), 0u);
  ASSERT_EQ(r.report.rejected.size(), 1u);
  EXPECT_NE(r.report.rejected[0].message.find("nesting"), std::string::npos);
  // Far beyond yaml-cpp's own recursion guard: still an error, not a crash.
  std::string deeper = "x: " + std::string(100000, '[');
  auto r2 = load(deeper);
  EXPECT_EQ(r2.report.rejected.size(), 1u);
}

TEST(RuleLoader, HugeFileAndTooManyValuesAreRejected) {
  RuleLimits limits;
  std::string big(limits.max_file_bytes + 1, '#');
  auto r = load(big);
  ASSERT_EQ(r.report.rejected.size(), 1u);
  EXPECT_EQ(r.report.rejected[0].kind, "file too large");

  std::string many = procRule("    sel:\n      CommandLine|windash|contains:\n");
  for (int i = 0; i < 300; ++i) many += "        - ' -a" + std::to_string(i) + " -b -c -d'\n";
  many += "    condition: sel\n";
  auto r2 = load(many);
  EXPECT_EQ(r2.set->size(), 0u);
  ASSERT_EQ(r2.report.rejected.size(), 1u);
  EXPECT_EQ(r2.report.rejected[0].kind, "limit exceeded");
}

TEST(RuleLoader, HugeOneOfIsBounded) {
  std::string text = procRule("");
  for (int i = 0; i < 300; ++i)
    text += "    sel_" + std::to_string(i) + ":\n      CommandLine: 'x" + std::to_string(i) + "'\n";
  text += "    condition: ";
  for (int i = 0; i < 10; ++i) text += std::string(i ? " and " : "") + "1 of sel_*";
  text += "\n";
  auto r = load(text);
  EXPECT_EQ(r.set->size(), 0u);
  ASSERT_EQ(r.report.rejected.size(), 1u);
  EXPECT_EQ(r.report.rejected[0].kind, "limit exceeded");
}

}  // namespace
}  // namespace t0w::testing
