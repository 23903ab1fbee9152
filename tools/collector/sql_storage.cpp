// Storage implemented once over SqlConn for both SQLite and PostgreSQL; the SQL is the subset
// both understand (ON CONFLICT DO NOTHING, RETURNING), with LIKE vs ILIKE the one difference.
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include "agent/queue/migrator.h"
#include "tools/collector/sql_conn.h"
#include "tools/collector/storage.h"

namespace t0w::collector {
namespace {

constexpr Migration kSqliteMigrations[] = {
#include "collector_sqlite_migrations.inc"
};
constexpr Migration kPostgresMigrations[] = {
#include "collector_postgres_migrations.inc"
};

using Rows = std::vector<SqlRow>;

int64_t num(const std::optional<std::string>& v) {
  if (!v) return 0;
  try {
    return std::stoll(*v);
  } catch (...) {
    return 0;  // columns we read as numbers are integer columns; never reached in practice
  }
}
std::optional<int64_t> optNum(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  return num(v);
}
std::string str(const std::optional<std::string>& v) { return v.value_or(""); }

SqlParam optParam(const std::optional<int64_t>& v) {
  return v ? SqlParam(*v) : SqlParam(std::monostate{});
}

std::string likePattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

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

class SqlStorage final : public Storage {
 public:
  SqlStorage(std::vector<std::unique_ptr<SqlConn>> conns, bool postgres)
      : all_(std::move(conns)), postgres_(postgres) {
    for (auto& c : all_) free_.push_back(c.get());
  }

  const char* driver() const override { return postgres_ ? "postgres" : "sqlite"; }

