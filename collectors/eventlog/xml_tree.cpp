#include "collectors/eventlog/xml_tree.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "collectors/eventlog/xml_bytes.h"

namespace t0w {

// A rare huge event must not pin its tree's memory (real events have a few dozen nodes).
constexpr size_t kKeepNodes = 1024;
constexpr size_t kKeepDecodedBytes = 256 * 1024;

void XmlTree::clear() {
  if (nodes_.capacity() > kKeepNodes) std::vector<Node>().swap(nodes_);
  if (attributes_.capacity() > kKeepNodes) std::vector<Attribute>().swap(attributes_);
  if (decoded_.capacity() > kKeepDecodedBytes) std::string().swap(decoded_);
  decoded_.clear();
  nodes_.clear();
  attributes_.clear();
  root_ = kNone;
}

std::string_view xmlLocalName(std::string_view name) {
  const size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

namespace {

// Character classes, looked up rather than compared: most of the input goes through them.
enum : uint8_t {
  kSpace = 1,        // without CR, which goes to pugixml (it normalises line ends)
  kNameStart = 2,    // ASCII only: other names (pugixml also takes bytes from 0x80) go to pugixml
  kAttrSpecial = 8,  // what makes an attribute value differ from its bytes, or go to pugixml
  kAmp = 16,
  kLt = 32,
  kRefused = 64,  // CR and NUL: pugixml's business wherever they are
};

constexpr std::array<uint8_t, 256> kClass = [] {
  std::array<uint8_t, 256> t{};
  for (unsigned char c : {' ', '\t', '\n'}) t[c] |= kSpace;
  for (int c = 0; c < 256; ++c) {
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (letter || c == '_' || c == ':') t[c] |= kNameStart;
  }
  for (unsigned char c : {'&', '<', '\t', '\n'}) t[c] |= kAttrSpecial;
  t['&'] |= kAmp;
  t['<'] |= kLt;
  t['\r'] |= kRefused;
  t[0] |= kRefused;
  return t;
}();

uint8_t classOf(char c) { return kClass[static_cast<unsigned char>(c)]; }

// [a, a + n) == [b, b + n), inline: end tags repeat names of a few bytes.
inline uint32_t load4(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

bool sameBytes(const char* a, const char* b, size_t n) {
  if (n >= 4 && n <= 8) {  // most names: their first and last four bytes (overlapping)
    return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
  }
  for (; n >= 8; n -= 8, a += 8, b += 8) {
    if (xml_bytes::load8(a) != xml_bytes::load8(b)) return false;
  }
  for (; n > 0; --n) {
    if (*a++ != *b++) return false;
  }
  return true;
}
bool has(char c, uint8_t cls) { return (classOf(c) & cls) != 0; }
bool isSpace(char c) { return has(c, kSpace); }

// The scan of one document: positions in [p_, end_), building tree_.
class SimpleScanner {
 public:
  // `decoded_bytes`: what decoded text may take in the tree; at least the input's size when it
  // is one document, less for an element in a large buffer (the scan then refuses beyond it).
  SimpleScanner(std::string_view xml, XmlTree& tree, size_t decoded_bytes)
      : p_(xml.data()), end_(xml.data() + xml.size()), decoded_bytes_(decoded_bytes), tree_(tree) {}

  // The whole input as one document.
  bool scanDocument() {
    skipSpace();
    if (startsWith("<?xml") && p_ + 5 < end_ && isSpace(p_[5])) {
      const char* close = find("?>", p_ + 5);
      if (close == nullptr) return false;
      for (const char* q = p_; q != close; ++q) {
        if (has(*q, kRefused)) return false;
      }
      p_ = close + 2;
      skipSpace();
    }
    if (!scanElement()) return false;
    skipSpace();
    return p_ == end_;
  }

  // One element from its '<' (at p_); leaves p_ after its end.
  bool scanElement() {
    if (p_ == end_ || *p_ != '<') return false;
    uint32_t current = XmlTree::kNone;  // the open element
    for (;;) {
      // At a '<'.
      ++p_;
      if (p_ == end_) return false;
      if (*p_ == '/') {
        if (current == XmlTree::kNone || !endTag(tree_.node(current).name)) return false;
        current = tree_.node(current).parent;
      } else {
        bool self_closed = false;
        const uint32_t id = startTag(current, self_closed);
        if (id == XmlTree::kNone) return false;
        if (!self_closed) current = id;
      }
      if (current == XmlTree::kNone) return true;  // the element is complete
      if (!text(current)) return false;
    }
  }

  const char* position() const { return p_; }

 private:
  bool startsWith(std::string_view s) const {
    return static_cast<size_t>(end_ - p_) >= s.size() && std::memcmp(p_, s.data(), s.size()) == 0;
  }
  const char* find(std::string_view s, const char* from) const {
    std::string_view rest(from, static_cast<size_t>(end_ - from));
    const size_t at = rest.find(s);
    return at == std::string_view::npos ? nullptr : from + at;
  }
  // The loops below move a local pointer and store p_ once: a char read may alias p_ itself,
  // so a loop on p_ would store it at every byte.
  bool skipSpace() {
    const char* q = p_;
    while (q != end_ && isSpace(*q)) ++q;
    const bool moved = q != p_;
    p_ = q;
    return moved;
  }
  // A name and, in `local`, its part after the last ':'.
  std::string_view name(std::string_view& local) {
    if (p_ == end_ || !has(*p_, kNameStart)) return {};
    const char* const start = p_;
    bool colon = false;
    const char* const q = xml_bytes::nameEnd(p_, end_, colon);
    p_ = q;
    const char* local_start = start;
    if (colon) {
      local_start = q;
      while (local_start[-1] != ':') --local_start;
    }
    local = std::string_view(local_start, static_cast<size_t>(q - local_start));
    return std::string_view(start, static_cast<size_t>(q - start));
  }

  // After "</": the open element's name, optional spaces, '>'.
  bool endTag(std::string_view open) {
    ++p_;
    if (static_cast<size_t>(end_ - p_) < open.size() || !sameBytes(p_, open.data(), open.size())) {
      return false;
    }
    p_ += open.size();
    skipSpace();
    if (p_ == end_ || *p_ != '>') return false;
    ++p_;
    return true;
  }

  // After '<': name, attributes, '>' or "/>". kNone when it is anything else.
  uint32_t startTag(uint32_t parent, bool& self_closed) {
    uint32_t id = XmlTree::kNone;
    const size_t quote_at = kDataName.size();
    if (static_cast<size_t>(end_ - p_) > quote_at &&
        (p_[quote_at] == '\'' || p_[quote_at] == '"') &&
        std::memcmp(p_, kDataName.data(), kDataName.size()) == 0) {
      // Every field of EventData starts so: its two names are known without scanning them,
      // and the tag goes on at the value, as the loop below would read it.
      const std::string_view data(p_, 4);
      const std::string_view attr(p_ + 5, 4);
      id = tree_.addElement(parent, data, data);
      p_ += kDataName.size();
      if (!attributeValue(id, attr, attr)) return XmlTree::kNone;
    } else {
      std::string_view local;
      const std::string_view element = name(local);
      if (element.empty()) return XmlTree::kNone;  // also "<!" and "<?"
      id = tree_.addElement(parent, element, local);
    }
    for (;;) {
      if (p_ != end_ && *p_ == '>') {  // most tags end right after their name or last value
        ++p_;
        return id;
      }
      const bool spaced = skipSpace();
      if (p_ == end_) return XmlTree::kNone;
      if (*p_ == '>') {
        ++p_;
        return id;
      }
      if (*p_ == '/') {
        if (p_ + 1 == end_ || p_[1] != '>') return XmlTree::kNone;
        p_ += 2;
        self_closed = true;
        return id;
      }
      if (!spaced) return XmlTree::kNone;
      std::string_view local;
      const std::string_view attr = name(local);
      if (attr.empty()) return XmlTree::kNone;
      skipSpace();
      if (p_ == end_ || *p_ != '=') return XmlTree::kNone;
      ++p_;
      skipSpace();
      if (!attributeValue(id, attr, local)) return XmlTree::kNone;
    }
  }

  // From the opening quote of an attribute's value to after its closing one.
  bool attributeValue(uint32_t element, std::string_view attr, std::string_view local) {
    if (p_ == end_ || (*p_ != '"' && *p_ != '\'')) return false;
    const char quote = *p_++;
    // To the quote or the first byte to look at; from there, if it is not the quote, a loop
    // that collects the character classes of the rest.
    const char* close = xml_bytes::findMarkup(p_, end_, quote);
    uint8_t seen = 0;
    while (close != end_ && *close != quote) seen |= classOf(*close++);
    if (close == end_ || (seen & kRefused)) return false;
    std::string_view value(p_, static_cast<size_t>(close - p_));
    if ((seen & kAttrSpecial) && !decode(p_, close, true, value)) return false;
    tree_.addAttribute(element, attr, local, value);
    p_ = close + 1;
    return true;
  }

  // From after a tag to the next '<': a text node, kept as pugixml keeps it with
  // parse_ws_pcdata_single (whitespace alone only as the sole content of an element).
  bool text(uint32_t parent) {
    if (p_ != end_ && *p_ == '<') return p_ + 1 != end_;  // usual between tags: no text at all
    const char* lt = p_;
    uint8_t seen = 0;
    bool blank = true;
    if (lt != end_ && !isSpace(*lt)) {  // not blank: straight to the first byte that matters
      blank = false;
      lt = xml_bytes::findMarkup(lt, end_, '<');
    }
    for (; lt != end_; ++lt) {
      const uint8_t c = classOf(*lt);
      if (c & kLt) break;
      seen |= c;
      blank = blank && (c & kSpace);
    }
    if (lt == end_ || lt + 1 == end_) return false;  // input ends inside an element
    if (seen & kRefused) return false;
    if (lt != p_) {
      if (!blank) {
        std::string_view value(p_, static_cast<size_t>(lt - p_));
        if ((seen & kAmp) && !decode(p_, lt, false, value)) return false;
        tree_.addText(parent, value);
      } else if (lt[1] == '/' && tree_.node(parent).first_child == XmlTree::kNone) {
        tree_.addText(parent, std::string_view(p_, static_cast<size_t>(lt - p_)));
      }
    }
    p_ = lt;
    return true;
  }

  // [b, e) as pugixml reads it: the five predefined entities decoded and, in attribute values,
  // tab and line feed made spaces (parse_wconv_attribute). Text that changes is copied into
  // the tree's decoded() (the input stays as it was, for pugixml if the scan gives up). False
  // for what pugixml reads otherwise: other references (numeric, unknown, unterminated), '<' in
  // an attribute value.
  bool decode(const char* b, const char* e, bool attribute, std::string_view& out) {
    const char* r = b;
    const uint8_t special = attribute ? kAttrSpecial : kAmp;
    while (r != e && !has(*r, special)) ++r;
    std::string& w = tree_.decoded();
    if (w.capacity() < decoded_bytes_) w.reserve(decoded_bytes_);  // before any view into it
    // The decoded text is no longer than [b, e); it must fit without moving the views.
    if (w.capacity() - w.size() < static_cast<size_t>(e - b)) return false;
    const size_t start = w.size();
    w.append(b, r);
    while (r != e) {
      const char c = *r;
      if (c == '&') {
        const std::string_view rest(r, static_cast<size_t>(e - r));
        char decoded = 0;
        size_t len = 0;
        for (const auto& [entity, ch] : kEntities) {
          if (rest.substr(0, entity.size()) == entity) {
            decoded = ch;
            len = entity.size();
            break;
          }
        }
        if (len == 0) return false;
        w.push_back(decoded);
        r += len;
        continue;
      }
      if (attribute) {
        if (c == '<') return false;
        w.push_back(c == '\t' || c == '\n' ? ' ' : c);
      } else {
        w.push_back(c);
      }
      ++r;
    }
    out = std::string_view(w.data() + start, w.size() - start);
    return true;
  }

  // After '<': the start of the usual EventData field, <Data Name='...'>.
  static constexpr std::string_view kDataName = "Data Name=";

  struct Entity {
    std::string_view text;
    char ch;
  };
  static constexpr Entity kEntities[] = {
      {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};

  const char* p_;
  const char* const end_;
  const size_t decoded_bytes_;
  XmlTree& tree_;
};

// Decoded text an element in a stream may have before the scan leaves it to the caller: more
// than a Windows event holds (64 KiB), far less than a read buffer.
constexpr size_t kElementDecodedBytes = 128 * 1024;

}  // namespace

bool scanSimpleXml(std::string_view xml, XmlTree& tree) {
  tree.clear();
  if (xml.empty()) return false;
  return SimpleScanner(xml, tree, xml.size()).scanDocument();
}

size_t scanSimpleElement(std::string_view xml, XmlTree& tree) {
  tree.clear();
  SimpleScanner scanner(xml, tree, std::min(xml.size(), kElementDecodedBytes));
  if (!scanner.scanElement()) return 0;
  return static_cast<size_t>(scanner.position() - xml.data());
}

}  // namespace t0w
