#include "collectors/eventlog/xml_tree.h"

#include <gtest/gtest.h>

#include <string>

namespace t0w {
namespace {

TEST(XmlTree, ScanBuildsElementsAttributesAndText) {
  const std::string xml =
      "<?xml version=\"1.0\"?>\n<e:Event a=\"1\" b='x &amp; y'>\n  <C>t &lt;1&gt;</C>\n"
      "  <D> </D><E/>\n</e:Event>\n";
  XmlTree tree;
  ASSERT_TRUE(scanSimpleXml(xml, tree));
  const XmlTree::Node& root = tree.node(tree.root());
  EXPECT_EQ(root.name, "e:Event");
  ASSERT_EQ(root.attr_end - root.attr_begin, 2u);
  EXPECT_EQ(tree.attribute(root.attr_begin).value, "1");
  EXPECT_EQ(tree.attribute(root.attr_begin + 1).value, "x & y");
  // The indentation between elements is no node; a blank sole content is.
  const XmlTree::Node& c = tree.node(root.first_child);
  EXPECT_EQ(c.name, "C");
  EXPECT_EQ(tree.node(c.first_child).text, "t <1>");
  const XmlTree::Node& d = tree.node(c.next_sibling);
  EXPECT_EQ(tree.node(d.first_child).text, " ");
  const XmlTree::Node& e = tree.node(d.next_sibling);
  EXPECT_EQ(e.name, "E");
  EXPECT_EQ(e.first_child, XmlTree::kNone);
  EXPECT_EQ(e.next_sibling, XmlTree::kNone);
}

TEST(XmlTree, ScanLeavesItsInputUnchanged) {
  const std::string xml = "<Event a=\"&amp;\tb\"><D>&lt;&amp;</D></Event>";
  const std::string copy = xml;
  XmlTree tree;
  ASSERT_TRUE(scanSimpleXml(xml, tree));
  EXPECT_EQ(xml, copy);
  EXPECT_EQ(tree.attribute(0).value, "& b");
}

TEST(XmlTree, ScanLeavesTheRestOfXmlToPugixml) {
  XmlTree tree;
  for (const char* xml :
       {"<Event><![CDATA[x]]></Event>", "<Event><!-- c --></Event>", "<Event>&#65;</Event>",
        "<Event>&nbsp;</Event>", "<Event>\r\n</Event>", "<Event><D></Event>",
        "<Event></Event><Event/>", "<Event/>x", "<Event>", "<Event a=b/>", "<Event a=\"<\"/>",
        "<\xC3\xA9/>", "\xEF\xBB\xBF<Event/>", "<?pi?><Event/>", "", "text"}) {
    EXPECT_FALSE(scanSimpleXml(xml, tree)) << xml;
  }
}

TEST(XmlTree, ClearDropsTheDocument) {
  XmlTree tree;
  ASSERT_TRUE(scanSimpleXml("<A><B/></A>", tree));
  tree.clear();
  EXPECT_EQ(tree.root(), XmlTree::kNone);
  ASSERT_TRUE(scanSimpleXml("<C/>", tree));
  EXPECT_EQ(tree.node(tree.root()).name, "C");
  EXPECT_EQ(tree.node(tree.root()).first_child, XmlTree::kNone);
}

}  // namespace
}  // namespace t0w
