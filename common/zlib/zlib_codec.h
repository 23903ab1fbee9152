// zlib compression for queue chunks (zlib format, with its Adler-32 check against damaged rows)
// and for wire batches (gzip format). Decompression is always bounded.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/core/result.h"

namespace t0w {

enum class ZFormat { kZlib, kGzip };

// level: 0..9 (zlib's scale; 1 is fastest).
Result<std::string> zCompress(std::string_view data, ZFormat format, int level);

// Fails with Errc::kLimit once the output would exceed max_output (zip bombs), with
// Errc::kCorrupt on damaged or truncated input or trailing garbage.
Result<std::string> zDecompress(std::string_view data, ZFormat format, size_t max_output);

}  // namespace t0w
