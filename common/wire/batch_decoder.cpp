#include "common/wire/batch_decoder.h"

#include "common/core/agent_id.h"
#include "common/core/time.h"
#include "common/wire/batch_checks.h"
#include "common/zlib/zlib_codec.h"
#include "common/zstd/zstd_codec.h"

namespace t0w {

using namespace batch_checks;  // the checks shared with the other decoder (batch_checks.h)

namespace {

using Json = nlohmann::json;

const Json* member(const Json& obj, const char* name, Json::value_t type) {
  auto it = obj.find(name);
  if (it == obj.end()) return nullptr;
  if (it->type() != type) return nullptr;
  return &*it;
}

}  // namespace

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
  out.version = schema != nullptr ? schemaVersion(schema->get<std::string>()) : 0;
  if (out.version == 0) return batchError(kSchemaExpected);
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
  if (out.version >= 2) {
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
    auto wire_key =
        key != nullptr ? recordKey(out.version, prefix, key->get<std::string>()) : std::nullopt;
    if (!wire_key) return batchError(where + keyExpected(out.version));
    auto body = r.find("body");
    if (body == r.end() || !body->is_object()) return batchError(where + "body must be an object");
    // Moved, not copied: the document is ours and bodies are most of it.
    DecodedRecord d{*k, std::move(*wire_key), std::nullopt, std::move(*body)};
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
  return decodeBatch(gzip, WireEncoding::kGzip, max_decompressed, limits);
}

std::optional<WireEncoding> wireEncodingByName(std::string_view name) {
  if (name == "identity") return WireEncoding::kIdentity;
  if (name == "gzip") return WireEncoding::kGzip;
  if (name == "zstd") return WireEncoding::kZstd;
  return std::nullopt;
}

Result<std::string> decodeWireBody(std::string_view body, WireEncoding encoding,
                                   size_t max_decompressed) {
  Result<std::string> json = std::string();
  switch (encoding) {
    case WireEncoding::kIdentity:
      return std::string(body);
    case WireEncoding::kGzip:
      json = zDecompress(body, ZFormat::kGzip, max_decompressed);
      break;
    case WireEncoding::kZstd:
      json = zstdDecompress(body, max_decompressed);
      break;
  }
  if (!json) {
    // Only the size limit is kLimit; any other failure is damage (a 400, not a 413).
    const Errc code = json.error().code == Errc::kLimit ? Errc::kLimit : Errc::kCorrupt;
    return makeError(code, "batch: " + json.error().message);
  }
  return json;
}

Result<DecodedBatch> decodeBatch(std::string_view body, WireEncoding encoding,
                                 size_t max_decompressed, const JsonLimits& limits) {
  auto json = decodeWireBody(body, encoding, max_decompressed);
  if (!json) return json.error();
  return parseBatchJson(*json, limits);
}

}  // namespace t0w
