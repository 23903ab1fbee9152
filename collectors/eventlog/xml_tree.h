// XmlTree: an XML document as the event parser reads it (elements, their attributes and text),
// and scanSimpleXml, which builds one straight from the bytes of the usual rendered event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace t0w {

// Views into the buffer the document was parsed from (so valid as long as it is), or into the
// tree's own copy of text that had to be decoded. Filled anew for every event; its vectors keep
// their capacity.
class XmlTree {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  struct Node {
    std::string_view name;   // qualified element name ("e:Event"); empty for text
    std::string_view local;  // without the namespace prefix ("Event"), found once here
    std::string_view text;   // text nodes: entities decoded, line ends normalised
    uint32_t parent = kNone;
    uint32_t first_child = kNone;
    uint32_t last_child = kNone;
    uint32_t next_sibling = kNone;
    uint32_t attr_begin = 0;  // attribute(attr_begin) .. attribute(attr_end - 1)
    uint32_t attr_end = 0;
    bool element = false;
  };
  struct Attribute {
    std::string_view name;   // qualified ("xmlns:e")
    std::string_view local;  // without the prefix ("e")
    std::string_view value;
  };

  void clear();
  // The first top-level element (the document element), kNone when there is none.
  uint32_t root() const { return root_; }
  const Node& node(uint32_t i) const { return nodes_[i]; }
  const Attribute& attribute(uint32_t i) const { return attributes_[i]; }

  // Building in document order; parent kNone is the top level. An element's attributes must
  // be added right after it, before any other node. `local` is `name` without its prefix
  // (xmlLocalName), passed in because a scanner finds it while reading the name.
  uint32_t addElement(uint32_t parent, std::string_view name, std::string_view local);
  void addAttribute(uint32_t element, std::string_view name, std::string_view local,
                    std::string_view value);
  void addText(uint32_t parent, std::string_view text);
  // Where a builder puts decoded text: reserved by it to the input's size before the first
  // append, so that it never moves while the tree holds views into it.
  std::string& decoded() { return decoded_; }

 private:
  Node& add(uint32_t parent);

  std::vector<Node> nodes_;
  std::vector<Attribute> attributes_;
  std::string decoded_;
  uint32_t root_ = kNone;
};

// Inline: the scan adds a few dozen nodes per event, and a call each cost more than the work.
inline XmlTree::Node& XmlTree::add(uint32_t parent) {
  const auto id = static_cast<uint32_t>(nodes_.size());
  Node& node = nodes_.emplace_back();  // filled in place: no Node built and copied
  node.parent = parent;
  if (parent != kNone) {
    Node& p = nodes_[parent];
    if (p.last_child == kNone) {
      p.first_child = id;
    } else {
      nodes_[p.last_child].next_sibling = id;
    }
    p.last_child = id;
  }
  return node;
}

inline uint32_t XmlTree::addElement(uint32_t parent, std::string_view name,
                                    std::string_view local) {
  const auto id = static_cast<uint32_t>(nodes_.size());
  Node& node = add(parent);
  node.name = name;
  node.local = local;
  node.element = true;
  node.attr_begin = node.attr_end = static_cast<uint32_t>(attributes_.size());
  if (parent == kNone && root_ == kNone) root_ = id;
  return id;
}

inline void XmlTree::addAttribute(uint32_t element, std::string_view name, std::string_view local,
                                  std::string_view value) {
  attributes_.push_back(Attribute{name, local, value});
  nodes_[element].attr_end = static_cast<uint32_t>(attributes_.size());
}

inline void XmlTree::addText(uint32_t parent, std::string_view text) { add(parent).text = text; }

// A name without its namespace prefix ("e:Event" → "Event").
std::string_view xmlLocalName(std::string_view name);

// Builds `tree` from `xml` (left unchanged) and returns true when the document uses only what
// rendered events use: elements, attributes, text, the five predefined entities and a leading
// <?xml ...?> declaration, without CR or NUL bytes and with nothing after the document
// element. The tree is then the one pugixml would build with the event parser's options.
// Anything else, malformed input included, returns false: the caller hands the input to
// pugixml, which reads the rest of XML and names the errors.
bool scanSimpleXml(std::string_view xml, XmlTree& tree);

// The same scan for one element in a stream: `xml` starts at the element's '<' and may go on
// past its end (that part is not read). Returns the element's length when scanSimpleXml would
// take the element alone, with the same tree; 0 when it would not, or may not (the element
// does not end within `xml`, or decodes to more than the scan keeps for an element).
size_t scanSimpleElement(std::string_view xml, XmlTree& tree);

}  // namespace t0w
