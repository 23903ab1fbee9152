// Storage: everything tier0watch-collector keeps, behind one interface with two implementations
// (SqliteStorage, embedded, the default; PostgresStorage for larger fleets). The same typed test
// suite runs against both. Times are Unix microseconds (UTC). Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/result.h"
#include "common/wire/queue_record.h"

namespace t0w::collector {

struct AgentRecord {
  std::string name;
  std::string agent_id;  // empty until the first batch
  std::string hostname;
  std::string version;
  int64_t enrolled_at = 0;
  std::optional<int64_t> last_seen;
  std::string last_batch;
  int64_t batches = 0;
  int64_t events = 0;
  int64_t alerts = 0;
  int64_t drops = 0;
  int64_t gaps = 0;
  int64_t conflicts = 0;      // batch ids and record keys re-sent with other content
  std::string status = "{}";  // latest agent_status report (JSON object)
  // The heartbeat the health tracker evaluated before `status`: counters are compared as deltas.
  std::string prev_status = "{}";
  std::optional<int64_t> last_heartbeat;  // when the latest agent_status arrived
  std::string enrolled_via;  // the site secret it enrolled with; empty: `agents enroll`
  std::optional<int64_t> revoked_at;
  std::optional<int64_t> rotated_at;
};

// A site (or collection) enrolment secret: many agents exchange it, once each, for a
// credential of their own.
struct EnrollmentSecret {
  std::string name;
  std::string secret_hash;  // SHA-256 (hex); the secret itself is never stored
  int64_t created = 0;
  std::optional<int64_t> expires;
  std::optional<int64_t> max_uses;
  int64_t uses = 0;
  std::optional<int64_t> revoked_at;
};

// What an agent presents when it enrols.
struct EnrollmentRequest {
  std::string secret_hash;
  std::string agent_id;
  std::string hostname;
  std::string version;
  std::string credential_hash;  // of the credential the collector made for it
  int64_t now = 0;
};

struct EnrollmentResult {
  enum class Outcome { kEnrolled, kUnknownSecret, kRevoked, kExpired, kExhausted, kAgentExists };
  Outcome outcome = Outcome::kUnknownSecret;
  std::string name;    // kEnrolled: the agent's name; kAgentExists: the holder of the id
  std::string secret;  // the secret's name (kEnrolled and the secret's refusals)
};

// One record of a batch, with the columns the queries filter on pulled out of its body.
struct IngestRecord {
  RecordKind kind = RecordKind::kEvent;
  std::string key;
  std::string host;
  std::optional<int64_t> time;
  std::string body;  // JSON object
  // Events.
  std::string channel;
  int64_t event_id = 0;
  int64_t record_id = 0;
  // Alerts.
  std::string rule_id;
  std::string rule_title;
  std::string level;
  std::string event_key;
  // Status reports. Drops and gaps count on the agent only when the report is new, so a report
  // re-sent after a crash (in another batch) is not counted twice.
  std::string status_type;
  int64_t dropped_events = 0;  // queue_drop reports
};

struct IngestBatch {
  std::string agent;  // enrolled name
  std::string agent_id;
  std::string hostname;
  std::string version;
  std::string batch_id;
  std::string content_hash;  // SHA-256 (hex) of the records: tells a re-send from a reused id
  int64_t received = 0;
  std::vector<IngestRecord> records;
  std::optional<std::string> status;  // newest agent_status body, replaces the stored one
  // SIEM outputs that get a copy of each newly stored event and alert (durable queue rows).
  std::vector<std::string> forward_outputs;
};

struct IngestResult {
  bool duplicate_batch = false;  // the same batch (id and content) was stored before: no writes
  bool conflict_batch = false;   // the batch id was stored before with other content
  int64_t stored = 0;
  int64_t duplicates = 0;  // records whose key was already stored with the same content
  int64_t conflicts = 0;   // batch id and record keys stored before with other content
  int64_t stored_events = 0;
  int64_t stored_alerts = 0;
  int64_t raised_alerts = 0;  // alerts the collector raised itself (conflicts)
};

// A batch id or record key that came back with other content than was stored under it.
struct ConflictRecord {
  int64_t id = 0;
  std::string agent;
  std::string kind;  // batch | event | alert | status
  std::string key;
  std::string batch_id;
  int64_t received = 0;
  std::string stored_hash;
  std::string new_hash;
  std::string body;
};

// A status report of an agent (queue drops, quarantined queue file, event log gaps, ...).
struct StatusReport {
  int64_t id = 0;
  std::string key;
  std::string type;
  std::optional<int64_t> time;
  int64_t received = 0;
  std::string body;
};

struct StoredEvent {
  int64_t id = 0;
  std::string key;
  std::string agent;
  std::string host;
  std::string channel;
  int64_t event_id = 0;
  int64_t record_id = 0;
  std::optional<int64_t> time;
  int64_t received = 0;
  std::string body;
};

struct StoredAlert {
  int64_t id = 0;
  std::string key;
  std::string agent;
  std::string host;
  std::string rule_id;
  std::string rule_title;
  std::string level;
  std::optional<int64_t> time;
  int64_t received = 0;
  std::string event_key;
  std::string body;
  std::optional<std::string> acknowledged_by;
  std::optional<int64_t> acknowledged_at;
};

// Results are newest first (id descending); `before_id` continues a page.
struct EventQuery {
  std::optional<std::string> host;
  std::optional<std::string> channel;
  std::optional<int64_t> event_id;
  std::optional<int64_t> since;     // event time >= since
  std::optional<int64_t> until;     // event time < until
  std::optional<std::string> text;  // case-insensitive substring of the event's JSON (ASCII
                                    // case on SQLite, the database's on PostgreSQL)
  std::optional<int64_t> before_id;
  int limit = 100;
};

struct AlertQuery {
  std::optional<std::string> rule_id;
  std::optional<std::string> level;
  std::optional<std::string> host;
  std::optional<int64_t> since;
  std::optional<int64_t> until;
  std::optional<bool> acknowledged;
  std::optional<int64_t> before_id;
  int limit = 100;
};

struct ChannelLag {
  std::string channel;
  std::optional<int64_t> last_event_time;
  int64_t last_received = 0;
};

struct UserRecord {
  std::string name;
  std::string salt;  // hex
  std::string hash;  // hex
  int64_t iterations = 0;
  int64_t created = 0;
};

struct SessionRecord {
  std::string user;
  std::string csrf;
  int64_t created = 0;
  int64_t expires = 0;
};

struct ForwardItem {
  int64_t id = 0;
  std::string payload;
  int64_t attempts = 0;
};

// A health issue (tools/collector/health.h): one condition of one agent and, where it applies,
// one source.
struct HealthIssue {
  int64_t id = 0;
  std::string agent;
  std::string code;
  std::string source;  // empty: the agent as a whole
  std::string severity;
  std::string detail;
  int64_t first_seen = 0;
  int64_t last_seen = 0;
  std::string state = "open";  // open | closed | suppressed
  std::optional<int64_t> closed_at;
  std::optional<int64_t> suppressed_until;
  std::optional<std::string> suppressed_by;
};

struct HealthQuery {
  std::optional<std::string> agent;
  std::optional<std::string> code;
  std::optional<std::string> state;
  bool not_closed = false;  // open and suppressed only
  int limit = 500;
};

// Alerts received per time bucket and level (the dashboard's chart).
struct AlertBucket {
  int64_t bucket = 0;  // start, Unix microseconds
  std::string level;
  int64_t count = 0;
};

struct RetentionResult {
  int64_t deleted = 0;
  int64_t quota_deleted = 0;  // of those: records of agents over their quota
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual const char* driver() const = 0;

