// Storage implemented once over SqlConn for both SQLite and PostgreSQL; the SQL is the subset
// both understand (ON CONFLICT DO NOTHING, RETURNING); free-text search differs (sql_search.h).
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "tools/collector/security.h"
#include "tools/collector/sql_conn.h"
#include "tools/collector/sql_enrollment.h"
#include "tools/collector/sql_ingest.h"
#include "tools/collector/sql_migrations.h"
#include "tools/collector/sql_rows.h"
#include "tools/collector/sql_search.h"
#include "tools/collector/storage.h"

namespace t0w::collector {
namespace {

int64_t num(const std::optional<std::string>& v) { return sqlInt(v); }
std::optional<int64_t> optNum(const std::optional<std::string>& v) { return sqlOptInt(v); }
std::string str(const std::optional<std::string>& v) { return v.value_or(""); }

class SqlStorage final : public Storage {
 public:
  SqlStorage(std::vector<std::unique_ptr<SqlConn>> conns, bool postgres, bool search_index,
             std::string instance)
      : all_(std::move(conns)),
        postgres_(postgres),
        search_index_(search_index),
        search_(postgres, search_index),
        instance_(std::move(instance)) {
    for (auto& c : all_) free_.push_back(c.get());
  }

  const char* driver() const override { return postgres_ ? "postgres" : "sqlite"; }

  Status migrate() {
    Lease c(*this);
    // The search index after the migrations, under their lock (PostgreSQL): instances starting
    // together create or drop it one after the other.
    return migrateSchema(*c, postgres_,
                         [&] { return EventSearch::configure(*c, postgres_, search_index_); });
  }

  Status enrollAgent(const std::string& name, const std::string& token_hash, int64_t now) override {
    Lease c(*this);
    auto r = c->query("INSERT INTO agents(name, token_hash, enrolled_at) VALUES (?, ?, ?)",
                      {name, token_hash, now});
    if (!r) {
      if (r.error().code == Errc::kInvalidArgument) {
        return makeError(Errc::kInvalidArgument, "agent " + name + " is already enrolled");
      }
      return r.error();
    }
    return {};
  }

  Result<std::optional<AgentRecord>> agentByTokenHash(const std::string& token_hash) override {
    Lease c(*this);
    auto rows = c->query(
        std::string("SELECT ") + kAgentColumns + " FROM agents WHERE token_hash = ?", {token_hash});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<AgentRecord>();
    return std::optional<AgentRecord>(agentFromRow((*rows)[0]));
  }

  Result<EnrollmentResult> enrollWithSecret(const EnrollmentRequest& request) override {
    Lease c(*this);
    if (Status s = c->begin(); !s) return s.error();
    auto result = SqlEnrollment(*c).enroll(request);
    // Only an enrolment commits; a refusal takes back the use it may have counted.
    const bool enrolled = result && result->outcome == EnrollmentResult::Outcome::kEnrolled;
    if (Status s = c->script(enrolled ? "COMMIT" : "ROLLBACK"); !s) {
      (void)c->script("ROLLBACK");
      return s.error();
    }
    return result;
  }

  Status addEnrollmentSecret(const EnrollmentSecret& secret) override {
    Lease c(*this);
    return SqlEnrollment(*c).addSecret(secret);
  }
  Result<std::vector<EnrollmentSecret>> listEnrollmentSecrets() override {
    Lease c(*this);
    return SqlEnrollment(*c).listSecrets();
  }
  Result<bool> revokeEnrollmentSecret(const std::string& name, int64_t now) override {
    Lease c(*this);
    return SqlEnrollment(*c).revokeSecret(name, now);
  }
  Result<bool> revokeAgent(const std::string& name, int64_t now) override {
    Lease c(*this);
    return SqlEnrollment(*c).revokeAgent(name, now);
  }
  Result<bool> rotateAgentCredential(const std::string& name, const std::string& token_hash,
                                     int64_t now) override {
    Lease c(*this);
    return SqlEnrollment(*c).rotateCredential(name, token_hash, now);
  }

