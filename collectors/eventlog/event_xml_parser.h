// The pure rendered-XML → Event parser: the XML that EvtRender(EvtRenderEventXml) produces,
// that libevtx produces for .evtx records, and that `wevtutil qe /f:xml` prints.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/core/event.h"
#include "collectors/eventlog/xml_tree.h"
#include "common/core/result.h"

namespace t0w {

struct XmlParseLimits {
  // Windows caps one event at 64 KiB of payload; rendered XML of a real event is far below 1 MiB.
  size_t max_event_bytes = 4 * 1024 * 1024;
  size_t max_fields = 4096;
  size_t max_depth = 32;
};

// Parses one <Event> element (a leading XML declaration and whitespace are allowed).
// Errors name the problem and, where known, the byte offset; they never throw.
//
// What comes out:
// - System fields as typed values; malformed numbers or times are errors naming the element.
// - EventData/Data in document order; unnamed Data elements are named "Data".
// - EventData/Binary decoded from hex.
// - UserData: the first element under <UserData> is Event::user_data_root; below it, leaf
//   elements become fields named by their path under the root ("SubjectUserSid",
//   "Parent.Child"), attributes become "Path@attr" (root attributes "Root@attr"; xmlns
//   declarations are skipped).
// - RenderingInfo (when present).
// Every string is valid UTF-8: invalid sequences are replaced with U+FFFD.
// A DOCTYPE or entity declaration anywhere is rejected (Errc::kParse).
Result<Event> parseEventXml(std::string_view xml, const XmlParseLimits& limits = {});

// Same as parseEventXml, but parses `data` in place (no copy): the buffer's contents are
// undefined afterwards. For callers that own a scratch buffer anyway (file readers).
Result<Event> parseEventXmlInPlace(char* data, size_t size, const XmlParseLimits& limits = {});

// The same parse for a stream of events: fills a caller-owned Event, cleared first with its
// storage kept (Event::clear), and keeps its own buffers, so that once warm an event costs no
// allocation. The usual event is read by a direct scan (scanSimpleXml); anything it does not
// take, malformed input included, by pugixml. One per collector; not for two threads at once.
class EventXmlParser {
 public:
  explicit EventXmlParser(const XmlParseLimits& limits = {}) : limits_(limits) {}

  // On error `event` holds part of an event: drop it (the next parse clears it).
  Status parse(std::string_view xml, Event& event);
  // Parses `data` in place (no copy): the buffer's contents are undefined afterwards.
  Status parseInPlace(char* data, size_t size, Event& event);

  // For a reader of concatenated elements, which then need not find their end itself: scans
  // the element that starts at available[0] (its '<'); what follows it is not read. Returns its
  // length when the direct scan takes the element whole, to be parsed by parseScanned() before
  // anything else; 0 when it does not (the element does not end within `available`, is larger
  // than the limit, or holds what only pugixml reads): the caller finds the element's end and
  // calls parse() or parseInPlace(), which give the same event or error for it.
  size_t scanElement(std::string_view available);
  // The element scanElement() took, as parseInPlace() would read it (its bytes must not have
  // changed in between).
  Status parseScanned(Event& event);

  // Tests and benchmarks: every event through pugixml, the path for what the direct scan
  // (scanSimpleXml) leaves, so that the two can be compared.
  void setPugixmlOnly(bool on) { pugixml_only_ = on; }

  // What the parser keeps between events: the strings it builds names and text in (the Event
  // keeps its fields' strings itself, Event::clear).
  struct Scratch {
    std::string text;        // an element's text when it has several text children
    std::string path;        // UserData: the path of the element being flattened
    std::string name;        // UserData: a field name being built
    std::string valid_name;  // a field name with invalid UTF-8, repaired
  };

 private:
  XmlParseLimits limits_;
  bool pugixml_only_ = false;
  XmlTree tree_;
  std::string buffer_;  // pugixml parses in place: parse() hands it a copy
  Scratch scratch_;
};

}  // namespace t0w
