// UTF-8 (everything inside the agent) <-> UTF-16 (every W API) at the Win32 boundary.
#pragma once

#include <string>
#include <string_view>

#include "common/core/result.h"

namespace t0w::win {

// Strict: invalid UTF-8 (from a config file, a command line) is an error, never a guessed name.
Result<std::wstring> toWide(std::string_view utf8);

// Lenient: what Windows hands back (rendered events, messages) may hold unpaired surrogates;
// they become U+FFFD so that the result is always valid UTF-8.
std::string toUtf8(std::wstring_view utf16);

}  // namespace t0w::win
