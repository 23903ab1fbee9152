#include "collectors/evtx/libevtx_xml.h"

#include <gtest/gtest.h>

namespace t0w::evtx {
namespace {

TEST(UnpadHexValues, StripsLeadingZerosOfHexInt64AndHexInt32) {
  std::string xml =
      "<Data Name=\"SubjectLogonId\">0x00000000000003e7</Data>"
      "<Data Name=\"AccessMask\">0x00000100</Data>"
      "<Data Name=\"HandleId\">0x0000000000000000</Data>";
  EXPECT_EQ(unpadHexValues(xml), 3u);
  EXPECT_EQ(xml,
            "<Data Name=\"SubjectLogonId\">0x3e7</Data>"
            "<Data Name=\"AccessMask\">0x100</Data>"
            "<Data Name=\"HandleId\">0x0</Data>");
}

TEST(UnpadHexValues, LeavesOtherValuesAlone) {
  const std::string original =
      "<Keywords>0x8020000000000000</Keywords>"     // no leading zero
      "<Data Name=\"A\">0x0001</Data>"              // not 8 or 16 digits: a string
      "<Data Name=\"B\">0x00000100 </Data>"         // trailing text: a string
      "<Data Name=\"C\">0x000000000000000G</Data>"  // not hex
      "<Data Name=\"D\">0x00000000000000AB</Data>"  // upper case: not libevtx's rendering
      "<Data Name=\"E\">x0x00000100</Data>"
      "<Data Name=\"F\">0x00000100";  // unterminated
  std::string xml = original;
  EXPECT_EQ(unpadHexValues(xml), 0u);
  EXPECT_EQ(xml, original);
}

TEST(UnpadHexValues, HandlesValuesAtTheEdges) {
  std::string xml = ">0x00000001<>0x0000000a<";
  EXPECT_EQ(unpadHexValues(xml), 2u);
  EXPECT_EQ(xml, ">0x1<>0xa<");
  std::string empty;
  EXPECT_EQ(unpadHexValues(empty), 0u);
}

}  // namespace
}  // namespace t0w::evtx