  // Agents.
  // Fails with kInvalidArgument when the name is taken.
  virtual Status enrollAgent(const std::string& name, const std::string& token_hash,
                             int64_t now) = 0;
  virtual Result<std::optional<AgentRecord>> agentByTokenHash(const std::string& token_hash) = 0;
  // Site enrolment (one transaction): checks the secret (known, not revoked, not expired, uses
  // left), refuses an agent id that is enrolled already (a secret must not hand out another
  // agent's identity), names the agent after its host name (made unique), stores it with its
  // credential bound to its agent id, and counts the use.
  virtual Result<EnrollmentResult> enrollWithSecret(const EnrollmentRequest& request) = 0;
  virtual Status addEnrollmentSecret(
      const EnrollmentSecret& secret) = 0;  // kInvalidArgument: name taken
  virtual Result<std::vector<EnrollmentSecret>> listEnrollmentSecrets() = 0;
  // false: no such secret.
  virtual Result<bool> revokeEnrollmentSecret(const std::string& name, int64_t now) = 0;
  // Revoked agents stay listed (and shown as revoked); their credential gets 401.
  virtual Result<bool> revokeAgent(const std::string& name, int64_t now) = 0;
  // A new credential for the agent (the old one stops working); clears a revocation.
  virtual Result<bool> rotateAgentCredential(const std::string& name, const std::string& token_hash,
                                             int64_t now) = 0;
  // Binds an enrolled agent (by name) to the agent id its first batch names. false when another
  // agent holds that id: an id, and so its record-key space, belongs to one credential.
  virtual Result<bool> bindAgentId(const std::string& name, const std::string& agent_id) = 0;
  virtual Result<std::vector<AgentRecord>> listAgents() = 0;
  virtual Result<std::vector<ChannelLag>> channelLag(const std::string& agent) = 0;

