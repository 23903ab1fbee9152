// ASCII case folding. Protocol tokens (HTTP headers, URL schemes, hosts), Sigma values and
// policy names compare case-insensitively without locale rules, so one byte-wise fold serves all.
#pragma once

#include <string>
#include <string_view>

namespace t0w {

inline char foldAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// s with A-Z lowered; every other byte (UTF-8 included) unchanged.
std::string lowerAscii(std::string_view s);

// a and b equal up to ASCII case.
bool equalsIgnoreCaseAscii(std::string_view a, std::string_view b);

}  // namespace t0w
