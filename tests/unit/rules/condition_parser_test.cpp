#include "agent/rules/condition_parser.h"

#include <gtest/gtest.h>

#include "tests/unit/rules/rule_test_support.h"

namespace t0w {
namespace {

using K = ConditionNode::Kind;

TEST(ConditionParser, PrecedenceNotAndOr) {
  auto r = parseCondition("a or b and not c", RuleLimits{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->kind, K::kOr);
  ASSERT_EQ(r->children.size(), 2u);
  EXPECT_EQ(r->children[0].name, "a");
  ASSERT_EQ(r->children[1].kind, K::kAnd);
  EXPECT_EQ(r->children[1].children[1].kind, K::kNot);
}

TEST(ConditionParser, ParenthesesAndQuantifiers) {
  auto r = parseCondition("(1 of sel_* or any of x*) and all of them and not 1 of filter*",
                          RuleLimits{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->kind, K::kAnd);
  EXPECT_EQ(r->children[0].kind, K::kOr);
  EXPECT_EQ(r->children[0].children[0].kind, K::kOneOf);
  EXPECT_EQ(r->children[0].children[1].kind, K::kOneOf);
  EXPECT_EQ(r->children[1].kind, K::kAllOf);
  EXPECT_EQ(r->children[1].name, "them");
  EXPECT_EQ(r->children[2].kind, K::kNot);
}

TEST(ConditionParser, KeywordsAreCaseInsensitive) {
  auto r = parseCondition("A AND NOT B", RuleLimits{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, K::kAnd);
}

TEST(ConditionParser, RejectsMalformed) {
  for (const char* bad : {"", "a and", "(a or b", "a b", "not", "1 of", "a )", "sel | count() > 5",
                          "a & b", "and a"}) {
    EXPECT_FALSE(parseCondition(bad, RuleLimits{}).ok()) << bad;
  }
}

TEST(ConditionParser, DepthAndSizeLimits) {
  std::string deep(200, '(');
  deep += "a";
  deep += std::string(200, ')');
  auto r = parseCondition(deep, RuleLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested deeper"), std::string::npos);
  std::string huge(10000, 'a');
  EXPECT_FALSE(parseCondition(huge, RuleLimits{}).ok());
}

TEST(ConditionParser, NamePatterns) {
  EXPECT_TRUE(matchNamePattern("sel_*", "sel_a"));
  EXPECT_TRUE(matchNamePattern("*", "anything"));
  EXPECT_TRUE(matchNamePattern("a*b*c", "axxbyyc"));
  EXPECT_FALSE(matchNamePattern("sel_*", "filter"));
  EXPECT_FALSE(matchNamePattern("a*b", "ac"));
}

}  // namespace
}  // namespace t0w