  Result<bool> bindAgentId(const std::string& name, const std::string& agent_id) override {
    Lease c(*this);
    auto holder = c->query("SELECT name FROM agents WHERE agent_id = ?", {agent_id});
    if (!holder) return holder.error();
    if (!holder->empty()) return (*holder)[0][0].value_or("") == name;
    auto rows = c->query(
        "UPDATE agents SET agent_id = ? WHERE name = ? AND agent_id IS NULL RETURNING name",
        {agent_id, name});
    if (!rows) {
      // Another agent bound the id between the two statements (UNIQUE).
      if (rows.error().code == Errc::kInvalidArgument) return false;
      return rows.error();
    }
    if (!rows->empty()) return true;
    // Bound meanwhile: by this very agent (its first batches arrived at two instances at once)
    // or by another.
    auto now_held = c->query("SELECT name FROM agents WHERE agent_id = ?", {agent_id});
    if (!now_held) return now_held.error();
    return !now_held->empty() && (*now_held)[0][0].value_or("") == name;
  }

  Result<std::vector<AgentRecord>> listAgents() override {
    Lease c(*this);
    auto rows = c->query(std::string("SELECT ") + kAgentColumns + " FROM agents ORDER BY name", {});
    if (!rows) return rows.error();
    std::vector<AgentRecord> out;
    for (const auto& r : *rows) out.push_back(agentFromRow(r));
    return out;
  }

  Result<std::vector<ChannelLag>> channelLag(const std::string& agent) override {
    Lease c(*this);
    auto rows = c->query(
        "SELECT channel, MAX(time), MAX(received) FROM events WHERE agent = ? GROUP BY channel "
        "ORDER BY channel",
        {agent});
    if (!rows) return rows.error();
    std::vector<ChannelLag> out;
    for (const auto& r : *rows) out.push_back({str(r[0]), optNum(r[1]), num(r[2])});
    return out;
  }

  Result<IngestResult> ingest(const IngestBatch& b) override {
    Lease c(*this);
    if (Status s = c->begin(); !s) return s.error();
    auto result = IngestWriter(*c, b, search_).write();
    if (!result) {
      (void)c->script("ROLLBACK");
      return result.error();
    }
    if (Status s = c->script("COMMIT"); !s) {
      (void)c->script("ROLLBACK");
      return s.error();
    }
    return result;
  }

  Result<std::vector<ConflictRecord>> recentConflicts(const std::string& agent,
                                                      int limit) override {
    Lease c(*this);
    auto rows = c->query(
        "SELECT id, agent, kind, key, batch_id, received, stored_hash, new_hash, body FROM "
        "conflicts WHERE agent = ? ORDER BY id DESC LIMIT ?",
        {agent, int64_t{limit}});
    if (!rows) return rows.error();
    std::vector<ConflictRecord> out;
    for (const auto& r : *rows) {
      out.push_back(ConflictRecord{num(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), num(r[5]),
                                   str(r[6]), str(r[7]), str(r[8])});
    }
    return out;
  }

  Result<std::vector<StatusReport>> recentStatuses(const std::string& agent, int limit) override {
    Lease c(*this);
    auto rows = c->query(
        "SELECT id, key, type, time, received, body FROM statuses WHERE agent = ? "
        "ORDER BY id DESC LIMIT ?",
        {agent, int64_t{limit}});
    if (!rows) return rows.error();
    std::vector<StatusReport> out;
    for (const auto& r : *rows) {
      out.push_back(
          StatusReport{num(r[0]), str(r[1]), str(r[2]), optNum(r[3]), num(r[4]), str(r[5])});
    }
    return out;
  }

  Result<std::vector<StatusReport>> statusHistory(const std::string& agent, const std::string& type,
                                                  int64_t since, int limit) override {
    Lease c(*this);
    auto rows = c->query(
        "SELECT id, key, type, time, received, body FROM statuses WHERE agent = ? AND type = ? "
        "AND received >= ? ORDER BY id DESC LIMIT ?",
        {agent, type, since, int64_t{limit}});
    if (!rows) return rows.error();
    std::vector<StatusReport> out;
    for (auto it = rows->rbegin(); it != rows->rend(); ++it) {
      const auto& r = *it;
      out.push_back(
          StatusReport{num(r[0]), str(r[1]), str(r[2]), optNum(r[3]), num(r[4]), str(r[5])});
    }
    return out;
  }

