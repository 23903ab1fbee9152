// The records of a v3 wire batch (tier0watch.batch/3), written once when a queue chunk is stored:
// record objects joined by ',', keys agent-local. A stored chunk is this text in one zstd frame,
// and a wire body splices such frames between a header frame and a trailer frame (BatchEncoder::
// encodeStoredV3), so nothing is compressed twice. Bodies are carried byte for byte.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/wire/queue_record.h"

namespace t0w {

// {"kind":"event","key":"<key>","time":"<ISO 8601>","len":<body bytes>,"body":<body>} ("time"
// only when known and within years 1601..9999; "len" lets a stored chunk be read back without
// parsing bodies, whatever they hold).
// The body must already be one JSON object (validated when it was queued).
void appendWireRecord(std::string& out, const QueueRecord& record);

// appendWireRecord for each record, joined by ','.
std::string encodeWireFragment(std::span<const QueueRecord> records);
// The same over records held elsewhere (a lane's records picked out of a batch, not copied).
std::string encodeWireFragment(std::span<const QueueRecord* const> records);

// Reads a fragment that encodeWireFragment wrote back into records, bodies byte for byte; fails
// with Errc::kCorrupt (naming the byte offset) on anything else.
Result<std::vector<QueueRecord>> decodeWireFragment(std::string_view fragment);

}  // namespace t0w
