// Wire batch format tier0watch.batch/1 (schemas/wire-batch.v1.schema.json): the JSON document
// for a lease's records, gzip-compressed for upload, and the bounded decoder the collector (and
// the tests) use.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "agent/queue/queue_record.h"

namespace t0w {

inline constexpr std::string_view kBatchSchema = "tier0watch.batch/1";

struct AgentIdentity {
  std::string id;  // stable per installation; prefixes every record key
  std::string hostname;
  std::string version;
};

struct EncodedBatch {
  std::string batch_id;  // "<agent id>:<sequence>"
  int64_t sequence = 0;
  size_t record_count = 0;
  size_t json_bytes = 0;  // before compression
  std::string gzip;       // the HTTP body (Content-Encoding: gzip)
};

class BatchEncoder {
 public:
  explicit BatchEncoder(AgentIdentity agent, int gzip_level = 6);

  static std::string batchId(std::string_view agent_id, int64_t sequence);

  // The uncompressed JSON document. Record bodies are spliced in as stored (they are JSON
  // objects already: re-parsing them would cost more than the rest of the encoding).
  Result<std::string> toJson(int64_t sequence, std::span<const QueueRecord> records) const;
  // toJson() then gzip.
  Result<EncodedBatch> encode(int64_t sequence, std::span<const QueueRecord> records) const;

 private:
  AgentIdentity agent_;
  std::string agent_json_;  // the "agent" member, escaped once
  int gzip_level_;
};

struct DecodedRecord {
  RecordKind kind = RecordKind::kEvent;
  std::string key;  // wire key, agent id included
  std::optional<std::string> time;
  nlohmann::json body;
};

struct DecodedBatch {
  AgentIdentity agent;
  std::string batch_id;
  int64_t sequence = 0;
  std::vector<DecodedRecord> records;
};

// Parses and checks a batch document (schema string, required members, kinds, key prefix).
Result<DecodedBatch> parseBatchJson(std::string_view json);
// Gunzips (refusing more than max_decompressed bytes: zip bombs) and parses.
Result<DecodedBatch> decodeBatch(std::string_view gzip, size_t max_decompressed);

}  // namespace t0w
