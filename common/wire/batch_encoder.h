// Wire batch format (schemas/wire-batch.v2.schema.json; v1 is still decoded): the JSON document
// for a lease's records, gzip-compressed for upload, and the bounded decoder the collector (and
// the tests) use. v2 adds the queue epoch, so that batch ids stay unique across queue files.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/wire/bounded_json.h"
#include "common/wire/queue_record.h"

namespace t0w {

inline constexpr std::string_view kBatchSchemaV1 = "tier0watch.batch/1";
inline constexpr std::string_view kBatchSchemaV2 = "tier0watch.batch/2";
// v3: record keys are agent-local (the collector prefixes the authenticated agent id), so that a
// queue chunk can be encoded for the wire once, when it is stored, and sent as stored; sent
// zstd-encoded only to collectors that announce 3 (wire_protocol.h, docs/adr/0005).
inline constexpr std::string_view kBatchSchemaV3 = "tier0watch.batch/3";
inline constexpr std::string_view kBatchSchema = kBatchSchemaV2;

struct AgentIdentity {
  std::string id;  // stable per installation; prefixes every record key
  std::string hostname;
  std::string version;
};

struct EncodedBatch {
  std::string batch_id;  // "<agent id>:<queue epoch>:<sequence>" (v1: "<agent id>:<sequence>")
  int64_t sequence = 0;
  size_t record_count = 0;
  size_t json_bytes = 0;  // before compression
  std::string gzip;       // the HTTP body (Content-Encoding: gzip)
};

// A v3 batch (tier0watch.batch/3), sent with Content-Encoding: zstd.
struct ZstdBatch {
  std::string batch_id;
  int64_t sequence = 0;
  size_t record_count = 0;
  size_t json_bytes = 0;  // the document's size once decoded
  std::string zstd;       // the HTTP body: concatenated zstd frames
};

// A queue chunk as stored: one zstd frame of a wire fragment (wire_fragment.h).
struct StoredFragment {
  std::string_view zstd;
  size_t records = 0;
  size_t raw_bytes = 0;  // the fragment's size
};

class BatchEncoder {
 public:
  // Writes v1 documents (no epoch): the format of tools that have no queue.
  explicit BatchEncoder(AgentIdentity agent, int gzip_level = 6);
  // Writes v2 documents carrying `queue_epoch` (EventQueue::epoch()).
  BatchEncoder(AgentIdentity agent, std::string queue_epoch, int gzip_level = 6);

  // v1 batch id when `queue_epoch` is empty.
  static std::string batchId(std::string_view agent_id, std::string_view queue_epoch,
                             int64_t sequence);
  std::string batchId(int64_t sequence) const;
  // True when it can write v3 (it has a queue epoch).
  bool writesV3() const { return !queue_epoch_.empty(); }

  // The uncompressed JSON document. Record bodies are spliced in as stored (they are JSON
  // objects already: re-parsing them would cost more than the rest of the encoding).
  Result<std::string> toJson(int64_t sequence, std::span<const QueueRecord> records) const;
  // toJson() then gzip.
  Result<EncodedBatch> encode(int64_t sequence, std::span<const QueueRecord> records) const;

  // v3 (needs a queue epoch): for collectors that announce 3. From records: the document in
  // one zstd frame at `level`.
  Result<ZstdBatch> encodeV3(int64_t sequence, std::span<const QueueRecord> records,
                             int level) const;
  // From chunks stored in the wire encoding: their frames spliced, as stored, between a header
  // frame and a trailer frame. Nothing is compressed but a few dozen bytes.
  Result<ZstdBatch> encodeStoredV3(int64_t sequence, std::span<const StoredFragment> chunks) const;

 private:
  // Everything before the first record: {"schema":...,"records":[
  std::string header(std::string_view schema, int64_t sequence) const;

  AgentIdentity agent_;
  std::string queue_epoch_;
  std::string agent_json_;  // the "agent" member, escaped once
  int gzip_level_;
};

struct DecodedRecord {
  RecordKind kind = RecordKind::kEvent;
  std::string key;  // "<agent id>|<agent-local key>" (v3 sends the local key; the decoder prefixes)
  std::optional<std::string> time;
  nlohmann::json body;
};

struct DecodedBatch {
  int version = 1;  // 1, 2 or 3 (tier0watch.batch/N)
  AgentIdentity agent;
  std::string queue_epoch;  // v2 and v3
  std::string batch_id;
  int64_t sequence = 0;
  std::vector<DecodedRecord> records;
};

// Parses and checks a batch document (schema string, required members, kinds, key prefix).
// A document beyond `limits` (depth, values, string size) fails with Errc::kLimit before
// anything recurses over it. Implemented in batch_decoder.cpp (with the collector's one-pass
// decoder, decodeWireBatch).
Result<DecodedBatch> parseBatchJson(std::string_view json, const JsonLimits& limits = {});
// Gunzips (refusing more than max_decompressed bytes: zip bombs) and parses.
Result<DecodedBatch> decodeBatch(std::string_view gzip, size_t max_decompressed,
                                 const JsonLimits& limits = {});

}  // namespace t0w
