#include "collectors/eventlog/xml_tree.h"

#include <gtest/gtest.h>

#include <random>
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

// The tree as text, to compare two trees.
std::string dump(const XmlTree& tree, uint32_t n) {
  const XmlTree::Node& node = tree.node(n);
  std::string out = node.element ? "<" + std::string(node.name) + "|" + std::string(node.local)
                                 : "'" + std::string(node.text) + "'";
  for (uint32_t a = node.attr_begin; a < node.attr_end; ++a) {
    const XmlTree::Attribute& attr = tree.attribute(a);
    out += " " + std::string(attr.name) + "|" + std::string(attr.local) + "=" +
           std::string(attr.value);
  }
  for (uint32_t c = node.first_child; c != XmlTree::kNone; c = tree.node(c).next_sibling) {
    out += dump(tree, c);
  }
  return out + ">";
}

TEST(XmlTree, ScanElementTakesOneElementOfAStream) {
  const std::string first = "<e:Event a=\"&amp;\tb\"><D> </D><D>&lt;x</D>\n</e:Event>";
  const std::string stream = first + "\n<Event/><!-- not read -->&";
  XmlTree tree;
  ASSERT_EQ(scanSimpleElement(stream, tree), first.size());
  const std::string scanned = dump(tree, tree.root());
  ASSERT_TRUE(scanSimpleXml(first, tree));
  EXPECT_EQ(scanned, dump(tree, tree.root()));
  // Cut anywhere, the element is not taken.
  for (size_t cut = 0; cut < first.size(); ++cut) {
    EXPECT_EQ(scanSimpleElement(first.substr(0, cut), tree), 0u) << cut;
  }
  for (const char* xml : {"<Event><![CDATA[x]]></Event>", "<Event><!-- c --></Event>",
                          "<Event>\r\n</Event>", "<Event>&#65;</Event>", " <Event/>",
                          "<?xml version=\"1.0\"?><Event/>", "</Event>", "<!DOCTYPE x>"}) {
    EXPECT_EQ(scanSimpleElement(xml, tree), 0u) << xml;
  }
}

// <Data Name=' starts most elements of an event: the scan takes its two names without reading
// them, and gives the tree it gives for the same tag read name by name (here with a second
// attribute, whose name is read). A stream cut anywhere inside, the quote included, is not taken.
TEST(XmlTree, DataFieldsGiveTheTreeOfTheirTagReadNameByName) {
  const std::string first =
      "<EventData><Data Name='A'>1</Data><Data Name=\"B&amp;\" C='x'>2</Data>"
      "<Data Name='' /></EventData>";
  const std::string stream = first + "<Data Name='";  // the tree views into it
  XmlTree tree;
  ASSERT_EQ(scanSimpleElement(stream, tree), first.size());
  EXPECT_EQ(dump(tree, tree.root()),
            "<EventData|EventData<Data|Data Name|Name=A'1'>><Data|Data Name|Name=B& C|C=x'2'>>"
            "<Data|Data Name|Name=>>");
  for (size_t cut = 0; cut < first.size(); ++cut) {
    EXPECT_EQ(scanSimpleElement(first.substr(0, cut), tree), 0u) << cut;
  }
}

// In a large buffer the scan keeps a bounded room for decoded text: an element that needs more
// is left to the caller, which reads it alone (the same tree as before).
TEST(XmlTree, ScanElementLeavesHugeDecodedTextToTheCaller) {
  std::string big = "<Event><D>";
  for (int i = 0; i < 40000; ++i) big += "&amp;&lt;";
  big += "</D></Event>";
  XmlTree tree;
  const std::string buffer = big + std::string(1 << 20, ' ');
  EXPECT_EQ(scanSimpleElement(buffer, tree), 0u);
  EXPECT_TRUE(scanSimpleXml(big, tree));
  EXPECT_EQ(tree.node(tree.node(tree.root()).first_child).name, "D");
}

// Whatever scanSimpleElement takes from a stream, scanSimpleXml takes alone, with the same tree.
TEST(XmlTree, ScanElementAgreesWithScanOnDamagedInput) {
  const std::string base =
      "<Event xmlns=\"urn:x\"><System><Provider Name='A&amp;B'/><EventID>1</EventID></System>"
      "<EventData><Data Name=\"x\">a &gt; b</Data><Data>\t</Data></EventData></Event>";
  const std::string markup = "<>/=\"'&;\r\n\t :E";
  std::mt19937 rng(99);
  XmlTree tree;
  size_t taken = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string xml = base;
    for (int k = 0; k < 2; ++k) {
      const size_t at = rng() % xml.size();
      const char c = markup[rng() % markup.size()];
      if (rng() % 2) {
        xml[at] = c;
      } else {
        xml.insert(at, 1, c);
      }
    }
    const std::string stream = xml + "<Event/>";  // the tree views into it
    const size_t n = scanSimpleElement(stream, tree);
    if (n == 0) continue;
    ++taken;
    const std::string scanned = dump(tree, tree.root());
    const std::string alone = xml.substr(0, n);
    ASSERT_TRUE(scanSimpleXml(alone, tree)) << xml;
    EXPECT_EQ(scanned, dump(tree, tree.root())) << xml;
  }
  EXPECT_GT(taken, 100u);
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
