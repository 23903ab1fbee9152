// Chunk codec: a run of QueueRecords as one compressed blob (one SQLite row per chunk).
// Written now: the records in the v3 wire encoding (wire_fragment.h) in one zstd frame, which the
// shipper sends as stored (compressed once; docs/adr/0005).
// Still read (queues written by agents before 0.5): a format byte 1, then per record kind
// (1 byte), key length (varint), key, time flag (1 byte) [+ 8-byte little-endian time], body
// length (varint), body; the whole zlib-compressed. A chunk's own magic tells the two apart.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/wire/queue_record.h"

namespace t0w {

struct EncodedChunk {
  std::string payload;   // compressed
  size_t raw_bytes = 0;  // serialized size before compression (the wire fragment's size)
  size_t record_count = 0;
};

// Checks that body is plausibly a single-line JSON object (the wire encoder splices it as is).
Status validateRecord(const QueueRecord& record);

// level: zstd's scale (1 fast; negative faster, larger output).
Result<EncodedChunk> encodeChunk(std::span<const QueueRecord> records, int level);
// The same over records held elsewhere (EventQueue picks a lane's records out of a batch).
Result<EncodedChunk> encodeChunk(std::span<const QueueRecord* const> records, int level);

// The format of agents before 0.5 (zlib level 0..9): what tests of old queue files write.
Result<EncodedChunk> encodeChunkV1(std::span<const QueueRecord> records, int level);

// Either format. max_raw bounds the decompressed size; damaged payloads yield Errc::kCorrupt.
Result<std::vector<QueueRecord>> decodeChunk(std::string_view payload, size_t max_raw);

// True for a chunk in the wire encoding (sendable as stored).
bool isWireChunk(std::string_view payload);
// Checks a wire chunk's frame (its content checksum) without parsing it: a damaged row is
// found before it is sent, so it cannot spoil a whole batch at the collector.
Status verifyWireChunk(std::string_view payload, size_t raw_bytes);

// CRC-32 (zlib's) of a stored payload: kept with the row, so that damage to the stored bytes is
// found when the chunk is leased without decoding it (verifyWireChunk is for rows without one).
uint32_t payloadChecksum(std::string_view payload);

}  // namespace t0w
