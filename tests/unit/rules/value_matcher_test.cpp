#include "agent/rules/value_matcher.h"

#include <gtest/gtest.h>

namespace t0w {
namespace {

ValueMatcher str(const char* raw, bool cased = false) {
  return ValueMatcher::fromString(SigmaString::parse(raw), cased);
}

TEST(ValueMatcher, CompilesToCheapestTest) {
  EXPECT_EQ(str("abc").kind(), ValueMatcher::Kind::kExact);
  EXPECT_EQ(str("abc*").kind(), ValueMatcher::Kind::kPrefix);
  EXPECT_EQ(str("*abc").kind(), ValueMatcher::Kind::kSuffix);
  EXPECT_EQ(str("*abc*").kind(), ValueMatcher::Kind::kContains);
  EXPECT_EQ(str("a*c").kind(), ValueMatcher::Kind::kGlob);
  EXPECT_EQ(str("*a?c").kind(), ValueMatcher::Kind::kGlob);
  EXPECT_EQ(str("a\\*c").kind(), ValueMatcher::Kind::kExact);  // escaped star is literal
}

TEST(ValueMatcher, CaseInsensitiveByDefault) {
  EXPECT_TRUE(str("C:\\Windows\\cmd.exe").match("c:\\windows\\CMD.EXE"));
  EXPECT_FALSE(str("cmd.exe").match("cmd.ex"));
  EXPECT_TRUE(str("*\\CMD.exe").match("C:\\x\\cmd.EXE"));
  EXPECT_FALSE(str("*\\cmd.exe").match("C:\\x\\xcmd.exe.bak"));
  EXPECT_TRUE(str("POWERSHELL*").match("powershell.exe"));
  EXPECT_TRUE(str("*Invoke-Mimikatz*").match("x; invoke-mimikatz -dump"));
  EXPECT_FALSE(str("*Invoke-Mimikatz*").match("invoke-mimi"));
}

TEST(ValueMatcher, CasedIsExact) {
  EXPECT_TRUE(str("*Secret*", true).match("TopSecret1"));
  EXPECT_FALSE(str("*Secret*", true).match("topsecret1"));
  EXPECT_FALSE(str("ABC", true).match("abc"));
}

TEST(ValueMatcher, WildcardsAndEscapes) {
  EXPECT_TRUE(str("a?c").match("abc"));
  EXPECT_FALSE(str("a?c").match("ac"));
  EXPECT_TRUE(str("a*c*e").match("aXXcYYe"));
  EXPECT_FALSE(str("a*c*e").match("aXXcYY"));
  EXPECT_TRUE(str("a\\*c").match("a*c"));
  EXPECT_FALSE(str("a\\*c").match("abc"));
  EXPECT_TRUE(str("a\\?c").match("a?c"));
  EXPECT_FALSE(str("a\\?c").match("abc"));
  EXPECT_TRUE(str("a\\\\*").match("a\\anything"));  // `\\` is one backslash, then a wildcard
  EXPECT_FALSE(str("a\\\\*").match("ab"));
  EXPECT_TRUE(str("C:\\Temp\\").match("c:\\temp\\"));  // lone backslashes stay literal
  EXPECT_TRUE(str("*").match(""));
}

TEST(ValueMatcher, Regex) {
  auto r = ValueMatcher::regex("^cmd\\.exe /c .*whoami", false, false, false, 1 << 20, 20000);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->match("cmd.exe /c echo & whoami"));
  EXPECT_FALSE(r->match("CMD.EXE /c whoami"));  // regexes are case-sensitive unless |i
  auto ri = ValueMatcher::regex("^cmd\\.exe", true, false, false, 1 << 20, 20000);
  ASSERT_TRUE(ri.ok());
  EXPECT_TRUE(ri->match("CMD.EXE"));
  auto rm = ValueMatcher::regex("^second$", false, true, false, 1 << 20, 20000);
  ASSERT_TRUE(rm.ok());
  EXPECT_TRUE(rm->match("first\nsecond\nthird"));
  auto no_m = ValueMatcher::regex("^second$", false, false, false, 1 << 20, 20000);
  EXPECT_FALSE(no_m->match("first\nsecond\nthird"));
  auto rs = ValueMatcher::regex("a.b", false, false, true, 1 << 20, 20000);
  EXPECT_TRUE(rs->match("a\nb"));
  auto no_s = ValueMatcher::regex("a.b", false, false, false, 1 << 20, 20000);
  EXPECT_FALSE(no_s->match("a\nb"));
}

TEST(ValueMatcher, RegexRE2CannotRunIsAnError) {
  auto backref = ValueMatcher::regex("(a)\\1", false, false, false, 1 << 20, 20000);
  ASSERT_FALSE(backref.ok());
  EXPECT_NE(backref.error().message.find("RE2"), std::string::npos);
  EXPECT_FALSE(ValueMatcher::regex("foo(?=bar)", false, false, false, 1 << 20, 20000).ok());
  EXPECT_FALSE(ValueMatcher::regex("(?<!x)y", false, false, false, 1 << 20, 20000).ok());
  // Program size limit.
  EXPECT_FALSE(
      ValueMatcher::regex("(abcdefghij|klmnopqrst){1000}", false, false, false, 1 << 20, 20000)
          .ok());
}

TEST(ValueMatcher, Cidr) {
  auto net = parseCidr("10.0.0.0/8");
  ASSERT_TRUE(net.ok());
  auto m = ValueMatcher::cidr(*net);
  EXPECT_TRUE(m.match("10.1.2.3"));
  EXPECT_TRUE(m.match("::ffff:10.1.2.3"));
  EXPECT_FALSE(m.match("11.1.2.3"));
  EXPECT_FALSE(m.match("not an ip"));
  EXPECT_FALSE(m.match("10.1.2"));
  auto v6 = parseCidr("fe80::/10");
  ASSERT_TRUE(v6.ok());
  auto m6 = ValueMatcher::cidr(*v6);
  EXPECT_TRUE(m6.match("fe80::1"));
  EXPECT_TRUE(m6.match("FEBF:0:0:0:0:0:0:1"));
  EXPECT_FALSE(m6.match("fec0::1"));
  EXPECT_FALSE(m6.match("10.0.0.1"));
  auto host = parseCidr("2001:db8::1");
  ASSERT_TRUE(host.ok());
  EXPECT_TRUE(ValueMatcher::cidr(*host).match("2001:0db8:0:0:0:0:0:1"));
  EXPECT_FALSE(ValueMatcher::cidr(*host).match("2001:db8::2"));
  EXPECT_FALSE(parseCidr("10.0.0.0/33").ok());
  EXPECT_FALSE(parseCidr("1:2:3::4::5/64").ok());
  EXPECT_FALSE(parseCidr("300.0.0.0/8").ok());
}

TEST(ValueMatcher, Numeric) {
  auto lt = ValueMatcher::numeric(ValueMatcher::Kind::kLt, 10);
  EXPECT_TRUE(lt.match("9"));
  EXPECT_FALSE(lt.match("10"));
  EXPECT_FALSE(lt.match("abc"));
  auto lte = ValueMatcher::numeric(ValueMatcher::Kind::kLte, 10);
  EXPECT_TRUE(lte.match("10"));
  EXPECT_FALSE(lte.match("10.5"));
  auto gt = ValueMatcher::numeric(ValueMatcher::Kind::kGt, 255);
  EXPECT_TRUE(gt.match("0x100"));
  EXPECT_FALSE(gt.match("0xff"));
  auto gte = ValueMatcher::numeric(ValueMatcher::Kind::kGte, 3);
  EXPECT_TRUE(gte.match("3"));
  EXPECT_FALSE(gte.match("2.99"));
}

TEST(ValueMatcher, BitAndNeedsEveryMaskBit) {
  // 4742 NewUacValue is SAM flags in hex; 5136 userAccountControl is LDAP flags in decimal.
  auto delegation = ValueMatcher::bitAnd(0x2000);
  EXPECT_TRUE(delegation.match("0x2080"));
  EXPECT_TRUE(delegation.match("0X2000"));
  EXPECT_FALSE(delegation.match("0x80"));
  EXPECT_TRUE(delegation.match("8320"));  // 0x2080 in decimal
  EXPECT_FALSE(delegation.match("-"));
  EXPECT_FALSE(delegation.match(""));
  EXPECT_FALSE(delegation.match("0x"));
  EXPECT_FALSE(delegation.match("12abc"));
  EXPECT_TRUE(delegation.match(" 0x2000 "));
  auto both = ValueMatcher::bitAnd(0x1000000 | 0x80000);
  EXPECT_TRUE(both.match("17305600"));               // 0x1080000 plus WORKSTATION_TRUST 0x1000
  EXPECT_FALSE(both.match("16781312"));              // 0x1001000: only one of the two bits
  EXPECT_FALSE(both.match("18446744073709551616"));  // beyond 64 bits
}

TEST(ValueMatcher, ParseFlagValue) {
  EXPECT_EQ(parseFlagValue("0x2080"), 0x2080u);
  EXPECT_EQ(parseFlagValue("528384"), 528384u);
  EXPECT_EQ(parseFlagValue("0xffffffffffffffff"), ~uint64_t{0});
  EXPECT_FALSE(parseFlagValue("-1"));
  EXPECT_FALSE(parseFlagValue("%%2093"));
  EXPECT_FALSE(parseFlagValue("   "));
}

TEST(ValueMatcher, ContainsFoldFindsLaterOccurrences) {
  EXPECT_TRUE(containsFold("aaaB aab", "aab"));
  EXPECT_TRUE(containsFold("xxAbC", "abc"));
  EXPECT_FALSE(containsFold("ab", "abc"));
  EXPECT_TRUE(containsFold("anything", ""));
}

}  // namespace
}  // namespace t0w
