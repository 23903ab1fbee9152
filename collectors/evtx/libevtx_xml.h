// Brings libevtx's rendered XML in line with what EvtRender writes on Windows, so that an event
// read from an .evtx file on Linux matches the same rules as the live event.
#pragma once

#include <string>

namespace t0w::evtx {

// libevtx renders HexInt32/HexInt64 values zero-padded ("0x00000100", "0x00000000000003e7");
// EvtRender writes them without padding ("0x100", "0x3e7"), and Sigma rules match that text.
// Rewrites every element text that is exactly "0x" + 8 or 16 lowercase hex digits with leading
// zeros. Returns how many values were rewritten.
size_t unpadHexValues(std::string& xml);

}  // namespace t0w::evtx
