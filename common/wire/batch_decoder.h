// The collector's side of the wire batch format (tier0watch.batch/1, /2 and /3; docs/adr/0004,
// 0005): the HTTP body's Content-Encoding (identity, gzip, zstd), bounded decompression, and
// the checks of the document. parseBatchJson / decodeBatch (declared in batch_encoder.h) build
// nlohmann trees of the bodies, for tests and tools.
//
// v3 differs from v2 only in the record keys: v3 sends the agent-local key ("Security|101"),
// v2 and v1 the key prefixed with the agent id and '|'. Decoded keys are always
// "<agent id>|<agent-local key>", so that nothing downstream depends on the version.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/result.h"
#include "common/wire/batch_encoder.h"
#include "common/wire/bounded_json.h"

namespace t0w {

// Content-Encoding of a batch upload. zstd: one or more concatenated frames whose contents,
// concatenated, are the document (an agent sends stored frames as they are).
enum class WireEncoding { kIdentity, kGzip, kZstd };

// "identity", "gzip", "zstd" (lower case, as HTTP header values are compared); nullopt otherwise.
std::optional<WireEncoding> wireEncodingByName(std::string_view name);

// The JSON document of a body. Errc::kLimit once it would exceed max_decompressed bytes (a zip
// or zstd bomb); another error (never kLimit) when the body is damaged or truncated. identity
// returns the body as it is (its size is bounded by the HTTP server).
Result<std::string> decodeWireBody(std::string_view body, WireEncoding encoding,
                                   size_t max_decompressed);

// decodeWireBody() then parseBatchJson().
Result<DecodedBatch> decodeBatch(std::string_view body, WireEncoding encoding,
                                 size_t max_decompressed, const JsonLimits& limits = {});

}  // namespace t0w
