#include "common/wire/queue_record.h"

namespace t0w {

const char* recordKindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kEvent:
      return "event";
    case RecordKind::kAlert:
      return "alert";
    case RecordKind::kStatus:
      return "status";
  }
  return "event";
}

}  // namespace t0w