  // Ingest: one transaction stores the batch id, the new records, their forward-queue rows and
  // the agent's last-seen state. A batch seen before (same id, same content hash) writes
  // nothing. A batch id or record key seen before with other content is a conflict: kept in the
  // conflicts table, counted on the agent, and raised as one alert per batch (conflict_alert.h).
  virtual Result<IngestResult> ingest(const IngestBatch& batch) = 0;
  // Newest first.
  virtual Result<std::vector<ConflictRecord>> recentConflicts(const std::string& agent,
                                                              int limit) = 0;
  virtual Result<std::vector<StatusReport>> recentStatuses(const std::string& agent, int limit) = 0;
  // Status reports of one type received since `since`, oldest first (the heartbeat history).
  virtual Result<std::vector<StatusReport>> statusHistory(const std::string& agent,
                                                          const std::string& type, int64_t since,
                                                          int limit) = 0;

  // Health issues, newest first.
  virtual Result<std::vector<HealthIssue>> queryHealth(const HealthQuery& query) = 0;
  // The tracker evaluated `status` of the agent: the next heartbeat moves it to prev_status
  // (no effect when another heartbeat replaced it meanwhile).
  virtual Status markHealthEvaluated(const std::string& agent, const std::string& status) = 0;
  virtual Result<std::optional<HealthIssue>> healthIssueById(int64_t id) = 0;
  // Stores a new issue; returns its id.
  virtual Result<int64_t> addHealthIssue(const HealthIssue& issue) = 0;
  // Rewrites an issue's mutable fields (severity, detail, last_seen, state, closed_at,
  // suppressed_until, suppressed_by) by id.
  virtual Status updateHealthIssue(const HealthIssue& issue) = 0;
  // The same, only while the stored state is still `expected_state`: false when another
  // instance (or a user) changed it since it was read; nothing is written then.
  virtual Result<bool> updateHealthIssueIf(const HealthIssue& issue,
                                           const std::string& expected_state) = 0;
  // Alerts received since `since`, counted per `bucket` microseconds and level.
  virtual Result<std::vector<AlertBucket>> alertHistogram(int64_t since, int64_t bucket) = 0;

  // Queries.
  virtual Result<std::vector<StoredEvent>> queryEvents(const EventQuery& query) = 0;
  virtual Result<std::optional<StoredEvent>> eventById(int64_t id) = 0;
  virtual Result<std::optional<StoredEvent>> eventByKey(const std::string& key) = 0;
  virtual Result<std::vector<StoredAlert>> queryAlerts(const AlertQuery& query) = 0;
  virtual Result<std::optional<StoredAlert>> alertById(int64_t id) = 0;
  // false when there is no such alert.
  virtual Result<bool> acknowledgeAlert(int64_t id, const std::string& user, int64_t now) = 0;

