// XML text and attribute escaping for XML the agent writes itself (structured Event Log queries,
// generated sample events): the five predefined entities, every other byte unchanged.
#pragma once

#include <string>
#include <string_view>

namespace t0w {

std::string xmlEscape(std::string_view text);

}  // namespace t0w
