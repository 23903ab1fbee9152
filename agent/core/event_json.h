// The event's JSON shape (schemas/event.schema.json): used by `scan --events`, the wire format
// and golden tests.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "agent/core/event.h"

namespace t0w {

nlohmann::ordered_json eventToJson(const Event& event);
// One line, UTF-8; invalid UTF-8 in field values is replaced, never thrown on.
std::string eventToJsonLine(const Event& event);

}  // namespace t0w