  // Dashboard users and sessions.
  virtual Status addUser(const UserRecord& user) = 0;  // kInvalidArgument when it exists
  virtual Result<std::optional<UserRecord>> userByName(const std::string& name) = 0;
  virtual Status createSession(const std::string& token_hash, const SessionRecord& session) = 0;
  // Expired sessions are not returned.
  virtual Result<std::optional<SessionRecord>> sessionByHash(const std::string& token_hash,
                                                             int64_t now) = 0;
  virtual Status deleteSession(const std::string& token_hash) = 0;

  // SIEM forward queues.
  // Claims up to `limit` rows of `output` whose next attempt is due and that no instance holds,
  // oldest first, for this instance until `lease_until` (one statement; PostgreSQL skips rows
  // another instance is claiming). A claim that was neither acknowledged nor retried by then
  // (the instance died) runs out and the rows are claimed again: at-least-once.
  virtual Result<std::vector<ForwardItem>> claimForwards(const std::string& output, int64_t now,
                                                         int64_t lease_until, int limit) = 0;
  virtual Status ackForwards(const std::vector<int64_t>& ids) = 0;
  // Releases the claim and schedules the next attempt.
  virtual Status retryForwards(const std::vector<int64_t>& ids, int64_t next_attempt) = 0;
  virtual Result<int64_t> forwardDepth(const std::string& output) = 0;
  // Queues one payload for `output` (health notifications; records are queued by ingest).
  virtual Status enqueueForward(const std::string& output, const std::string& payload,
                                int64_t now) = 0;

  // Retention: deletes events, alerts, statuses and batch ids received before `older_than`, then
  // the oldest records of each agent above `max_bytes_per_agent`, then the oldest records until
  // the stored record bytes fit `max_bytes` (0: no limit). Sizes come from per-agent totals kept
  // as rows are stored and deleted, never from a scan of the bodies.
  virtual Result<RetentionResult> applyRetention(std::optional<int64_t> older_than,
                                                 int64_t max_bytes,
                                                 int64_t max_bytes_per_agent) = 0;
  // Bytes of stored record bodies (events, alerts, statuses), from the per-agent totals.
  virtual Result<int64_t> storedBytes() = 0;

  // State shared by the instances of a collector on one database (docs/scaling.md).
  // This process's id among them ("host:pid:random"): the holder of its claims and leases.
  virtual const std::string& instanceId() const = 0;
  // Takes one token from the bucket `bucket` (refilled at `per_second` up to `burst`), in one
  // statement on the database server's clock, so every instance draws from the same bucket.
  // nullopt: granted; otherwise the microseconds until a token is due.
  virtual Result<std::optional<int64_t>> takeRateToken(const std::string& bucket, double per_second,
                                                       double burst) = 0;
  // Takes or renews the lease `name` for this instance until `until` when it is free, expired
  // (expires <= now) or already this instance's; false when another instance holds it.
  virtual Result<bool> holdLease(const std::string& name, int64_t now, int64_t until) = 0;
  // A stopping instance gives back its leases and forward-queue claims, so that another takes
  // over at once rather than when they run out.
  virtual Status releaseInstance() = 0;
  // The instance ids holding a lease or a forward-queue claim now, and the release of one of
  // them (an instance restarted on the same host releases its dead predecessor's).
  virtual Result<std::vector<std::string>> holders() = 0;
  virtual Status releaseHolder(const std::string& instance_id) = 0;
};

struct StorageOptions {
  // SQLite (WAL): FULL syncs the log at every commit, so an acknowledged batch survives a power
  // loss; NORMAL survives a crash of the process only. PostgreSQL: its synchronous_commit.
  bool sqlite_full_sync = true;
  // storage.search_index: free-text search through a trigram index (sql_search.h), created at
  // start when missing and kept at ingest: FTS5 on SQLite, pg_trgm GIN on PostgreSQL. Off, it is
  // dropped at start and a search reads the bodies.
  bool search_index = false;
};

// Opens the storage named by `driver` ("sqlite": `target` is a file path, created readable by
// its owner only; "postgres": a libpq connection string) and brings its schema up to date.
Result<std::unique_ptr<Storage>> openStorage(const std::string& driver, const std::string& target,
                                             const StorageOptions& options = {});

// Creates `dir` (and parents) and restricts it to its owner (0700): it holds the database, the
// TLS key and the certificates.
Status createPrivateDirectory(const std::string& dir);

}  // namespace t0w::collector
