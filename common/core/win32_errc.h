// The Errc of a Win32 error code. By number, without windows.h: the Event Log read loops run over
// a fake EvtApi in the Linux tests and must map codes exactly as on Windows.
#pragma once

#include <cstdint>

#include "common/core/result.h"

namespace t0w {

// Not found (file, path, element, Event Log channel) → kNotFound; bad parameter, channel path or
// query → kInvalidArgument; not implemented/supported → kUnsupported; file or disk corrupt →
// kCorrupt; anything else (access denied included) → kIo.
Errc errcForWin32(uint32_t code);

}  // namespace t0w