  Result<std::vector<HealthIssue>> queryHealth(const HealthQuery& q) override {
    std::string sql = std::string("SELECT ") + kHealthColumns + " FROM health_issues WHERE 1=1";
    std::vector<SqlParam> p;
    if (q.agent) sql += " AND agent = ?", p.push_back(*q.agent);
    if (q.code) sql += " AND code = ?", p.push_back(*q.code);
    if (q.state) sql += " AND state = ?", p.push_back(*q.state);
    if (q.not_closed) sql += " AND state <> 'closed'";
    sql += " ORDER BY id DESC LIMIT ?";
    p.push_back(int64_t{q.limit});
    Lease c(*this);
    auto rows = c->query(sql, p);
    if (!rows) return rows.error();
    std::vector<HealthIssue> out;
    for (const auto& r : *rows) out.push_back(healthFromRow(r));
    return out;
  }

  Status markHealthEvaluated(const std::string& agent, const std::string& status) override {
    Lease c(*this);
    auto r = c->query("UPDATE agents SET health_evaluated = 1 WHERE name = ? AND status = ?",
                      {agent, status});
    if (!r) return r.error();
    return {};
  }

  Result<std::optional<HealthIssue>> healthIssueById(int64_t id) override {
    Lease c(*this);
    auto rows = c->query(
        std::string("SELECT ") + kHealthColumns + " FROM health_issues WHERE id = ?", {id});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<HealthIssue>();
    return std::optional<HealthIssue>(healthFromRow((*rows)[0]));
  }

  Result<int64_t> addHealthIssue(const HealthIssue& h) override {
    Lease c(*this);
    auto rows = c->query(
        "INSERT INTO health_issues(agent, code, source, severity, detail, first_seen, last_seen, "
        "state, closed_at, suppressed_until, suppressed_by) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
        "RETURNING id",
        {h.agent, h.code, h.source, h.severity, h.detail, h.first_seen, h.last_seen, h.state,
         sqlOptParam(h.closed_at), sqlOptParam(h.suppressed_until),
         h.suppressed_by ? SqlParam(*h.suppressed_by) : SqlParam(std::monostate{})});
    if (!rows) return rows.error();
    if (rows->empty()) return makeError(Errc::kInternal, "health issue insert returned no id");
    return num((*rows)[0][0]);
  }

  Status updateHealthIssue(const HealthIssue& h) override {
    Lease c(*this);
    auto rows = c->query(
        "UPDATE health_issues SET severity = ?, detail = ?, last_seen = ?, state = ?, "
        "closed_at = ?, suppressed_until = ?, suppressed_by = ? WHERE id = ? RETURNING id",
        {h.severity, h.detail, h.last_seen, h.state, sqlOptParam(h.closed_at),
         sqlOptParam(h.suppressed_until),
         h.suppressed_by ? SqlParam(*h.suppressed_by) : SqlParam(std::monostate{}), h.id});
    if (!rows) return rows.error();
    if (rows->empty()) {
      return makeError(Errc::kNotFound, "no health issue " + std::to_string(h.id));
    }
    return {};
  }

  Result<bool> updateHealthIssueIf(const HealthIssue& h, const std::string& expected) override {
    Lease c(*this);
    auto rows = c->query(
        "UPDATE health_issues SET severity = ?, detail = ?, last_seen = ?, state = ?, "
        "closed_at = ?, suppressed_until = ?, suppressed_by = ? WHERE id = ? AND state = ? "
        "RETURNING id",
        {h.severity, h.detail, h.last_seen, h.state, sqlOptParam(h.closed_at),
         sqlOptParam(h.suppressed_until),
         h.suppressed_by ? SqlParam(*h.suppressed_by) : SqlParam(std::monostate{}), h.id,
         expected});
    if (!rows) return rows.error();
    return !rows->empty();
  }

