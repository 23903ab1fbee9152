#include "agent/rules/literal_set.h"

#include <gtest/gtest.h>

#include <random>

#include "agent/rules/value_matcher.h"

namespace t0w {
namespace {

bool containsAnyOneByOne(std::string_view value, const std::vector<std::string>& literals) {
  for (const auto& l : literals)
    if (containsFold(value, l)) return true;
  return false;
}

TEST(LiteralSet, FindsAnyLiteralIgnoringAsciiCase) {
  LiteralSet set({"sekurlsa::", "lsadump::", "\\mimilib.dll", "kiwi"});
  EXPECT_TRUE(set.containsAny("mimikatz # SEKURLSA::logonpasswords"));
  EXPECT_TRUE(set.containsAny("LsaDump::sam"));
  EXPECT_TRUE(set.containsAny("C:\\Temp\\MIMILIB.DLL"));
  EXPECT_TRUE(set.containsAny("kiwi"));    // the whole value
  EXPECT_TRUE(set.containsAny("xxkiwi"));  // at the very end
  EXPECT_FALSE(set.containsAny("kiw"));
  EXPECT_FALSE(set.containsAny(""));
  EXPECT_FALSE(set.containsAny("sekurlsa:"));  // a literal cut by the end of the value
  EXPECT_FALSE(set.containsAny("lsadump:;"));
  // Bytes that only collide under the screen's 0x20 bit are no match: '[' vs '{', '@' vs '`'.
  LiteralSet punct({"a{b}", "x`yz"});
  EXPECT_FALSE(punct.containsAny("A[B]"));
  EXPECT_FALSE(punct.containsAny("x@yz"));
  EXPECT_TRUE(punct.containsAny("..A{B}.."));
}

TEST(LiteralSet, NonAsciiBytesCompareExactly) {
  LiteralSet set({"\xc3\xa9t\xc3\xa9", "caf\xc3\xa9"});  // "été", "café"
  EXPECT_TRUE(set.containsAny("un \xc3\xa9t\xc3\xa9 chaud"));
  EXPECT_TRUE(set.containsAny("CAF\xc3\xa9"));
  EXPECT_FALSE(set.containsAny("CAF\xc3\x89"));  // 'É' is not folded (ASCII only), as containsFold
}

// Random values and literals over a small alphabet (many near misses), against containsFold.
TEST(LiteralSet, AgreesWithOneSearchPerLiteral) {
  std::mt19937 rng(7);
  const std::string alphabet = "abAB:\\.[{ \xc3";
  auto text = [&](size_t min, size_t max) {
    std::string s(std::uniform_int_distribution<size_t>(min, max)(rng), ' ');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> literals;
    const size_t n = 1 + rng() % (round % 10 == 0 ? 3000 : 12);  // some sets fill the bitmap
    for (size_t i = 0; i < n; ++i) literals.push_back(lowerAscii(text(4, 9)));
    const LiteralSet set(literals);
    for (int v = 0; v < 50; ++v) {
      const std::string value = text(0, 40);
      ASSERT_EQ(set.containsAny(value), containsAnyOneByOne(value, literals))
          << "value '" << value << "', round " << round;
    }
  }
}

}  // namespace
}  // namespace t0w
