// Chunk codec: a run of QueueRecords as one compressed blob (one SQLite row per chunk).
// Frame per record: kind (1 byte), key length (varint), key, time flag (1 byte) [+ 8-byte
// little-endian time], body length (varint), body; the whole is preceded by a format byte and
// zlib-compressed.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/wire/queue_record.h"

namespace t0w {

struct EncodedChunk {
  std::string payload;   // compressed
  size_t raw_bytes = 0;  // serialized size before compression
  size_t record_count = 0;
};

// Checks that body is plausibly a single-line JSON object (the wire encoder splices it as is).
Status validateRecord(const QueueRecord& record);

Result<EncodedChunk> encodeChunk(std::span<const QueueRecord> records, int level);

// max_raw bounds the decompressed size; damaged payloads yield Errc::kCorrupt.
Result<std::vector<QueueRecord>> decodeChunk(std::string_view payload, size_t max_raw);

}  // namespace t0w
