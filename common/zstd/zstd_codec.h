// zstd frames for queue chunks and wire batches (Content-Encoding: zstd, RFC 8878). A chunk is
// compressed once, when it is queued, and sent as stored: a wire body is the concatenation of
// frames (header, chunks, separators, trailer), which a zstd decoder reads as one stream. Every
// frame carries its content checksum, so a damaged queue row is found before it is sent.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/core/result.h"

namespace t0w {

// One frame with content size and checksum. level: zstd's scale (1 is fast, negative faster).
// Thread-safe: contexts come from a shared pool.
Result<std::string> zstdCompress(std::string_view data, int level);

// Appends one frame of `data` to `out` (no copy of earlier frames).
Status zstdAppendFrame(std::string& out, std::string_view data, int level);

// Decodes every frame of `data` (concatenated frames decode to the concatenation). Fails with
// Errc::kLimit once the output would exceed max_output, with Errc::kCorrupt on damaged or
// truncated input (checksum, bad magic, a frame cut short).
Result<std::string> zstdDecompress(std::string_view data, size_t max_output);

// Decodes like zstdDecompress (same limit and errors, checksums checked) but keeps nothing:
// the decoded size. What verifying a stored chunk needs, without a copy of its content.
Result<size_t> zstdDecodedSize(std::string_view data, size_t max_output);

// True when `data` starts with a zstd frame's magic number.
bool isZstdFrame(std::string_view data);

}  // namespace t0w
