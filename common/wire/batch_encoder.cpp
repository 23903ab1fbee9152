#include "common/wire/batch_encoder.h"

#include "common/core/agent_id.h"
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

Error batchError(std::string_view what) {
  return makeError(Errc::kParse, "batch: " + std::string(what));
}

std::optional<RecordKind> kindByName(std::string_view name) {
  if (name == "event") return RecordKind::kEvent;
  if (name == "alert") return RecordKind::kAlert;
  if (name == "status") return RecordKind::kStatus;
  return std::nullopt;
}

bool isQueueEpoch(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

const Json* member(const Json& obj, const char* name, Json::value_t type) {
  auto it = obj.find(name);
  if (it == obj.end()) return nullptr;
  if (it->type() != type) return nullptr;
  return &*it;
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
  out += header(queue_epoch_.empty() ? kBatchSchemaV1 : kBatchSchemaV2, sequence);
  bool first = true;
  for (const QueueRecord& r : records) {
    // The queue checked the shape at enqueue; a body that is not an object would corrupt the
    // whole document, so it is refused here too rather than sent.
    if (r.body.size() < 2 || r.body.front() != '{' || r.body.back() != '}') {
      return makeError(Errc::kInvalidArgument, "batch " + std::to_string(sequence) + ": record " +
                                                   r.key + ": body is not a JSON object");
    }
    if (!first) out += ',';
    first = false;
    out += "{\"kind\":\"";
    out += recordKindName(r.kind);
    out += "\",\"key\":";
    appendString(out, agent_.id + "|" + r.key);
    if (r.time) {
      out += ",\"time\":\"";
      out += formatFiletime(*r.time);
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
  for (const QueueRecord& r : records) {
    if (r.body.size() < 2 || r.body.front() != '{' || r.body.back() != '}') {
      return makeError(Errc::kInvalidArgument, "batch " + std::to_string(sequence) + ": record " +
                                                   r.key + ": body is not a JSON object");
    }
  }
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

Result<DecodedBatch> parseBatchJson(std::string_view text, const JsonLimits& limits) {
  // Bounded while parsing: nothing below may recurse over a tree deeper than the limit.
  auto parsed = parseBoundedJson(text, limits);
  if (!parsed) {
    if (parsed.error().code == Errc::kLimit) {
      return makeError(Errc::kLimit, "batch: " + parsed.error().message);
    }
    return batchError("not valid JSON: " + parsed.error().message);
  }
  Json& doc = *parsed;
  if (!doc.is_object()) return batchError("document is not an object");
  const Json* schema = member(doc, "schema", Json::value_t::string);
  DecodedBatch out;
  if (schema != nullptr && schema->get<std::string>() == kBatchSchemaV2) {
    out.version = 2;
  } else if (schema == nullptr || schema->get<std::string>() != kBatchSchemaV1) {
    return batchError("schema is not \"" + std::string(kBatchSchemaV2) + "\" or \"" +
                      std::string(kBatchSchemaV1) + "\"");
  }
  const Json* agent = member(doc, "agent", Json::value_t::object);
  if (agent == nullptr) return batchError("missing agent");
  const Json* id = member(*agent, "id", Json::value_t::string);
  const Json* host = member(*agent, "hostname", Json::value_t::string);
  const Json* version = member(*agent, "version", Json::value_t::string);
  if (id == nullptr || host == nullptr || version == nullptr) {
    return batchError("agent needs id, hostname and version strings");
  }
  if (!isValidAgentId(id->get<std::string>())) {
    return batchError("agent id must be " + std::string(kAgentIdRule));
  }
  out.agent = {id->get<std::string>(), host->get<std::string>(), version->get<std::string>()};
  if (out.version == 2) {
    const Json* epoch = member(doc, "queue_epoch", Json::value_t::string);
    if (epoch == nullptr || !isQueueEpoch(epoch->get<std::string>())) {
      return batchError("queue_epoch must be 16 lower-case hex digits");
    }
    out.queue_epoch = epoch->get<std::string>();
  }
  const Json* batch_id = member(doc, "batch_id", Json::value_t::string);
  if (batch_id == nullptr) return batchError("missing batch_id");
  out.batch_id = batch_id->get<std::string>();
  auto seq = doc.find("sequence");
  if (seq == doc.end() || !seq->is_number_integer()) return batchError("missing sequence");
  out.sequence = seq->get<int64_t>();
  if (out.batch_id != BatchEncoder::batchId(out.agent.id, out.queue_epoch, out.sequence)) {
    return batchError("batch_id " + out.batch_id +
                      " does not match agent id, queue epoch and sequence");
  }
  auto records_it = doc.find("records");
  Json* records = records_it != doc.end() && records_it->is_array() ? &*records_it : nullptr;
  if (records == nullptr) return batchError("missing records");
  const std::string prefix = out.agent.id + "|";
  out.records.reserve(records->size());
  for (size_t i = 0; i < records->size(); ++i) {
    Json& r = (*records)[i];
    const std::string where = "record " + std::to_string(i) + ": ";
    if (!r.is_object()) return batchError(where + "not an object");
    const Json* kind = member(r, "kind", Json::value_t::string);
    const auto k = kind != nullptr ? kindByName(kind->get<std::string>()) : std::nullopt;
    if (!k) return batchError(where + "kind must be event, alert or status");
    const Json* key = member(r, "key", Json::value_t::string);
    if (key == nullptr || key->get<std::string>().rfind(prefix, 0) != 0 ||
        key->get<std::string>().size() == prefix.size()) {
      return batchError(where + "key must start with the agent id and '|'");
    }
    auto body = r.find("body");
    if (body == r.end() || !body->is_object()) return batchError(where + "body must be an object");
    // Moved, not copied: the document is ours and bodies are most of it.
    DecodedRecord d{*k, key->get<std::string>(), std::nullopt, std::move(*body)};
    if (auto t = r.find("time"); t != r.end()) {
      if (!t->is_string() || !parseFiletime(t->get<std::string>())) {
        return batchError(where + "time must be an ISO 8601 UTC string");
      }
      d.time = t->get<std::string>();
    }
    out.records.push_back(std::move(d));
  }
  return out;
}

Result<DecodedBatch> decodeBatch(std::string_view gzip, size_t max_decompressed,
                                 const JsonLimits& limits) {
  auto json = zDecompress(gzip, ZFormat::kGzip, max_decompressed);
  if (!json) return makeError(json.error().code, "batch: " + json.error().message);
  return parseBatchJson(*json, limits);
}

}  // namespace t0w
