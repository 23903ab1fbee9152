// Win32 error codes as text for messages that name what failed and why.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/core/result.h"
#include "common/core/win32_errc.h"

namespace t0w::win {

// The system's message for a Win32 error code (FormatMessageW, English where installed),
// without the trailing period and line break, followed by the code: "Access is denied. (Win32
// error 5)". Codes without a message give "Win32 error <code>".
std::string errorText(uint32_t code);

// Error{errc, "<what>: <errorText(code)>"}.
Error win32Error(Errc errc, std::string_view what, uint32_t code);

// The Errc a Win32 code maps to: one mapping for every caller (common/core/win32_errc.h).
using ::t0w::errcForWin32;

}  // namespace t0w::win
