// The JSON line of an alert (schemas/alert.schema.json).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "agent/rules/alert.h"

namespace t0w {

nlohmann::ordered_json alertToJson(const Alert& alert);
// One line, UTF-8; invalid UTF-8 is replaced, never thrown on.
std::string alertToJsonLine(const Alert& alert);

}  // namespace t0w
