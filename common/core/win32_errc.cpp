#include "common/core/win32_errc.h"

namespace t0w {

Errc errcForWin32(uint32_t code) {
  switch (code) {
    case 2:      // ERROR_FILE_NOT_FOUND
    case 3:      // ERROR_PATH_NOT_FOUND
    case 1168:   // ERROR_NOT_FOUND
    case 15007:  // ERROR_EVT_CHANNEL_NOT_FOUND
      return Errc::kNotFound;
    case 87:     // ERROR_INVALID_PARAMETER
    case 15000:  // ERROR_EVT_INVALID_CHANNEL_PATH
    case 15001:  // ERROR_EVT_INVALID_QUERY
      return Errc::kInvalidArgument;
    case 50:   // ERROR_NOT_SUPPORTED
    case 120:  // ERROR_CALL_NOT_IMPLEMENTED
      return Errc::kUnsupported;
    case 1392:  // ERROR_FILE_CORRUPT
    case 1393:  // ERROR_DISK_CORRUPT
      return Errc::kCorrupt;
    default:
      return Errc::kIo;
  }
}

}  // namespace t0w