  Status migrate() {
    Lease c(*this);
    const std::span<const Migration> migrations =
        postgres_ ? std::span<const Migration>(kPostgresMigrations)
                  : std::span<const Migration>(kSqliteMigrations);
    if (Status s =
            c->script("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                      "name TEXT NOT NULL)");
        !s) {
      return s;
    }
    for (const Migration& m : migrations) {
      if (Status s = c->begin(); !s) return s;
      if (postgres_) {
        // Two collectors starting at once on one database: the second waits, then skips.
        if (Status s = c->script("SELECT pg_advisory_xact_lock(7302531)"); !s) {
          return rollback(*c, s.error());
        }
      }
      auto done =
          c->query("SELECT version FROM schema_migrations WHERE version = ?", {int64_t{m.version}});
      if (!done) return rollback(*c, done.error());
      if (!done->empty()) {
        if (Status s = c->script("COMMIT"); !s) return s;
        continue;
      }
      if (Status s = c->script(std::string(m.sql)); !s) {
        return rollback(*c, makeError(s.error().code, "migration " + std::string(m.name) + ": " +
                                                          s.error().message));
      }
      auto ins = c->query("INSERT INTO schema_migrations(version, name) VALUES (?, ?)",
                          {int64_t{m.version}, std::string(m.name)});
      if (!ins) return rollback(*c, ins.error());
      if (Status s = c->script("COMMIT"); !s) return s;
    }
    auto newest = c->query("SELECT MAX(version) FROM schema_migrations", {});
    if (!newest) return newest.error();
    if (!newest->empty() && num((*newest)[0][0]) > migrations.back().version) {
      return makeError(Errc::kUnsupported, "database schema version " +
                                               std::to_string(num((*newest)[0][0])) +
                                               " is newer than this collector supports");
    }
    return {};
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

  static constexpr const char* kAgentColumns =
      "name, agent_id, hostname, version, enrolled_at, last_seen, last_batch, batches, events, "
      "alerts, drops, gaps, status";

  static AgentRecord agentFromRow(const SqlRow& r) {
    AgentRecord a;
    a.name = str(r[0]);
    a.agent_id = str(r[1]);
    a.hostname = str(r[2]);
    a.version = str(r[3]);
    a.enrolled_at = num(r[4]);
    a.last_seen = optNum(r[5]);
    a.last_batch = str(r[6]);
    a.batches = num(r[7]);
    a.events = num(r[8]);
    a.alerts = num(r[9]);
    a.drops = num(r[10]);
    a.gaps = num(r[11]);
    a.status = str(r[12]);
    return a;
  }

  Result<std::optional<AgentRecord>> agentByTokenHash(const std::string& token_hash) override {
    Lease c(*this);
    auto rows = c->query(
        std::string("SELECT ") + kAgentColumns + " FROM agents WHERE token_hash = ?", {token_hash});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<AgentRecord>();
    return std::optional<AgentRecord>(agentFromRow((*rows)[0]));
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
    auto result = ingestLocked(*c, b);
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

  Result<std::vector<StoredEvent>> queryEvents(const EventQuery& q) override {
    std::string sql = std::string("SELECT ") + kEventColumns + " FROM events WHERE 1=1";
    std::vector<SqlParam> p;
    if (q.host) sql += " AND host = ?", p.push_back(*q.host);
    if (q.channel) sql += " AND channel = ?", p.push_back(*q.channel);
    if (q.event_id) sql += " AND event_id = ?", p.push_back(*q.event_id);
    if (q.since) sql += " AND time >= ?", p.push_back(*q.since);
    if (q.until) sql += " AND time < ?", p.push_back(*q.until);
    if (q.text) {
      sql += postgres_ ? " AND body ILIKE ? ESCAPE '\\'" : " AND body LIKE ? ESCAPE '\\'";
      p.push_back(likePattern(*q.text));
    }
    if (q.before_id) sql += " AND id < ?", p.push_back(*q.before_id);
    sql += " ORDER BY id DESC LIMIT ?";
    p.push_back(int64_t{q.limit});
    Lease c(*this);
    auto rows = c->query(sql, p);
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

  Result<std::vector<ForwardItem>> dueForwards(const std::string& output, int64_t now,
                                               int limit) override {
    Lease c(*this);
    auto rows = c->query(
        "SELECT id, payload, attempts FROM forward_queue WHERE output = ? AND next_attempt <= ? "
        "ORDER BY id LIMIT ?",
        {output, now, int64_t{limit}});
    if (!rows) return rows.error();
    std::vector<ForwardItem> out;
    for (const auto& r : *rows) out.push_back({num(r[0]), str(r[1]), num(r[2])});
    return out;
  }

  Status ackForwards(const std::vector<int64_t>& ids) override {
    return eachInTransaction(ids, "DELETE FROM forward_queue WHERE id = ?", std::nullopt);
  }

  Status retryForwards(const std::vector<int64_t>& ids, int64_t next_attempt) override {
    return eachInTransaction(
        ids, "UPDATE forward_queue SET attempts = attempts + 1, next_attempt = ? WHERE id = ?",
        next_attempt);
  }

  Result<int64_t> forwardDepth(const std::string& output) override {
    Lease c(*this);
    auto rows = c->query("SELECT COUNT(*) FROM forward_queue WHERE output = ?", {output});
    if (!rows) return rows.error();
    return rows->empty() ? 0 : num((*rows)[0][0]);
  }

  Result<RetentionResult> applyRetention(std::optional<int64_t> older_than,
                                         int64_t max_bytes) override {
    RetentionResult out;
    if (older_than) {
      Lease c(*this);
      for (const char* table : {"events", "alerts", "statuses"}) {
        auto rows =
            c->query(std::string("DELETE FROM ") + table + " WHERE received < ? RETURNING id",
                     {*older_than});
        if (!rows) return rows.error();
        out.deleted += static_cast<int64_t>(rows->size());
      }
      if (auto r = c->query("DELETE FROM batches WHERE received < ?", {*older_than}); !r) {
        return r.error();
      }
    }
    if (max_bytes > 0) {
      // Oldest first, a slice at a time; events go before alerts, which are rarer and matter more.
      for (int round = 0; round < 100000; ++round) {
        auto bytes = storedBytes();
        if (!bytes) return bytes.error();
        if (*bytes <= max_bytes) break;
        Lease c(*this);
        int64_t deleted = 0;
        for (const char* table : {"events", "statuses", "alerts"}) {
          auto rows =
              c->query(std::string("DELETE FROM ") + table + " WHERE id IN (SELECT id FROM " +
                           table + " ORDER BY id LIMIT 200) RETURNING id",
                       {});
          if (!rows) return rows.error();
          deleted = static_cast<int64_t>(rows->size());
          if (deleted > 0) break;
        }
        out.deleted += deleted;
        if (deleted == 0) break;
      }
    }
    return out;
  }

  Result<int64_t> storedBytes() override {
    Lease c(*this);
    auto rows = c->query(
        "SELECT (SELECT COALESCE(SUM(LENGTH(body)), 0) FROM events) + "
        "(SELECT COALESCE(SUM(LENGTH(body)), 0) FROM alerts) + "
        "(SELECT COALESCE(SUM(LENGTH(body)), 0) FROM statuses)",
        {});
    if (!rows) return rows.error();
    return rows->empty() ? 0 : num((*rows)[0][0]);
  }

 private:
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

  static constexpr const char* kEventColumns =
      "id, key, agent, host, channel, event_id, record_id, time, received, body";
  static constexpr const char* kAlertColumns =
      "id, key, agent, host, rule_id, rule_title, level, time, received, event_key, body, "
      "acknowledged_by, acknowledged_at";

  static StoredEvent eventFromRow(const SqlRow& r) {
    return StoredEvent{num(r[0]), str(r[1]), str(r[2]),    str(r[3]), str(r[4]),
                       num(r[5]), num(r[6]), optNum(r[7]), num(r[8]), str(r[9])};
  }
  static StoredAlert alertFromRow(const SqlRow& r) {
    StoredAlert a{num(r[0]),  str(r[1]),    str(r[2]),    str(r[3]), str(r[4]),
                  str(r[5]),  str(r[6]),    optNum(r[7]), num(r[8]), str(r[9]),
                  str(r[10]), std::nullopt, std::nullopt};
    if (r[11]) a.acknowledged_by = *r[11];
    a.acknowledged_at = optNum(r[12]);
    return a;
  }

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
      std::vector<SqlParam> p;
      if (first) p.push_back(*first);
      p.push_back(id);
      if (auto r = c->query(sql, p); !r) return rollback(*c, r.error());
    }
    return c->script("COMMIT");
  }

  Result<IngestResult> ingestLocked(SqlConn& c, const IngestBatch& b) {
    IngestResult out;
    auto batch = c.query(
        "INSERT INTO batches(batch_id, agent, received, records) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id",
        {b.batch_id, b.agent, b.received, static_cast<int64_t>(b.records.size())});
    if (!batch) return batch.error();
    int64_t events = 0;
    int64_t alerts = 0;
    if (batch->empty()) {
      out.duplicate_batch = true;
    } else {
      for (const IngestRecord& r : b.records) {
        Result<Rows> rows = Rows{};
        if (r.kind == RecordKind::kEvent) {
          rows = c.query(
              "INSERT INTO events(key, agent, host, channel, event_id, record_id, time, received, "
              "body) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (key) DO NOTHING RETURNING id",
              {r.key, b.agent, r.host, r.channel, r.event_id, r.record_id, optParam(r.time),
               b.received, r.body});
        } else if (r.kind == RecordKind::kAlert) {
          rows = c.query(
              "INSERT INTO alerts(key, agent, host, rule_id, rule_title, level, time, received, "
              "event_key, body) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (key) DO NOTHING "
              "RETURNING id",
              {r.key, b.agent, r.host, r.rule_id, r.rule_title, r.level, optParam(r.time),
               b.received, r.event_key, r.body});
        } else {
          rows = c.query(
              "INSERT INTO statuses(key, agent, type, time, received, body) VALUES (?,?,?,?,?,?) "
              "ON CONFLICT (key) DO NOTHING RETURNING id",
              {r.key, b.agent, r.status_type, optParam(r.time), b.received, r.body});
        }
        if (!rows) return rows.error();
        if (rows->empty()) {
          ++out.duplicates;
          continue;
        }
        ++out.stored;
        if (r.kind == RecordKind::kEvent) ++events;
        if (r.kind == RecordKind::kAlert) ++alerts;
        if (r.kind == RecordKind::kStatus) continue;
        for (const std::string& output : b.forward_outputs) {
          auto f = c.query(
              "INSERT INTO forward_queue(output, payload, created, next_attempt) VALUES (?,?,?,0)",
              {output, forwardPayload(b, r), b.received});
          if (!f) return f.error();
        }
      }
    }
    SqlParam status = b.status ? SqlParam(*b.status) : SqlParam(std::monostate{});
    auto agent = c.query(
        "UPDATE agents SET agent_id = ?, hostname = ?, version = ?, last_seen = ?, last_batch = ?, "
        "batches = batches + 1, events = events + ?, alerts = alerts + ?, drops = drops + ?, "
        "gaps = gaps + ?, status = COALESCE(?, status) WHERE name = ? RETURNING name",
        {b.agent_id, b.hostname, b.version, b.received, b.batch_id, events, alerts,
         out.duplicate_batch ? int64_t{0} : b.drops, out.duplicate_batch ? int64_t{0} : b.gaps,
         status, b.agent});
    if (!agent) return agent.error();
    if (agent->empty()) return makeError(Errc::kNotFound, "agent " + b.agent + " is not enrolled");
    out.stored_events = events;
    out.stored_alerts = alerts;
    return out;
  }

  std::vector<std::unique_ptr<SqlConn>> all_;
  bool postgres_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<SqlConn*> free_;
};

}  // namespace

Result<std::unique_ptr<Storage>> openStorage(const std::string& driver, const std::string& target) {
  std::vector<std::unique_ptr<SqlConn>> conns;
  bool postgres = false;
  if (driver == "sqlite") {
    // One writer connection: SQLite serialises writers anyway, and one connection keeps the
    // prepared statements hot.
    auto c = openSqliteConn(target);
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
  auto storage = std::make_unique<SqlStorage>(std::move(conns), postgres);
  if (Status s = storage->migrate(); !s) return s.error();
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace t0w::collector
