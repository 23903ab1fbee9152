#include "common/wire/batch_encoder.h"

#include "common/core/time.h"
#include "common/wire/wire_fragment.h"
#include "common/zlib/zlib_codec.h"
#include "common/zstd/zstd_codec.h"

namespace t0w {
namespace {

using Json = nlohmann::json;

// JSON string literal; invalid UTF-8 is replaced rather than thrown on.
void appendString(std::string& out, std::string_view s) {
  out += Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The queue checked each body's shape at enqueue; a body that is not an object would corrupt the
// whole document, so it is refused here too rather than sent.
Status checkBodies(int64_t sequence, std::span<const QueueRecord> records) {
  for (const QueueRecord& r : records) {
    if (r.body.size() < 2 || r.body.front() != '{' || r.body.back() != '}') {
      return makeError(Errc::kInvalidArgument, "batch " + std::to_string(sequence) + ": record " +
                                                   r.key + ": body is not a JSON object");
    }
  }
  return {};
}

}  // namespace

BatchEncoder::BatchEncoder(AgentIdentity agent, int gzip_level)
    : BatchEncoder(std::move(agent), std::string(), gzip_level) {}

BatchEncoder::BatchEncoder(AgentIdentity agent, std::string queue_epoch, int gzip_level)
    : agent_(std::move(agent)), queue_epoch_(std::move(queue_epoch)), gzip_level_(gzip_level) {
  agent_json_ = "{\"id\":";
  appendString(agent_json_, agent_.id);
  agent_json_ += ",\"hostname\":";
  appendString(agent_json_, agent_.hostname);
  agent_json_ += ",\"version\":";
  appendString(agent_json_, agent_.version);
  agent_json_ += "}";
}

std::string BatchEncoder::batchId(std::string_view agent_id, std::string_view queue_epoch,
                                  int64_t sequence) {
  std::string id(agent_id);
  id += ':';
  if (!queue_epoch.empty()) {
    id += queue_epoch;
    id += ':';
  }
  return id + std::to_string(sequence);
}

std::string BatchEncoder::batchId(int64_t sequence) const {
  return batchId(agent_.id, queue_epoch_, sequence);
}

std::string BatchEncoder::header(std::string_view schema, int64_t sequence) const {
  std::string out = "{\"schema\":\"";
  out += schema;
  out += "\",\"agent\":";
  out += agent_json_;
  if (!queue_epoch_.empty()) {
    out += ",\"queue_epoch\":";
    appendString(out, queue_epoch_);
  }
  out += ",\"batch_id\":";
  appendString(out, batchId(sequence));
  out += ",\"sequence\":";
  out += std::to_string(sequence);
  out += ",\"records\":[";
  return out;
}

Result<std::string> BatchEncoder::toJson(int64_t sequence,
                                         std::span<const QueueRecord> records) const {
  size_t estimate = 256;
  for (const auto& r : records) estimate += r.body.size() + r.key.size() + agent_.id.size() + 96;
  std::string out;
  out.reserve(estimate);
  if (Status s = checkBodies(sequence, records); !s) return s.error();
  out += header(queue_epoch_.empty() ? kBatchSchemaV1 : kBatchSchemaV2, sequence);
  bool first = true;
  for (const QueueRecord& r : records) {
    if (!first) out += ',';
    first = false;
    out += "{\"kind\":\"";
    out += recordKindName(r.kind);
    out += "\",\"key\":";
    appendString(out, agent_.id + "|" + r.key);
    if (r.time) {
      out += ",\"time\":\"";
      appendFiletime(out, *r.time);
      out += '"';
    }
    out += ",\"body\":";
    out += r.body;
    out += '}';
  }
  out += "]}";
  return out;
}

Result<EncodedBatch> BatchEncoder::encode(int64_t sequence,
                                          std::span<const QueueRecord> records) const {
  auto json = toJson(sequence, records);
  if (!json) return json.error();
  auto gz = zCompress(*json, ZFormat::kGzip, gzip_level_);
  if (!gz) return gz.error();
  return EncodedBatch{batchId(sequence), sequence, records.size(), json->size(), std::move(*gz)};
}

Result<ZstdBatch> BatchEncoder::encodeV3(int64_t sequence, std::span<const QueueRecord> records,
                                         int level) const {
  if (queue_epoch_.empty()) {
    return makeError(Errc::kInvalidArgument, "batch: v3 needs the queue epoch");
  }
  if (Status s = checkBodies(sequence, records); !s) return s.error();
  std::string json = header(kBatchSchemaV3, sequence);
  json += encodeWireFragment(records);
  json += "]}";
  ZstdBatch out{batchId(sequence), sequence, records.size(), json.size(), {}};
  if (Status s = zstdAppendFrame(out.zstd, json, level); !s) return s.error();
  return out;
}

Result<ZstdBatch> BatchEncoder::encodeStoredV3(int64_t sequence,
                                               std::span<const StoredFragment> chunks) const {
  if (queue_epoch_.empty()) {
    return makeError(Errc::kInvalidArgument, "batch: v3 needs the queue epoch");
  }
  // The separators and the trailer are the same few bytes every time: framed once.
  static const std::string kComma = zstdCompress(",", 1).value();
  static const std::string kTrailer = zstdCompress("]}", 1).value();
  const std::string head = header(kBatchSchemaV3, sequence);
  ZstdBatch out{batchId(sequence), sequence, 0, head.size() + 2, {}};
  size_t stored = 0;
  for (const StoredFragment& c : chunks) stored += c.zstd.size() + kComma.size();
  out.zstd.reserve(stored + head.size() + kTrailer.size());
  if (Status s = zstdAppendFrame(out.zstd, head, 1); !s) return s.error();
  bool first = true;
  for (const StoredFragment& c : chunks) {
    if (!isZstdFrame(c.zstd) || c.records == 0) {
      return makeError(Errc::kInvalidArgument, "batch " + std::to_string(sequence) +
                                                   ": a chunk is not a stored wire fragment");
    }
    if (!first) {
      out.zstd += kComma;
      ++out.json_bytes;
    }
    first = false;
    out.zstd += c.zstd;
    out.record_count += c.records;
    out.json_bytes += c.raw_bytes;
  }
  out.zstd += kTrailer;
  return out;
}

}  // namespace t0w
