#include "tools/collector/batch_ingest.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/core/time.h"
#include "common/text/ascii.h"
#include "common/wire/batch_decoder.h"
#include "common/wire/wire_protocol.h"
#include "tools/collector/content_hash.h"
#include "tools/collector/security.h"

namespace t0w::collector {
namespace {

// The body members the collector indexes, read by the one-pass decoder (decodeWireBatch).
enum Field : size_t {
  kSystemChannel,
  kSystemEventId,
  kSystemRecordId,
  kRuleId,
  kRuleTitle,
  kLevel,
  kAlertTime,
  kEventChannel,
  kEventRecordId,
  kStatusType,
  kDroppedEvents,
  kFieldCount,
};

const std::vector<BodyPath>& indexedPaths() {
  static const std::vector<BodyPath> paths = [] {
    std::vector<BodyPath> p(kFieldCount);
    p[kSystemChannel] = {"System", "Channel"};
    p[kSystemEventId] = {"System", "EventID"};
    p[kSystemRecordId] = {"System", "EventRecordID"};
    p[kRuleId] = {"rule_id"};
    p[kRuleTitle] = {"rule_title"};
    p[kLevel] = {"level"};
    p[kAlertTime] = {"time"};
    p[kEventChannel] = {"event", "System", "Channel"};
    p[kEventRecordId] = {"event", "System", "EventRecordID"};
    p[kStatusType] = {"type"};
    p[kDroppedEvents] = {"dropped_events"};
    return p;
  }();
  return paths;
}

std::string stringAt(const WireRecord& r, Field f) {
  const BodyField& v = r.fields[f];
  return v.type == BodyField::Type::kString ? v.text : std::string();
}

int64_t intAt(const WireRecord& r, Field f) {
  const BodyField& v = r.fields[f];
  if (v.type == BodyField::Type::kInteger) return v.integer;
  if (v.type == BodyField::Type::kString) return parseInt(v.text).value_or(0);
  return 0;
}

// The body as stored: the agent's text. Tabs and line breaks can only be whitespace between
// tokens in valid JSON (inside strings they must be escaped), so dropping them keeps the meaning
// and keeps every stored body (and the SIEM copy) on one line.
std::string storedBody(std::string_view text) {
  std::string out(text);
  // memchr (vectorised) finds none in nearly every body.
  if (text.find('\n') != std::string_view::npos || text.find('\r') != std::string_view::npos ||
      text.find('\t') != std::string_view::npos) {
    const auto line_break = [](char c) { return c == '\t' || c == '\n' || c == '\r'; };
    out.erase(std::remove_if(out.begin(), out.end(), line_break), out.end());
  }
  return out;
}

Response unauthorized(const Request& req, const std::string& err, const std::string& detail,
                      const char* challenge) {
  Response r = error(req, http::status::unauthorized, err, detail);
  r.set(http::field::www_authenticate, challenge);
  return r;
}

// The columns the queries filter on, pulled out of a decoded record's body. The key's agent
// prefix and the host are the authenticated agent's (`in`), never what the batch says: a
// low-tier server must not file records under a DC's key space or host name. What the event
// says about its computer stays in its body.
IngestRecord toIngestRecord(WireRecord& d, size_t wire_prefix, IngestBatch& in) {
  IngestRecord r;
  r.kind = d.kind;
  if (wire_prefix == in.agent_id.size() && d.key.compare(0, wire_prefix, in.agent_id) == 0) {
    r.key = std::move(d.key);  // the batch's agent id is the authenticated one (checked)
  } else {
    r.key = in.agent_id;
    r.key.append(d.key, wire_prefix);
  }
  r.host = in.agent;
  if (d.time) {
    if (auto ft = parseFiletime(*d.time)) r.time = filetimeToUnixMicros(*ft);
  }
  r.body = storedBody(d.body);
  if (d.kind == RecordKind::kEvent) {
    r.channel = stringAt(d, kSystemChannel);
    r.event_id = intAt(d, kSystemEventId);
    r.record_id = intAt(d, kSystemRecordId);
  } else if (d.kind == RecordKind::kAlert) {
    r.rule_id = stringAt(d, kRuleId);
    r.rule_title = stringAt(d, kRuleTitle);
    r.level = stringAt(d, kLevel);
    const std::string channel = stringAt(d, kEventChannel);
    if (!channel.empty()) {
      // The stored key of the event that matched (agent id | channel | EventRecordID).
      r.event_key = in.agent_id + "|" + channel + "|" + std::to_string(intAt(d, kEventRecordId));
    }
    if (!r.time) {
      if (auto ft = parseFiletime(stringAt(d, kAlertTime))) r.time = filetimeToUnixMicros(*ft);
    }
  } else {
    r.status_type = stringAt(d, kStatusType);
    if (r.status_type == "queue_drop") {
      r.dropped_events = std::max<int64_t>(1, intAt(d, kDroppedEvents));
    }
    if (r.status_type == "agent_status") in.status = r.body;
  }
  return r;
}

}  // namespace

BatchIngest::BatchIngest(const CollectorConfig& config, Storage& storage, Metrics& metrics,
                         std::vector<std::string> forward_outputs, NowFn now)
    : config_(config),
      storage_(storage),
      metrics_(metrics),
      forward_outputs_(std::move(forward_outputs)),
      now_(std::move(now)),
      limiter_(config.agent_requests_per_second, config.agent_burst, storage, "agent") {}

Response BatchIngest::storageFailure(const Request& req, const Error& e) {
  ++metrics_.storage_errors;
  spdlog::error("storage ({}): {}", storage_.driver(), e.toString());
  return error(req, http::status::service_unavailable, "storage_unavailable",
               "the collector could not reach its storage; retry later");
}

std::variant<AgentRecord, Response> BatchIngest::authenticate(const Request& req) {
  // Who: the bearer token, compared by its SHA-256 (the only form stored).
  if (req.find(http::field::authorization) == req.end()) {
    return unauthorized(req, "missing_token",
                        "send the agent's enrolment token as Authorization: Bearer <token>",
                        "Bearer");
  }
  auto token = bearerToken(req);
  if (!token) {
    return unauthorized(req, "missing_token", "the Authorization header must use the Bearer scheme",
                        "Bearer");
  }
  auto agent = storage_.agentByTokenHash(sha256Hex(*token));
  if (!agent) return storageFailure(req, agent.error());
  if (!*agent) {
    return unauthorized(req, "unknown_token",
                        "the token is not enrolled (tier0watch-collector agents enroll NAME)",
                        "Bearer error=\"invalid_token\"");
  }
  if ((*agent)->revoked_at) {
    return unauthorized(req, "revoked",
                        "the credential of agent " + (*agent)->name +
                            " was revoked (tier0watch-collector agents rotate issues a new one)",
                        "Bearer error=\"invalid_token\"");
  }
  return std::move(**agent);
}

Response BatchIngest::handle(const Request& req) {
  auto who = authenticate(req);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const AgentRecord& enrolled = std::get<AgentRecord>(who);

  if (auto wait = limiter_.acquire(enrolled.name, std::chrono::steady_clock::now())) {
    Response r = error(req, http::status::too_many_requests, "rate_limited",
                       "agent " + enrolled.name + " sends faster than allowed");
    r.set(http::field::retry_after,
          std::to_string(std::max<int64_t>(1, (wait->count() + 999) / 1000)));
    return r;
  }

  auto ct = req.find(http::field::content_type);
  if (ct == req.end() || lowerAscii(sv(ct->value())).rfind("application/json", 0) != 0) {
    return error(req, http::status::unsupported_media_type, "unsupported_content_type",
                 "Content-Type must be application/json (tier0watch.batch/3)");
  }
  std::string encoding = "identity";
  if (auto ce = req.find(http::field::content_encoding); ce != req.end())
    encoding = lowerAscii(sv(ce->value()));
  const auto wire_encoding = wireEncodingByName(encoding);
  if (!wire_encoding) {
    return error(req, http::status::unsupported_media_type, "unsupported_content_encoding",
                 "Content-Encoding must be zstd, gzip or identity, not " + encoding);
  }
  const auto max_decompressed = static_cast<size_t>(config_.max_decompressed_bytes);
  // Depth and size are checked while the document is parsed: nothing recurses over a body
  // nested deeper than max_json_depth, and max_json_values bounds its memory.
  JsonLimits limits;
  limits.max_depth = static_cast<size_t>(config_.max_json_depth);
  limits.max_values = static_cast<size_t>(config_.max_json_values);
  // One pass, no tree: the bodies are stored as the agent sent them.
  Result<WireBatch> decoded =
      decodeWireBatch(req.body(), *wire_encoding, max_decompressed, limits, indexedPaths());
  if (!decoded) {
    if (decoded.error().code == Errc::kLimit &&
        decoded.error().message.find("JSON") != std::string::npos) {
      return error(req, http::status::payload_too_large, "json_too_complex",
                   decoded.error().message);
    }
    if (decoded.error().code == Errc::kLimit) {
      return error(
          req, http::status::payload_too_large, "decompressed_too_large",
          "the batch decompresses to more than " + std::to_string(max_decompressed) + " bytes");
    }
    // The one refusal of the batch's content that no retry fixes: the agent may dead-letter it.
    Response r = error(req, http::status::bad_request, "malformed_batch", decoded.error().message);
    r.set(std::string(kRefusalHeader), std::string(kRefusalBatch));
    return r;
  }
  WireBatch& batch = *decoded;
  if (static_cast<int64_t>(batch.records.size()) > config_.max_records_per_batch) {
    return error(req, http::status::payload_too_large, "too_many_records",
                 "the batch has " + std::to_string(batch.records.size()) +
                     " records; the limit is " + std::to_string(config_.max_records_per_batch));
  }
  // A credential belongs to one agent installation: bound to its agent id at enrolment, or for
  // a token made by `agents enroll` by the first batch; an id belongs to one credential.
  std::string agent_id = enrolled.agent_id;
  if (agent_id.empty()) {
    auto bound = storage_.bindAgentId(enrolled.name, batch.agent.id);
    if (!bound) return storageFailure(req, bound.error());
    if (!*bound) {
      spdlog::warn("agent {} claimed agent id {}, which belongs to another agent", enrolled.name,
                   batch.agent.id);
      return error(req, http::status::forbidden, "agent_id_taken",
                   "agent id " + batch.agent.id + " belongs to another agent");
    }
    agent_id = batch.agent.id;
  }
  if (agent_id != batch.agent.id) {
    return error(req, http::status::forbidden, "agent_mismatch",
                 "this token is bound to another agent id than " + batch.agent.id);
  }

  IngestBatch in;
  in.agent = enrolled.name;
  in.agent_id = agent_id;
  in.hostname = batch.agent.hostname;
  in.version = batch.agent.version;
  in.batch_id = batch.batch_id;
  in.received = now_();
  in.forward_outputs = forward_outputs_;
  in.records.reserve(batch.records.size());
  // Every decoded key starts with the batch's agent id and '|' (v3: the decoder put them there).
  const size_t wire_prefix = batch.agent.id.size();
  for (WireRecord& d : batch.records) {
    in.records.push_back(toIngestRecord(d, wire_prefix, in));
  }
  in.content_hash = contentHash(in.records);
  auto stored = storage_.ingest(in);
  if (!stored) return storageFailure(req, stored.error());
  if (stored->duplicate_batch) {
    ++metrics_.duplicate_batches;
    metrics_.dedup_hits += in.records.size();
  } else {
    ++metrics_.batches;
    metrics_.dedup_hits += static_cast<uint64_t>(stored->duplicates);
    metrics_.events += static_cast<uint64_t>(stored->stored_events);
    metrics_.alerts += static_cast<uint64_t>(stored->stored_alerts + stored->raised_alerts);
    metrics_.conflicts += static_cast<uint64_t>(stored->conflicts);
  }
  if (stored->conflicts > 0) {
    spdlog::warn("agent {}: batch {} re-sent {} id(s) with other content; kept as conflicts",
                 in.agent, in.batch_id, stored->conflicts);
  }
  const char* status = stored->duplicate_batch ? "duplicate"
                       : stored->conflicts > 0 ? "conflict"
                                               : "stored";
  return jsonResponse(
      req, http::status::ok,
      Json{{"batch_id", in.batch_id},
           {"status", status},
           {"stored", stored->stored},
           {"duplicates",
            stored->duplicate_batch ? static_cast<int64_t>(in.records.size()) : stored->duplicates},
           {"conflicts", stored->conflicts},
           // The agent's clock offset to the collector (reported in its heartbeat).
           {"server_time_ms", now_() / 1000}});
}

}  // namespace t0w::collector