  Result<std::vector<AlertBucket>> alertHistogram(int64_t since, int64_t bucket) override {
    Lease c(*this);
    auto rows = c->query(
        "SELECT (received / ?) * ?, level, COUNT(*) FROM alerts WHERE received >= ? "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        {bucket, bucket, since});
    if (!rows) return rows.error();
    std::vector<AlertBucket> out;
    for (const auto& r : *rows) out.push_back(AlertBucket{num(r[0]), str(r[1]), num(r[2])});
    return out;
  }

  Result<std::vector<StoredEvent>> queryEvents(const EventQuery& q) override {
    const EventSearch::Statement st = search_.eventQuery(q);
    Lease c(*this);
    auto rows = c->query(st.sql, st.params);
    if (!rows) return rows.error();
    std::vector<StoredEvent> out;
    for (const auto& r : *rows) out.push_back(eventFromRow(r));
    return out;
  }

  Result<std::optional<StoredEvent>> eventById(int64_t id) override {
    return oneEvent("id = ?", id);
  }
  Result<std::optional<StoredEvent>> eventByKey(const std::string& key) override {
    return oneEvent("key = ?", key);
  }

  Result<std::vector<StoredAlert>> queryAlerts(const AlertQuery& q) override {
    std::string sql = std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE 1=1";
    std::vector<SqlParam> p;
    if (q.rule_id) sql += " AND rule_id = ?", p.push_back(*q.rule_id);
    if (q.level) sql += " AND level = ?", p.push_back(*q.level);
    if (q.host) sql += " AND host = ?", p.push_back(*q.host);
    if (q.since) sql += " AND time >= ?", p.push_back(*q.since);
    if (q.until) sql += " AND time < ?", p.push_back(*q.until);
    if (q.acknowledged) {
      sql += *q.acknowledged ? " AND acknowledged_at IS NOT NULL" : " AND acknowledged_at IS NULL";
    }
    if (q.before_id) sql += " AND id < ?", p.push_back(*q.before_id);
    sql += " ORDER BY id DESC LIMIT ?";
    p.push_back(int64_t{q.limit});
    Lease c(*this);
    auto rows = c->query(sql, p);
    if (!rows) return rows.error();
    std::vector<StoredAlert> out;
    for (const auto& r : *rows) out.push_back(alertFromRow(r));
    return out;
  }

