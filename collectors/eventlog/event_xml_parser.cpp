#include "collectors/eventlog/event_xml_parser.h"

namespace t0w {

Result<Event> parseEventXml(std::string_view, const XmlParseLimits&) {
  return makeError(Errc::kUnsupported, "parser not yet implemented");  // replaced by the parser work
}

}  // namespace t0w
