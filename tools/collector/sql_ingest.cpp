#include "tools/collector/sql_ingest.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <string_view>

#include "tools/collector/conflict_alert.h"
#include "tools/collector/content_hash.h"
#include "tools/collector/notifier.h"
#include "tools/collector/security.h"

namespace t0w::collector {
namespace {

using Rows = std::vector<SqlRow>;

std::string jsonString(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The copy of a record a SIEM output receives.
std::string forwardPayload(const IngestBatch& batch, const IngestRecord& r) {
  std::string out = "{\"kind\":\"";
  out += recordKindName(r.kind);
  out += "\",\"key\":" + jsonString(r.key);
  out += ",\"agent\":" + jsonString(batch.agent);
  out += ",\"host\":" + jsonString(r.host);
  if (r.time) out += ",\"time\":" + std::to_string(*r.time);
  out += ",\"body\":" + r.body + "}";
  return out;
}

const char* tableOf(RecordKind kind) {
  switch (kind) {
    case RecordKind::kEvent:
      return "events";
    case RecordKind::kAlert:
      return "alerts";
    default:
      return "statuses";
  }
}

// Rows per INSERT statement (a power of two; the rest of a batch goes in smaller powers of two,
// so that each connection prepares at most seven statements per table). One statement per
// record made SQLite copy every page a statement changed into its statement journal, per record;
// one per 64 records journals a page once. 64 rows of at most 10 parameters stay below SQLite's
// oldest limit of 999 parameters.
constexpr size_t kRowsPerStatement = 64;

// INSERT INTO <table>(...) VALUES (...), ... ON CONFLICT (key) DO NOTHING RETURNING key
const std::string& insertSql(RecordKind kind, size_t rows) {
  static const auto table = [] {
    std::array<std::array<std::string, 7>, 3> sql;
    const char* heads[3] = {
        "INSERT INTO events(key, agent, host, channel, event_id, record_id, time, received, body) "
        "VALUES ",
        "INSERT INTO alerts(key, agent, host, rule_id, rule_title, level, time, received, "
        "event_key, body) VALUES ",
        "INSERT INTO statuses(key, agent, type, time, received, body) VALUES "};
    const char* row[3] = {"(?,?,?,?,?,?,?,?,?)", "(?,?,?,?,?,?,?,?,?,?)", "(?,?,?,?,?,?)"};
    for (size_t k = 0; k < 3; ++k) {
      for (size_t p = 0; p < 7; ++p) {
        std::string s = heads[k];
        for (size_t i = 0; i < (size_t{1} << p); ++i) {
          if (i > 0) s += ',';
          s += row[k];
        }
        sql[k][p] = s + " ON CONFLICT (key) DO NOTHING RETURNING key";
      }
    }
    return sql;
  }();
  return table[static_cast<size_t>(kind)][static_cast<size_t>(std::countr_zero(rows))];
}

// LENGTH(body) as SQLite and PostgreSQL count it, which the deletion triggers subtract: characters
// (a UTF-8 lead byte and the continuation bytes after it are one), up to a NUL (SQLite's
// lengthFunc; a JSON body holds none, and PostgreSQL refuses them).
int64_t sqlTextLength(std::string_view s) {
  // Eight bytes at a time while they are ASCII without a NUL (a character each: nearly all of an
  // event's body), byte by byte from the first word that is not.
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (((w | (w - kOnes)) & kHigh) != 0) break;  // a byte of 0x80 or more, or a NUL
  }
  auto n = static_cast<int64_t>(i);
  while (i < s.size() && s[i] != '\0') {
    ++n;
    if (static_cast<unsigned char>(s[i++]) < 0xC0) continue;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return n;
}

}  // namespace

Result<IngestResult> IngestWriter::write() {
  if (Status s = recordBatch(); !s) return s.error();
  if (!out_.duplicate_batch) {
    int64_t last_event_id = 0;
    if (search_.indexesOnIngest()) {
      auto last = EventSearch::lastEventId(c_);
      if (!last) return last.error();
      last_event_id = *last;
    }
    if (Status s = storeRecords(b_.records); !s) return s.error();
    if (search_.indexesOnIngest() && out_.stored_events > 0) {
      if (Status s = EventSearch::indexNewEvents(c_, last_event_id); !s) return s.error();
    }
    if (!conflicts_.empty()) {
      // Raised by the collector: not counted among the agent's own alerts.
      const std::vector<IngestRecord> alert{conflictAlert(b_, conflicts_)};
      if (Status s = storeRecords(alert); !s) return s.error();
      --out_.stored;
      --out_.stored_alerts;
      ++out_.raised_alerts;
    }
    if (Status s = addStoredBytes(); !s) return s.error();
  }
  if (Status s = updateAgent(); !s) return s.error();
  return out_;
}

Status IngestWriter::recordBatch() {
  auto batch = c_.query(
      "INSERT INTO batches(batch_id, agent, received, records, content_hash) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id",
      {b_.batch_id, b_.agent, b_.received, static_cast<int64_t>(b_.records.size()),
       b_.content_hash});
  if (!batch) return batch.error();
  if (!batch->empty()) return {};
  auto stored = c_.query("SELECT content_hash FROM batches WHERE batch_id = ?", {b_.batch_id});
  if (!stored) return stored.error();
  const std::string hash = stored->empty() ? "" : (*stored)[0][0].value_or("");
  // Rows written before content hashes existed have none: a known id counts as a re-send. A
  // batch hashed by a collector that stored canonical bodies (before the one-pass ingest) and
  // re-sent since is the same batch too.
  if (hash.empty() || hash == b_.content_hash || hash == canonicalContentHash(b_.records)) {
    out_.duplicate_batch = true;
    return {};
  }
  // This other content of the batch id is one conflict, however often it arrives: a re-send of
  // it (the answer was lost; possibly to another instance while this one was storing it) is a
  // duplicate. The key waits for a concurrent insert of the same variant to commit.
  auto variant = c_.query(
      "INSERT INTO batch_variants(batch_id, content_hash, received) VALUES (?, ?, ?) "
      "ON CONFLICT (batch_id, content_hash) DO NOTHING RETURNING batch_id",
      {b_.batch_id, b_.content_hash, b_.received});
  if (!variant) return variant.error();
  if (variant->empty()) {
    out_.duplicate_batch = true;
    return {};
  }
  out_.conflict_batch = true;
  nlohmann::json summary{{"type", "batch_conflict"},
                         {"records", b_.records.size()},
                         {"message", "batch id " + b_.batch_id +
                                         " was sent again with other records; each record is "
                                         "stored or compared on its own"}};
  return addConflict(ConflictRecord{
      0, b_.agent, "batch", b_.batch_id, b_.batch_id, b_.received, hash, b_.content_hash,
      summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
}

void IngestWriter::appendRow(std::vector<SqlParam>& p, const IngestRecord& r) const {
  // Key and body are bound as they are (SqlText): the body is not copied per row.
  if (r.kind == RecordKind::kEvent) {
    p.insert(p.end(), {SqlText{r.key}, SqlText{b_.agent}, SqlText{r.host}, SqlText{r.channel},
                       r.event_id, r.record_id, sqlOptParam(r.time), b_.received, SqlText{r.body}});
  } else if (r.kind == RecordKind::kAlert) {
    p.insert(p.end(), {SqlText{r.key}, SqlText{b_.agent}, SqlText{r.host}, SqlText{r.rule_id},
                       SqlText{r.rule_title}, SqlText{r.level}, sqlOptParam(r.time), b_.received,
                       SqlText{r.event_key}, SqlText{r.body}});
  } else {
    p.insert(p.end(), {SqlText{r.key}, SqlText{b_.agent}, SqlText{r.status_type},
                       sqlOptParam(r.time), b_.received, SqlText{r.body}});
  }
}

Status IngestWriter::storeRecords(const std::vector<IngestRecord>& records) {
  // Which records a statement stored (the others' keys were taken: duplicates or conflicts).
  std::vector<char> stored(records.size(), 0);
  std::vector<size_t> of_kind;
  std::vector<SqlParam> params;
  // The first row of each key in a statement (a key twice: only its first row can be stored),
  // by hash with linear probing: no allocation per row.
  constexpr size_t kSlots = 2 * kRowsPerStatement;
  std::array<size_t, kSlots> slot{};
  const auto probe = [&](std::string_view key) {
    size_t h = std::hash<std::string_view>{}(key) % kSlots;
    while (slot[h] != 0 && records[slot[h] - 1].key != key) h = (h + 1) % kSlots;
    return h;
  };
  for (RecordKind kind : {RecordKind::kEvent, RecordKind::kAlert, RecordKind::kStatus}) {
    of_kind.clear();
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i].kind == kind) of_kind.push_back(i);
    }
    for (size_t at = 0; at < of_kind.size();) {
      const size_t rows = std::bit_floor(std::min(kRowsPerStatement, of_kind.size() - at));
      params.clear();
      slot.fill(0);
      for (size_t j = at; j < at + rows; ++j) {
        const IngestRecord& r = records[of_kind[j]];
        appendRow(params, r);
        const size_t h = probe(r.key);
        if (slot[h] == 0) slot[h] = of_kind[j] + 1;
      }
      auto returned = c_.query(insertSql(kind, rows), params);
      if (!returned) return returned.error();
      for (const SqlRow& row : *returned) {
        const size_t h = probe(row[0] ? std::string_view(*row[0]) : std::string_view());
        if (slot[h] != 0) stored[slot[h] - 1] = 1;
      }
      at += rows;
    }
  }
  for (size_t i = 0; i < records.size(); ++i) {
    const IngestRecord& r = records[i];
    if (!stored[i]) {
      if (Status s = keyTaken(r); !s) return s;
      continue;
    }
    ++out_.stored;
    stored_bytes_ += sqlTextLength(r.body);
    if (r.kind == RecordKind::kEvent) ++out_.stored_events;
    if (r.kind == RecordKind::kAlert) ++out_.stored_alerts;
    if (r.kind == RecordKind::kStatus) {
      drops_ += r.dropped_events;
      if (r.status_type.find("gap") != std::string::npos) ++gaps_;
      continue;
    }
    if (Status s = storeForwards(r); !s) return s;
  }
  return {};
}

Status IngestWriter::addStoredBytes() {
  if (stored_bytes_ == 0) return {};
  // Once per batch, in its transaction (migration 0007): a trigger per row cost a statement per
  // row on the hot path.
  auto r = c_.query(
      "INSERT INTO storage_usage(agent, bytes) VALUES (?, ?) ON CONFLICT (agent) DO UPDATE SET "
      "bytes = storage_usage.bytes + excluded.bytes",
      {b_.agent, stored_bytes_});
  if (!r) return r.error();
  return {};
}

Status IngestWriter::storeForwards(const IngestRecord& r) {
  for (const std::string& output : b_.forward_outputs) {
    // The webhook notifies people: alerts, not every event.
    if (output == kWebhookOutput && r.kind != RecordKind::kAlert) continue;
    auto f = c_.query(
        "INSERT INTO forward_queue(output, payload, created, next_attempt) VALUES (?,?,?,0)",
        {output, forwardPayload(b_, r), b_.received});
    if (!f) return f.error();
  }
  return {};
}

Status IngestWriter::keyTaken(const IngestRecord& r) {
  // Bodies are stored as the agent sent them, and an agent re-sends the text it stored, so equal
  // content is nearly always equal text; the same value in another text (a body stored
  // canonicalised by an older collector) is the same content too.
  auto stored =
      c_.query(std::string("SELECT body FROM ") + tableOf(r.kind) + " WHERE key = ?", {r.key});
  if (!stored) return stored.error();
  const std::string body = stored->empty() ? "" : (*stored)[0][0].value_or("");
  if (sameJson(body, r.body)) {
    ++out_.duplicates;
    return {};
  }
  return addConflict(ConflictRecord{0, b_.agent, recordKindName(r.kind), r.key, b_.batch_id,
                                    b_.received, sha256Hex(body), sha256Hex(r.body), r.body});
}

Status IngestWriter::addConflict(ConflictRecord c) {
  auto rows = c_.query(
      "INSERT INTO conflicts(agent, kind, key, batch_id, received, stored_hash, new_hash, body) "
      "VALUES (?,?,?,?,?,?,?,?)",
      {c.agent, c.kind, c.key, c.batch_id, c.received, c.stored_hash, c.new_hash, c.body});
  if (!rows) return rows.error();
  ++out_.conflicts;
  conflicts_.push_back(std::move(c));
  return {};
}

Status IngestWriter::updateAgent() {
  const bool heartbeat = b_.status && !out_.duplicate_batch;
  SqlParam status = heartbeat ? SqlParam(*b_.status) : SqlParam(std::monostate{});
  const int64_t hb = heartbeat ? 1 : 0;
  // A new heartbeat: the stored one becomes prev_status when the health tracker has evaluated
  // it, so that the tracker compares counters (drops, gaps, dead letters) between the
  // heartbeats it evaluated, however many arrived in between. The right-hand sides read the row
  // as it was before this UPDATE (SQLite and PostgreSQL alike).
  auto agent = c_.query(
      "UPDATE agents SET agent_id = ?, hostname = ?, version = ?, last_seen = ?, last_batch = ?, "
      "batches = batches + 1, events = events + ?, alerts = alerts + ?, drops = drops + ?, "
      "gaps = gaps + ?, conflicts = conflicts + ?, "
      "prev_status = CASE WHEN ? = 1 AND health_evaluated = 1 THEN status ELSE prev_status END, "
      "health_evaluated = CASE WHEN ? = 1 THEN 0 ELSE health_evaluated END, "
      "last_heartbeat = CASE WHEN ? = 1 THEN ? ELSE last_heartbeat END, "
      "status = COALESCE(?, status) WHERE name = ? RETURNING name",
      {b_.agent_id, b_.hostname, b_.version, b_.received, b_.batch_id, out_.stored_events,
       out_.stored_alerts, drops_, gaps_, out_.conflicts, hb, hb, hb, b_.received, status,
       b_.agent});
  if (!agent) return agent.error();
  if (agent->empty()) return makeError(Errc::kNotFound, "agent " + b_.agent + " is not enrolled");
  return {};
}

}  // namespace t0w::collector
