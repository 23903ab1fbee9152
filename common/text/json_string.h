// JSON string literals written directly (no JSON tree): the event encoder and the wire encoder.
#pragma once

#include <string>
#include <string_view>

namespace t0w {

// Appends `s` as a JSON string literal the way nlohmann's dump() does with ensure_ascii off and
// error_handler_t::replace: invalid UTF-8 becomes U+FFFD, control characters are escaped.
void appendJsonString(std::string& out, std::string_view s);

// Whether appendJsonString writes `s` as it is between quotes: printable ASCII without '"' and
// '\\' (what names and values nearly always are).
bool isVerbatimJsonString(std::string_view s);

}  // namespace t0w
