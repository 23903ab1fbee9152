// The pure rendered-XML → Event parser: the XML that EvtRender(EvtRenderEventXml) produces,
// that libevtx produces for .evtx records, and that `wevtutil qe /f:xml` prints.
#pragma once

#include <cstddef>
#include <string_view>

#include "agent/core/event.h"
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

}  // namespace t0w
