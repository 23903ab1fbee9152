#include "common/text/xml_escape.h"

#include <gtest/gtest.h>

namespace t0w {
namespace {

TEST(XmlEscapeTest, EscapesThePredefinedEntitiesOnly) {
  EXPECT_EQ(xmlEscape(R"(a<b>&"c'd)"), "a&lt;b&gt;&amp;&quot;c&apos;d");
  EXPECT_EQ(xmlEscape("Microsoft-Windows-Security-Auditing/Ü"),
            "Microsoft-Windows-Security-Auditing/Ü");
  EXPECT_EQ(xmlEscape(""), "");
}

}  // namespace
}  // namespace t0w