  Result<std::optional<StoredAlert>> alertById(int64_t id) override {
    Lease c(*this);
    auto rows =
        c->query(std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE id = ?", {id});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<StoredAlert>();
    return std::optional<StoredAlert>(alertFromRow((*rows)[0]));
  }

  Result<bool> acknowledgeAlert(int64_t id, const std::string& user, int64_t now) override {
    Lease c(*this);
    auto rows = c->query(
        "UPDATE alerts SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ? RETURNING id",
        {user, now, id});
    if (!rows) return rows.error();
    return !rows->empty();
  }

  Status addUser(const UserRecord& u) override {
    Lease c(*this);
    auto r = c->query("INSERT INTO users(name, salt, hash, iterations, created) VALUES (?,?,?,?,?)",
                      {u.name, u.salt, u.hash, u.iterations, u.created});
    if (!r) {
      if (r.error().code == Errc::kInvalidArgument) {
        return makeError(Errc::kInvalidArgument, "user " + u.name + " already exists");
      }
      return r.error();
    }
    return {};
  }

  Result<std::optional<UserRecord>> userByName(const std::string& name) override {
    Lease c(*this);
    auto rows =
        c->query("SELECT name, salt, hash, iterations, created FROM users WHERE name = ?", {name});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<UserRecord>();
    const auto& r = (*rows)[0];
    return std::optional<UserRecord>(
        UserRecord{str(r[0]), str(r[1]), str(r[2]), num(r[3]), num(r[4])});
  }

  Status createSession(const std::string& token_hash, const SessionRecord& s) override {
    Lease c(*this);
    // Expired sessions are swept here so the table stays small without a timer.
    if (auto r = c->query("DELETE FROM sessions WHERE expires <= ?", {s.created}); !r) {
      return r.error();
    }
    auto r = c->query(
        "INSERT INTO sessions(token_hash, user_name, csrf, created, expires) VALUES (?,?,?,?,?)",
        {token_hash, s.user, s.csrf, s.created, s.expires});
    if (!r) return r.error();
    return {};
  }

  Result<std::optional<SessionRecord>> sessionByHash(const std::string& token_hash,
                                                     int64_t now) override {
    Lease c(*this);
    auto rows = c->query(
        "SELECT user_name, csrf, created, expires FROM sessions WHERE token_hash = ? AND "
        "expires > ?",
        {token_hash, now});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<SessionRecord>();
    const auto& r = (*rows)[0];
    return std::optional<SessionRecord>(SessionRecord{str(r[0]), str(r[1]), num(r[2]), num(r[3])});
  }

  Status deleteSession(const std::string& token_hash) override {
    Lease c(*this);
    auto r = c->query("DELETE FROM sessions WHERE token_hash = ?", {token_hash});
    if (!r) return r.error();
    return {};
  }

  Result<std::vector<ForwardItem>> claimForwards(const std::string& output, int64_t now,
                                                 int64_t lease_until, int limit) override {
    Lease c(*this);
    // One statement: the rows are claimed as they are chosen. PostgreSQL locks them in a CTE
    // (run once, materialised), skipping the rows another instance is claiming at this moment
    // (SKIP LOCKED) instead of waiting for them, and re-checks a row another instance claimed
    // and committed meanwhile; SQLite has one writer. A claim runs out at lease_until (its
    // instance died): the rows are due again.
    const char* due =
        "SELECT id FROM forward_queue WHERE output = ? AND next_attempt <= ? AND "
        "(lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?";
    const std::string sql =
        postgres_ ? std::string("WITH due AS (") + due +
                        " FOR UPDATE SKIP LOCKED) UPDATE forward_queue f SET lease_owner = ?, "
                        "lease_until = ? FROM due WHERE f.id = due.id RETURNING f.id, f.payload, "
                        "f.attempts"
                  : std::string(
                        "UPDATE forward_queue SET lease_owner = ?, lease_until = ? WHERE "
                        "id IN (") +
                        due + ") RETURNING id, payload, attempts";
    auto rows = postgres_
                    ? c->query(sql, {output, now, now, int64_t{limit}, instance_, lease_until})
                    : c->query(sql, {instance_, lease_until, output, now, now, int64_t{limit}});
    if (!rows) return rows.error();
    std::vector<ForwardItem> out;
    for (const auto& r : *rows) out.push_back({num(r[0]), str(r[1]), num(r[2])});
    // RETURNING follows no ORDER BY: the SIEM gets them oldest first.
    std::sort(out.begin(), out.end(),
              [](const ForwardItem& a, const ForwardItem& b) { return a.id < b.id; });
    return out;
  }

  Status ackForwards(const std::vector<int64_t>& ids) override {
    return eachInTransaction(ids, "DELETE FROM forward_queue WHERE id = ?", std::nullopt);
  }

  Status retryForwards(const std::vector<int64_t>& ids, int64_t next_attempt) override {
    return eachInTransaction(
        ids,
        "UPDATE forward_queue SET attempts = attempts + 1, next_attempt = ?, lease_owner = NULL, "
        "lease_until = NULL WHERE id = ?",
        next_attempt);
  }

  Result<int64_t> forwardDepth(const std::string& output) override {
    Lease c(*this);
    auto rows = c->query("SELECT COUNT(*) FROM forward_queue WHERE output = ?", {output});
    if (!rows) return rows.error();
    return rows->empty() ? 0 : num((*rows)[0][0]);
  }

  Status enqueueForward(const std::string& output, const std::string& payload,
                        int64_t now) override {
    Lease c(*this);
    auto r = c->query(
        "INSERT INTO forward_queue(output, payload, created, next_attempt) VALUES (?,?,?,0)",
        {output, payload, now});
    if (!r) return r.error();
    return {};
  }

  Result<RetentionResult> applyRetention(std::optional<int64_t> older_than, int64_t max_bytes,
                                         int64_t max_bytes_per_agent) override {
    RetentionResult out;
    {
      // Rate buckets idle for a day are full (a bucket fills in burst / rate seconds): forgotten.
      Lease c(*this);
      if (auto r = c->query(
              "DELETE FROM rate_buckets WHERE updated < " + dbNowMicros() + " - 86400000000", {});
          !r) {
        return r.error();
      }
    }
    if (older_than) {
      Lease c(*this);
      // Events have no index on received (migration 0007: one less on the hot path): they go in
      // id order up to the first one received at or after the cutoff, along the primary key.
      // Rows arrive in id order; one stored out of order (a clock set back, or another
      // instance's skewed clock) waits for the rows before it.
      auto events = c->query(
          "DELETE FROM events WHERE id < COALESCE((SELECT id FROM events WHERE received >= ? "
          "ORDER BY id LIMIT 1), (SELECT MAX(id) + 1 FROM events)) RETURNING id",
          {*older_than});
      if (!events) return events.error();
      out.deleted += static_cast<int64_t>(events->size());
      for (const char* table : {"alerts", "statuses"}) {
        auto rows =
            c->query(std::string("DELETE FROM ") + table + " WHERE received < ? RETURNING id",
                     {*older_than});
        if (!rows) return rows.error();
        out.deleted += static_cast<int64_t>(rows->size());
      }
      for (const char* table : {"batches", "batch_variants", "conflicts"}) {
        if (auto r = c->query(std::string("DELETE FROM ") + table + " WHERE received < ?",
                              {*older_than});
            !r) {
          return r.error();
        }
      }
    }
    if (max_bytes_per_agent > 0) {
      // An agent over its quota loses its own oldest records, not the other agents': a
      // compromised low-tier server cannot push a DC's telemetry out.
      for (int round = 0; round < 100000; ++round) {
        Lease c(*this);
        auto over = c->query(
            "SELECT agent, bytes FROM storage_usage WHERE bytes > ? ORDER BY bytes DESC LIMIT 1",
            {max_bytes_per_agent});
        if (!over) return over.error();
        if (over->empty()) break;
        const std::string agent = (*over)[0][0].value_or("");
        const int64_t excess = num((*over)[0][1]) - max_bytes_per_agent;
        auto deleted = deleteOldest(*c, " WHERE agent = ?", {agent}, excess);
        if (!deleted) return deleted.error();
        out.deleted += *deleted;
        out.quota_deleted += *deleted;
        if (*deleted == 0) break;
      }
    }
    if (max_bytes > 0) {
      // Oldest first, a slice at a time; storedBytes() reads the per-agent totals that ingest
      // and the deletion triggers keep (migrations 0005, 0007), so a round costs the deletion, not
      // a scan of every body.
      for (int round = 0; round < 100000; ++round) {
        auto bytes = storedBytes();
        if (!bytes) return bytes.error();
        if (*bytes <= max_bytes) break;
        Lease c(*this);
        auto deleted = deleteOldest(*c, "", {}, *bytes - max_bytes);
        if (!deleted) return deleted.error();
        out.deleted += *deleted;
        if (*deleted == 0) break;
      }
    }
    return out;
  }

  // The oldest slice of records (matching `where`), no more than frees `excess` bytes: events
  // go before statuses and alerts, which are rarer and matter more. A slice is at most 200 rows,
  // so that a quota or size limit is met without deleting far below it.
  static Result<int64_t> deleteOldest(SqlConn& c, const std::string& where,
                                      const std::vector<SqlParam>& params, int64_t excess) {
    for (const char* table : {"events", "statuses", "alerts"}) {
      auto sizes = c.query(
          std::string("SELECT LENGTH(body) FROM ") + table + where + " ORDER BY id LIMIT 200",
          params);
      if (!sizes) return sizes.error();
      if (sizes->empty()) continue;
      int64_t count = 0;
      int64_t freed = 0;
      for (const auto& row : *sizes) {
        ++count;
        freed += num(row[0]);
        if (freed >= excess) break;
      }
      std::vector<SqlParam> p = params;
      p.emplace_back(count);
      auto rows = c.query(std::string("DELETE FROM ") + table + " WHERE id IN (SELECT id FROM " +
                              table + where + " ORDER BY id LIMIT ?) RETURNING id",
                          p);
      if (!rows) return rows.error();
      if (!rows->empty()) return static_cast<int64_t>(rows->size());
    }
    return int64_t{0};
  }

  Result<int64_t> storedBytes() override {
    Lease c(*this);
    // Kept by ingest and triggers (migrations 0005, 0007): one row per agent, not a scan of
    // every body.
    auto rows = c->query("SELECT COALESCE(SUM(bytes), 0) FROM storage_usage", {});
    if (!rows) return rows.error();
    return rows->empty() ? 0 : num((*rows)[0][0]);
  }

  const std::string& instanceId() const override { return instance_; }

  Result<std::optional<int64_t>> takeRateToken(const std::string& bucket, double per_second,
                                               double burst) override {
    // Integers: millionths of a token, microseconds. Refill = elapsed_us * rate / 1e6 tokens =
    // elapsed_us * rate_micro / 1e6 micro-tokens; elapsed is capped at the time a bucket takes
    // to fill, so the product stays far from overflowing.
    constexpr int64_t kOne = 1'000'000;
    const auto rate = std::max<int64_t>(1, static_cast<int64_t>(per_second * 1e6));
    const auto cap = std::max<int64_t>(kOne, static_cast<int64_t>(burst * 1e6));
    const auto fill_us = static_cast<int64_t>(burst / per_second * 1e6) + 1;
    // The database's clock: instances on hosts with skewed clocks still share one bucket. The
    // right-hand sides of SET read the row as it was (both dialects).
    const std::string now = dbNowMicros();
    const std::string avail = (postgres_ ? "LEAST(" : "MIN(") + std::string("?, b.tokens + ") +
                              (postgres_ ? "LEAST(GREATEST(" : "MIN(MAX(") + now +
                              " - b.updated, 0), ?) * ? / 1000000)";
    const std::string sql =
        "INSERT INTO rate_buckets AS b (bucket, tokens, updated, granted) VALUES (?, ?, " + now +
        ", 1) ON CONFLICT (bucket) DO UPDATE SET granted = CASE WHEN " + avail +
        " >= 1000000 THEN 1 ELSE 0 END, tokens = " + avail + " - CASE WHEN " + avail +
        " >= 1000000 THEN 1000000 ELSE 0 END, updated = " + (postgres_ ? "GREATEST(" : "MAX(") +
        now + ", b.updated) RETURNING tokens, granted";
    std::vector<SqlParam> p{bucket, cap - kOne};
    for (int i = 0; i < 3; ++i) {
      p.emplace_back(cap);
      p.emplace_back(fill_us);
      p.emplace_back(rate);
    }
    Lease c(*this);
    auto rows = c->query(sql, p);
    if (!rows) return rows.error();
    if (rows->empty()) return makeError(Errc::kInternal, "rate bucket upsert returned no row");
    if (num((*rows)[0][1]) == 1) return std::optional<int64_t>();
    const int64_t missing = kOne - num((*rows)[0][0]);
    return std::optional<int64_t>(std::max<int64_t>(1, missing * kOne / rate));
  }

  Result<bool> holdLease(const std::string& name, int64_t now, int64_t until) override {
    Lease c(*this);
    auto rows = c->query(
        "INSERT INTO leader_leases(name, holder, expires) VALUES (?, ?, ?) ON CONFLICT (name) DO "
        "UPDATE SET holder = excluded.holder, expires = excluded.expires WHERE "
        "leader_leases.holder = excluded.holder OR leader_leases.expires <= ? RETURNING holder",
        {name, instance_, until, now});
    if (!rows) return rows.error();
    return !rows->empty();
  }

  Status releaseInstance() override { return releaseHolder(instance_); }

  Result<std::vector<std::string>> holders() override {
    Lease c(*this);
    auto rows = c->query(
        "SELECT holder FROM leader_leases WHERE expires > 0 UNION SELECT lease_owner FROM "
        "forward_queue WHERE lease_owner IS NOT NULL",
        {});
    if (!rows) return rows.error();
    std::vector<std::string> out;
    for (const auto& r : *rows) out.push_back(str(r[0]));
    return out;
  }

  Status releaseHolder(const std::string& id) override {
    Lease c(*this);
    if (auto r = c->query("UPDATE leader_leases SET expires = 0 WHERE holder = ?", {id}); !r) {
      return r.error();
    }
    auto r = c->query(
        "UPDATE forward_queue SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
        {id});
    if (!r) return r.error();
    return {};
  }

 private:
  // The database server's clock in Unix microseconds, as an SQL expression.
  std::string dbNowMicros() const {
    return postgres_ ? "CAST(EXTRACT(EPOCH FROM now()) * 1000000 AS BIGINT)"
                     : "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)";
  }

  // Borrows a connection from the pool for one operation.
  class Lease {
   public:
    explicit Lease(SqlStorage& s) : s_(s) {
      std::unique_lock lock(s_.mutex_);
      s_.available_.wait(lock, [&] { return !s_.free_.empty(); });
      conn_ = s_.free_.back();
      s_.free_.pop_back();
    }
    ~Lease() {
      {
        std::lock_guard lock(s_.mutex_);
        s_.free_.push_back(conn_);
      }
      s_.available_.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    SqlConn* operator->() { return conn_; }
    SqlConn& operator*() { return *conn_; }

   private:
    SqlStorage& s_;
    SqlConn* conn_;
  };

  Result<std::optional<StoredEvent>> oneEvent(const char* where, SqlParam value) {
    Lease c(*this);
    auto rows = c->query(std::string("SELECT ") + kEventColumns + " FROM events WHERE " + where,
                         {std::move(value)});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<StoredEvent>();
    return std::optional<StoredEvent>(eventFromRow((*rows)[0]));
  }

  static Status rollback(SqlConn& c, const Error& e) {
    (void)c.script("ROLLBACK");
    return e;
  }

  Status eachInTransaction(const std::vector<int64_t>& ids, const char* sql,
                           std::optional<int64_t> first) {
    if (ids.empty()) return {};
    Lease c(*this);
    if (Status s = c->begin(); !s) return s;
    for (int64_t id : ids) {
      // Built whole: GCC 12 -O2 reports a false -Wmaybe-uninitialized on push_back of a variant.
      const std::vector<SqlParam> p = first ? std::vector<SqlParam>{SqlParam(*first), SqlParam(id)}
                                            : std::vector<SqlParam>{SqlParam(id)};
      if (auto r = c->query(sql, p); !r) return rollback(*c, r.error());
    }
    return c->script("COMMIT");
  }

  std::vector<std::unique_ptr<SqlConn>> all_;
  bool postgres_;
  bool search_index_;  // storage.search_index
  EventSearch search_;
  std::string instance_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<SqlConn*> free_;
};

}  // namespace

Status createPrivateDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return makeError(Errc::kIo, dir + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) return makeError(Errc::kIo, dir + ": cannot restrict to its owner: " + ec.message());
  return {};
}

Result<std::unique_ptr<Storage>> openStorage(const std::string& driver, const std::string& target,
                                             const StorageOptions& options) {
  std::vector<std::unique_ptr<SqlConn>> conns;
  bool postgres = false;
  if (driver == "sqlite") {
    // One writer connection: SQLite serialises writers anyway, and one connection keeps the
    // prepared statements hot.
    auto c = openSqliteConn(target, options.sqlite_full_sync);
    if (!c) return c.error();
    conns.push_back(std::move(*c));
  } else if (driver == "postgres") {
    postgres = true;
    for (int i = 0; i < 4; ++i) {
      auto c = openPostgresConn(target);
      if (!c) return c.error();
      conns.push_back(std::move(*c));
    }
  } else {
    return makeError(Errc::kInvalidArgument,
                     "storage driver must be sqlite or postgres, not \"" + driver + "\"");
  }
  // This process's id among the instances sharing the database: host:pid:random.
  char host[256] = {};
  (void)gethostname(host, sizeof(host) - 1);
  auto tag = randomHex(4);
  std::string instance =
      std::string(host) + ":" + std::to_string(getpid()) + ":" + (tag ? *tag : "0");
  auto storage = std::make_unique<SqlStorage>(std::move(conns), postgres, options.search_index,
                                              std::move(instance));
  if (Status s = storage->migrate(); !s) return s.error();
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace t0w::collector
