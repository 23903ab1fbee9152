// The pure rendered-XML → Event parser: the XML that EvtRender(EvtRenderEventXml) produces,
// that libevtx produces for .evtx records, and that `wevtutil qe /f:xml` prints.
#pragma once

#include <cstddef>
#include <string_view>

#include "agent/core/event.h"
#include "agent/core/result.h"

namespace t0w {

struct XmlParseLimits {
  // Windows caps one event at 64 KiB of payload; rendered XML of a real event is far below 1 MiB.
  size_t max_event_bytes = 4 * 1024 * 1024;
  size_t max_fields = 4096;
  size_t max_depth = 32;
};

// Parses one <Event> element (a leading XML declaration and whitespace are allowed).
// Errors name the problem and, where known, the byte offset; they never throw.
Result<Event> parseEventXml(std::string_view xml, const XmlParseLimits& limits = {});

}  // namespace t0w
