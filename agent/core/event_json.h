// The event's JSON shape (schemas/event.schema.json): used by `scan --events`, the wire format
// and golden tests.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "agent/core/event.h"
#include "common/text/json_string.h"

namespace t0w {

nlohmann::ordered_json eventToJson(const Event& event);
// One line, UTF-8; invalid UTF-8 in field values is replaced, never thrown on. Byte for byte
// what eventToJson(event).dump() writes with error_handler_t::replace, but written directly:
// building the ordered_json tree cost more than parsing the event.
std::string eventToJsonLine(const Event& event);
// Appends the same line (no newline) to `out`, so that a caller can reuse one buffer.
void appendEventJsonLine(std::string& out, const Event& event);

}  // namespace t0w
