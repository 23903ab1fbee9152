#include "common/core/result.h"

namespace t0w {

const char* errcName(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
      return "invalid argument";
    case Errc::kParse:
      return "parse error";
    case Errc::kLimit:
      return "limit exceeded";
    case Errc::kIo:
      return "I/O error";
    case Errc::kNotFound:
      return "not found";
    case Errc::kCorrupt:
      return "corrupt";
    case Errc::kUnsupported:
      return "unsupported";
    case Errc::kInternal:
      return "internal error";
  }
  return "error";
}

}  // namespace t0w
