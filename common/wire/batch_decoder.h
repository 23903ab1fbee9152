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
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

// ---- One pass, no tree: the collector's ingest ------------------------------------------------

// A member path from a record body's root, e.g. {"System", "EventID"} (at most 32 paths).
using BodyPath = std::vector<std::string>;

// The value at one BodyPath of a record body, with nlohmann's semantics for duplicate members
// (the last one counts) and for paths through arrays (not followed: absent).
struct BodyField {
  enum class Type : uint8_t { kAbsent, kString, kInteger, kOther };
  Type type = Type::kAbsent;
  std::string text;     // kString (unescaped)
  int64_t integer = 0;  // kInteger; an unsigned value above INT64_MAX wraps, as get<int64_t>()

  bool operator==(const BodyField&) const = default;
};

struct WireRecord {
  RecordKind kind = RecordKind::kEvent;
  std::string key;  // "<agent id>|<agent-local key>", as DecodedRecord::key
  std::optional<std::string> time;
  // The body's JSON text exactly as the document carries it (a view into WireBatch::document):
  // starts with '{', ends with '}', valid JSON within the limits. Not re-serialised.
  std::string_view body;
  std::span<const BodyField> fields;  // one per requested BodyPath, in their order (in WireBatch)
};

// Move it, never copy it: the records' bodies and fields are views of `document`,
// `reserialised` and `fields`, which a move keeps where they are.
struct WireBatch {
  int version = 1;
  AgentIdentity agent;
  std::string queue_epoch;
  std::string batch_id;
  int64_t sequence = 0;
  std::vector<WireRecord> records;
  std::vector<BodyField> fields;  // the records' fields, one run of paths.size() per record
  std::string document;           // the decoded JSON text the bodies point into
  // True when the one-pass scan could not vouch for the body spans and the batch was decoded
  // through a tree instead (bodies then re-serialised by nlohmann, in `reserialised`).
  bool tree_fallback = false;
  std::vector<std::string> reserialised;
};

// Checks a batch document like parseBatchJson (same limits, same errors, same acceptance) in one
// SAX pass that builds no tree: it keeps the envelope, each record's kind, key and time, the
// exact text of each body and the values at `paths` in each body. Takes the document: the
// bodies point into it.
Result<WireBatch> scanBatchJson(std::string document, const JsonLimits& limits,
                                std::span<const BodyPath> paths);
// decodeWireBody() then scanBatchJson().
Result<WireBatch> decodeWireBatch(std::string_view body, WireEncoding encoding,
                                  size_t max_decompressed, const JsonLimits& limits,
                                  std::span<const BodyPath> paths);

// The same scan with nlohmann's lexer instead of the collector's own reader (which hands every
// malformed document to it, for its error message and its judgement). For the tests.
Result<WireBatch> scanBatchJsonNlohmann(std::string document, const JsonLimits& limits,
                                        std::span<const BodyPath> paths);
// How many documents scanBatchJson's reader handed to nlohmann (malformed ones): a valid
// document never is. For the tests.
uint64_t scanDocumentsHandedToNlohmann();
// The reference the scan is tested against: parseBatchJson's tree, with each body dumped and
// its fields read from the tree. Used as the fallback.
Result<WireBatch> scanBatchJsonWithTree(std::string document, const JsonLimits& limits,
                                        std::span<const BodyPath> paths);

}  // namespace t0w
