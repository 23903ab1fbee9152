// One storage test suite, run against SQLite (temp dir) and a real PostgreSQL server
// (T0W_PG_URL, started by scripts/postgres-test-server.sh). Without T0W_PG_URL the PostgreSQL
// half skips, unless T0W_REQUIRE_POSTGRES=1, where it fails.
#include "tools/collector/storage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <thread>

#include "tools/collector/health.h"
#include "tools/collector/notifier.h"
#include "tools/collector/rate_limiter.h"
#include "tools/collector/security.h"
#include "tools/collector/sql_conn.h"
#include "tools/collector/sql_search.h"

namespace t0w::collector {
namespace {

// SQLite configured for the whole process as the collector's main() does, before any connection:
// the storage is tested as it runs (statement journals in memory up to 4 MiB among others).
class CollectorSqliteConfig : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_TRUE(configureSqliteForCollector()); }
};
[[maybe_unused]] const auto* const kSqliteConfig =
    ::testing::AddGlobalTestEnvironment(new CollectorSqliteConfig);

class SqliteBackend {
 public:
  static constexpr const char* kName = "sqlite";
  Result<std::unique_ptr<Storage>> open() {
    char tmpl[] = "/tmp/t0w-collector-storage-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return makeError(Errc::kIo, "mkdtemp");
    dir_ = tmpl;
    return openStorage("sqlite", dir_ + "/collector.db");
  }
  Result<std::unique_ptr<Storage>> reopen(const StorageOptions& options = {}) {
    return openStorage("sqlite", dir_ + "/collector.db", options);
  }
  // A connection of the test's own to the database, beside the storage's.
  Result<std::unique_ptr<SqlConn>> conn() { return openSqliteConn(dir_ + "/collector.db"); }
  // A new place for a database that nobody opened yet.
  Status createEmpty() {
    char tmpl[] = "/tmp/t0w-collector-storage-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return makeError(Errc::kIo, "mkdtemp");
    dir_ = tmpl;
    return {};
  }
  void cleanup() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

class PostgresBackend {
 public:
  static constexpr const char* kName = "postgres";
  static const char* url() { return std::getenv("T0W_PG_URL"); }
  // A database of its own per test, dropped afterwards.
  Result<std::unique_ptr<Storage>> open() {
    auto admin = openPostgresConn(url());
    if (!admin) return admin.error();
    std::random_device rd;
    db_ = "t0w_test_" + std::to_string(getpid()) + "_" + std::to_string(rd() % 1000000);
    if (Status s = (*admin)->script("CREATE DATABASE " + db_); !s) return s.error();
    return reopen();
  }
  Status createEmpty() {
    auto admin = openPostgresConn(url());
    if (!admin) return admin.error();
    std::random_device rd;
    db_ = "t0w_test_" + std::to_string(getpid()) + "_" + std::to_string(rd() % 1000000);
    return (*admin)->script("CREATE DATABASE " + db_);
  }
  Result<std::unique_ptr<Storage>> reopen(const StorageOptions& options = {}) {
    return openStorage("postgres", std::string(url()) + " dbname=" + db_, options);
  }
  Result<std::unique_ptr<SqlConn>> conn() {
    return openPostgresConn(std::string(url()) + " dbname=" + db_);
  }
  void cleanup() {
    if (db_.empty()) return;
    auto admin = openPostgresConn(url());
    if (admin) (void)(*admin)->script("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
  }
  std::string db_;
};

template <typename Backend>
class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if constexpr (std::is_same_v<Backend, PostgresBackend>) {
      if (PostgresBackend::url() == nullptr) {
        const char* req = std::getenv("T0W_REQUIRE_POSTGRES");
        if (req != nullptr && std::string(req) == "1") {
          FAIL() << "T0W_REQUIRE_POSTGRES=1 but T0W_PG_URL is unset "
                    "(start scripts/postgres-test-server.sh)";
        }
        GTEST_SKIP() << "T0W_PG_URL unset: PostgreSQL storage tests skipped "
                        "(scripts/postgres-test-server.sh start exports it)";
      }
    }
    auto s = backend_.open();
    ASSERT_TRUE(s) << s.error().toString();
    storage_ = std::move(*s);
  }
  void TearDown() override {
    storage_.reset();
    backend_.cleanup();
  }

  void enroll(const std::string& name) {
    ASSERT_TRUE(storage_->enrollAgent(name, sha256Hex("token-" + name), 1000));
  }

  // Ingest counts the stored bytes as the database's LENGTH(body), which the deletion triggers
  // subtract: the two agree.
  void expectStoredBytesAreTheBodiesLength() {
    auto conn = backend_.conn();
    ASSERT_TRUE(conn) << conn.error().toString();
    auto sum = (*conn)->query("SELECT SUM(LENGTH(body)) FROM events", {});
    ASSERT_TRUE(sum) << sum.error().toString();
    auto stored = storage_->storedBytes();
    ASSERT_TRUE(stored) << stored.error().toString();
    EXPECT_EQ(*stored, sqlInt((*sum)[0][0]));
  }
  static IngestRecord event(const std::string& key, const std::string& host, int64_t event_id,
                            int64_t time, const std::string& text = "x") {
    IngestRecord r;
    r.kind = RecordKind::kEvent;
    r.key = key;
    r.host = host;
    r.channel = "Security";
    r.event_id = event_id;
    r.record_id = time;
    r.time = time;
    r.body = "{\"System\":{\"EventID\":" + std::to_string(event_id) + "},\"EventData\":{\"v\":\"" +
             text + "\"}}";
    return r;
  }
  static IngestRecord alert(const std::string& key, const std::string& rule,
                            const std::string& level, int64_t time) {
    IngestRecord r;
    r.kind = RecordKind::kAlert;
    r.key = key;
    r.host = "DC01";
    r.rule_id = rule;
    r.rule_title = "Rule " + rule;
    r.level = level;
    r.time = time;
    r.event_key = "a1|Security|1";
    r.body = "{\"rule_id\":\"" + rule + "\"}";
    return r;
  }
  static IngestBatch batch(const std::string& id, std::vector<IngestRecord> records,
                           int64_t received = 5000) {
    IngestBatch b;
    b.agent = "dc01";
    b.agent_id = "a1";
    b.hostname = "DC01";
    b.version = "0.1.0";
    b.batch_id = id;
    b.received = received;
    b.records = std::move(records);
    return b;
  }

  Backend backend_;
  std::unique_ptr<Storage> storage_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
struct BackendNames {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};
TYPED_TEST_SUITE(StorageTest, Backends, BackendNames);

TYPED_TEST(StorageTest, EnrolsAgentsAndFindsThemByTokenHash) {
  this->enroll("dc01");
  auto found = this->storage_->agentByTokenHash(sha256Hex("token-dc01"));
  ASSERT_TRUE(found) << found.error().toString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->name, "dc01");
  EXPECT_FALSE((*found)->last_seen.has_value());
  auto missing = this->storage_->agentByTokenHash(sha256Hex("other"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  Status again = this->storage_->enrollAgent("dc01", sha256Hex("x"), 1);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kInvalidArgument);
}

// An agent id, and with it the record-key space it prefixes, belongs to one credential.
TYPED_TEST(StorageTest, AnAgentIdBelongsToOneAgent) {
  this->enroll("dc01");
  this->enroll("srv9");
  EXPECT_TRUE(*this->storage_->bindAgentId("dc01", "dc01-agent"));
  EXPECT_TRUE(*this->storage_->bindAgentId("dc01", "dc01-agent")) << "idempotent";
  EXPECT_FALSE(*this->storage_->bindAgentId("srv9", "dc01-agent"));
  EXPECT_TRUE(*this->storage_->bindAgentId("srv9", "srv9-agent"));
  EXPECT_FALSE(*this->storage_->bindAgentId("srv9", "other-agent")) << "bound already";
  auto found = this->storage_->agentByTokenHash(sha256Hex("token-srv9"));
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->agent_id, "srv9-agent");
}

// Enrolment per site: one secret, many agents, each with its own credential bound to its id;
// expiry, use limit and revocation of the secret; per-agent revocation and rotation.
TYPED_TEST(StorageTest, SiteSecretEnrolsManyAgentsWithinItsLimits) {
  using Outcome = EnrollmentResult::Outcome;
  Storage& st = *this->storage_;
  EnrollmentSecret site;
  site.name = "dc-site";
  site.secret_hash = sha256Hex("site-secret");
  site.created = 1000;
  site.expires = 100000;
  site.max_uses = 2;
  ASSERT_TRUE(st.addEnrollmentSecret(site));
  EXPECT_FALSE(st.addEnrollmentSecret(site)) << "the name is taken";
  auto request = [](const std::string& secret, const std::string& id, const std::string& host,
                    const std::string& credential, int64_t now) {
    return EnrollmentRequest{sha256Hex(secret), id, host, "0.1.0", sha256Hex(credential), now};
  };
  auto r = st.enrollWithSecret(request("site-secret", "a1", "DC01.corp", "c1", 2000));
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ(r->outcome, Outcome::kEnrolled);
  EXPECT_EQ(r->name, "dc01.corp");
  EXPECT_EQ(r->secret, "dc-site");
  // An enrolled id cannot be taken over with the secret (and the use is not spent).
  r = st.enrollWithSecret(request("site-secret", "a1", "EVIL", "c3", 2000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kAgentExists);
  EXPECT_EQ(r->name, "dc01.corp");
  // A clone with the same host name gets a name of its own.
  r = st.enrollWithSecret(request("site-secret", "a2abcdefabcdef99", "DC01.corp", "c2", 2000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kEnrolled);
  EXPECT_EQ(r->name, "dc01.corp-a2abcdefabcd");
  r = st.enrollWithSecret(request("site-secret", "a4", "DC04", "c4", 2000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kExhausted);
  r = st.enrollWithSecret(request("guessed", "a5", "DC05", "c5", 2000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUnknownSecret);

  EnrollmentSecret old = site;
  old.name = "old-site";
  old.secret_hash = sha256Hex("old-secret");
  old.expires = 1500;
  old.max_uses.reset();
  ASSERT_TRUE(st.addEnrollmentSecret(old));
  r = st.enrollWithSecret(request("old-secret", "a6", "DC06", "c6", 2000));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kExpired);
  ASSERT_TRUE(*st.revokeEnrollmentSecret("dc-site", 3000));
  EXPECT_FALSE(*st.revokeEnrollmentSecret("nope", 3000));
  r = st.enrollWithSecret(request("site-secret", "a7", "DC07", "c7", 3001));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRevoked);
  auto secrets = st.listEnrollmentSecrets();
  ASSERT_TRUE(secrets);
  ASSERT_EQ(secrets->size(), 2u);
  EXPECT_EQ((*secrets)[0].name, "dc-site");
  EXPECT_EQ((*secrets)[0].uses, 2);
  EXPECT_EQ((*secrets)[0].revoked_at, 3000);
  EXPECT_EQ((*secrets)[1].uses, 0);

  auto a1 = st.agentByTokenHash(sha256Hex("c1"));
  ASSERT_TRUE(a1 && a1->has_value());
  EXPECT_EQ((*a1)->agent_id, "a1");
  EXPECT_EQ((*a1)->hostname, "DC01.corp");
  EXPECT_EQ((*a1)->enrolled_via, "dc-site");
  EXPECT_FALSE((*a1)->revoked_at.has_value());

  ASSERT_TRUE(*st.revokeAgent("dc01.corp", 4000));
  EXPECT_FALSE(*st.revokeAgent("nobody", 4000));
  a1 = st.agentByTokenHash(sha256Hex("c1"));
  ASSERT_TRUE(a1 && a1->has_value());
  EXPECT_EQ((*a1)->revoked_at, 4000);
  ASSERT_TRUE(*st.rotateAgentCredential("dc01.corp", sha256Hex("c9"), 5000));
  a1 = st.agentByTokenHash(sha256Hex("c1"));
  ASSERT_TRUE(a1);
  EXPECT_FALSE(a1->has_value()) << "the old credential is gone";
  auto rotated = st.agentByTokenHash(sha256Hex("c9"));
  ASSERT_TRUE(rotated && rotated->has_value());
  EXPECT_EQ((*rotated)->agent_id, "a1");
  EXPECT_FALSE((*rotated)->revoked_at.has_value());
  EXPECT_EQ((*rotated)->rotated_at, 5000);
}

TYPED_TEST(StorageTest, IngestDeduplicatesByBatchIdAndRecordKey) {
  this->enroll("dc01");
  auto first =
      this->storage_->ingest(this->batch("a1:1", {this->event("a1|Security|1", "DC01", 4624, 100),
                                                  this->alert("a1|alert|r1", "r1", "high", 100)}));
  ASSERT_TRUE(first) << first.error().toString();
  EXPECT_FALSE(first->duplicate_batch);
  EXPECT_EQ(first->stored, 2);
  EXPECT_EQ(first->stored_events, 1);
  EXPECT_EQ(first->stored_alerts, 1);

  auto resent =
      this->storage_->ingest(this->batch("a1:1", {this->event("a1|Security|9", "DC01", 1, 1)}));
  ASSERT_TRUE(resent);
  EXPECT_TRUE(resent->duplicate_batch);
  EXPECT_EQ(resent->stored, 0);

  auto overlap = this->storage_->ingest(
      this->batch("a1:2", {this->event("a1|Security|1", "DC01", 4624, 100),
                           this->event("a1|Security|2", "DC01", 4625, 200)}));
  ASSERT_TRUE(overlap);
  EXPECT_EQ(overlap->stored, 1);
  EXPECT_EQ(overlap->duplicates, 1);

  auto events = this->storage_->queryEvents(EventQuery{});
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);  // key a1|Security|9 of the re-sent batch was not stored
  auto agents = this->storage_->listAgents();
  ASSERT_TRUE(agents);
  ASSERT_EQ(agents->size(), 1u);
  EXPECT_EQ((*agents)[0].events, 2);
  EXPECT_EQ((*agents)[0].alerts, 1);
  EXPECT_EQ((*agents)[0].agent_id, "a1");
  EXPECT_EQ((*agents)[0].last_seen, 5000);
}

// Records go in many rows per statement (64, then powers of two): a batch of 200 records of
// every kind, some keys stored before and some twice in the batch, is stored, counted and
// compared exactly as one statement per record did, in the records' order.
TYPED_TEST(StorageTest, ManyRowsPerStatementKeepPerRecordOutcomes) {
  this->enroll("dc01");
  ASSERT_TRUE(this->storage_->ingest(
      this->batch("a1:1", {this->event("a1|Security|5", "DC01", 4624, 5),
                           this->event("a1|Security|150", "DC01", 4624, 150, "old")})));
  std::vector<IngestRecord> records;
  for (int64_t i = 0; i < 200; ++i) {
    records.push_back(this->event("a1|Security|" + std::to_string(i), "DC01", 4624, i));
    if (i % 50 == 0) records.push_back(this->alert("a1|alert|" + std::to_string(i), "r", "low", i));
  }
  IngestRecord drop;
  drop.kind = RecordKind::kStatus;
  drop.key = "a1|queue|drop|1";
  drop.status_type = "queue_drop";
  drop.dropped_events = 3;
  drop.body = R"({"type":"queue_drop","dropped_events":3,"message":"dropped 3"})";
  records.push_back(drop);
  records.push_back(this->event("a1|Security|7", "DC01", 4624, 7));             // twice, same
  records.push_back(this->event("a1|Security|8", "DC01", 4624, 8, "changed"));  // twice, other
  auto r = this->storage_->ingest(this->batch("a1:2", records));
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_FALSE(r->duplicate_batch);
  // 200 events, 4 alerts, 1 status; event 5 and the second event 7 are duplicates; event 150
  // (other text) and the second event 8 are conflicts.
  EXPECT_EQ(r->stored_events, 198);
  EXPECT_EQ(r->stored_alerts, 4);
  EXPECT_EQ(r->stored, 198 + 4 + 1);
  EXPECT_EQ(r->duplicates, 2);
  EXPECT_EQ(r->conflicts, 2);
  EXPECT_EQ(r->raised_alerts, 1);
  auto conflicts = this->storage_->recentConflicts("dc01", 10);
  ASSERT_TRUE(conflicts);
  ASSERT_EQ(conflicts->size(), 2u);
  EXPECT_EQ((*conflicts)[0].key, "a1|Security|8");  // newest first: in the records' order
  EXPECT_EQ((*conflicts)[1].key, "a1|Security|150");
  auto kept = this->storage_->eventByKey("a1|Security|150");
  ASSERT_TRUE(kept);
  ASSERT_TRUE(kept->has_value());
  EXPECT_NE((*kept)->body.find("old"), std::string::npos) << "the first content stays";
  // Ids follow the records' order.
  EventQuery q;
  q.limit = 500;
  auto events = this->storage_->queryEvents(q);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 200u);
  EXPECT_EQ((*events)[0].key, "a1|Security|199");
  EXPECT_EQ((*events)[1].key, "a1|Security|198");
  EXPECT_EQ((*events)[198].key, "a1|Security|150");  // stored by the first batch
  EXPECT_EQ((*events)[199].key, "a1|Security|5");
  auto agents = this->storage_->listAgents();
  ASSERT_TRUE(agents);
  EXPECT_EQ((*agents)[0].drops, 3);
  EXPECT_EQ((*agents)[0].events, 2 + 198);
}

// A batch id re-sent with the same content is a duplicate; with other content (a queue rolled
// back to a snapshot) it is a conflict, and so is a record key that comes back with another
// body: kept, counted on the agent and raised as one alert per batch, never dropped silently.
TYPED_TEST(StorageTest, TellsDuplicatesFromConflictsAndKeepsConflicts) {
  this->enroll("dc01");
  IngestBatch first =
      this->batch("a1:e1:1", {this->event("a1|Security|1", "DC01", 4624, 100, "a"),
                              this->event("a1|Security|2", "DC01", 4624, 200, "b")});
  first.content_hash = "hash-1";
  ASSERT_TRUE(this->storage_->ingest(first));

  auto again = this->storage_->ingest(first);
  ASSERT_TRUE(again) << again.error().toString();
  EXPECT_TRUE(again->duplicate_batch);
  EXPECT_FALSE(again->conflict_batch);
  EXPECT_EQ(again->conflicts, 0);

  // The same batch id with other records: record 2 comes back changed, record 3 is new.
  IngestBatch rolled = this->batch("a1:e1:1",
                                   {this->event("a1|Security|2", "DC01", 4624, 200, "B"),
                                    this->event("a1|Security|3", "DC01", 4624, 300)},
                                   6000);
  rolled.content_hash = "hash-2";
  auto r = this->storage_->ingest(rolled);
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_FALSE(r->duplicate_batch);
  EXPECT_TRUE(r->conflict_batch);
  EXPECT_EQ(r->conflicts, 2);  // the batch id and record 2
  EXPECT_EQ(r->stored, 1);     // record 3
  EXPECT_EQ(r->stored_events, 1);
  EXPECT_EQ(r->stored_alerts, 0);  // the conflict alert is the collector's, not the agent's
  EXPECT_EQ(r->raised_alerts, 1);

  // A new batch id with a record key whose content differs, and one that is a plain duplicate.
  IngestBatch later = this->batch("a1:e2:1",
                                  {this->event("a1|Security|1", "DC01", 4624, 100, "X"),
                                   this->event("a1|Security|3", "DC01", 4624, 300)},
                                  7000);
  later.content_hash = "hash-3";
  r = this->storage_->ingest(later);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->conflict_batch);
  EXPECT_EQ(r->conflicts, 1);
  EXPECT_EQ(r->duplicates, 1);

  // The first content stays where it was; the other content is kept as a conflict.
  auto stored = this->storage_->eventByKey("a1|Security|2");
  ASSERT_TRUE(stored);
  ASSERT_TRUE(stored->has_value());
  EXPECT_NE((*stored)->body.find("\"b\""), std::string::npos);
  auto conflicts = this->storage_->recentConflicts("dc01", 10);
  ASSERT_TRUE(conflicts) << conflicts.error().toString();
  ASSERT_EQ(conflicts->size(), 3u);
  EXPECT_EQ((*conflicts)[0].key, "a1|Security|1");  // newest first
  EXPECT_EQ((*conflicts)[0].batch_id, "a1:e2:1");
  EXPECT_NE((*conflicts)[0].body.find("\"X\""), std::string::npos);
  EXPECT_NE((*conflicts)[0].stored_hash, (*conflicts)[0].new_hash);
  EXPECT_EQ((*conflicts)[1].kind, "event");
  EXPECT_EQ((*conflicts)[1].key, "a1|Security|2");
  EXPECT_EQ((*conflicts)[2].kind, "batch");
  EXPECT_EQ((*conflicts)[2].stored_hash, "hash-1");
  EXPECT_EQ((*conflicts)[2].new_hash, "hash-2");

  auto agents = this->storage_->listAgents();
  ASSERT_TRUE(agents);
  EXPECT_EQ((*agents)[0].conflicts, 3);
  EXPECT_EQ((*agents)[0].events, 3);
  EXPECT_EQ((*agents)[0].alerts, 0);

  AlertQuery aq;
  aq.rule_id = "tier0watch.collector.conflict";
  auto alerts = this->storage_->queryAlerts(aq);
  ASSERT_TRUE(alerts);
  ASSERT_EQ(alerts->size(), 2u);  // one per batch that brought conflicts
  EXPECT_EQ((*alerts)[0].level, "high");
  EXPECT_EQ((*alerts)[0].host, "dc01");
  EXPECT_NE((*alerts)[0].body.find("a1|Security|1"), std::string::npos);
  EXPECT_NE((*alerts)[1].body.find("a1:e1:1"), std::string::npos);
}

// Drop and gap reports count once, even when a crash makes the agent send them again under
// another batch id.
TYPED_TEST(StorageTest, CountsStatusReportsOnceAndListsThem) {
  this->enroll("dc01");
  IngestRecord drop;
  drop.kind = RecordKind::kStatus;
  drop.key = "a1|queue|drop|e1|1";
  drop.status_type = "queue_drop";
  drop.dropped_events = 7;
  drop.time = 50;
  drop.body = R"({"type":"queue_drop","dropped_events":7,"message":"dropped 7"})";
  IngestRecord gap = drop;
  gap.key = "a1|status|gap|1";
  gap.status_type = "eventlog_gap";
  gap.dropped_events = 0;
  gap.body = R"({"type":"eventlog_gap","message":"gap"})";
  ASSERT_TRUE(this->storage_->ingest(this->batch("a1:e1:1", {drop, gap})));
  ASSERT_TRUE(this->storage_->ingest(this->batch("a1:e1:2", {drop, gap})));
  auto agents = this->storage_->listAgents();
  ASSERT_TRUE(agents);
  EXPECT_EQ((*agents)[0].drops, 7);
  EXPECT_EQ((*agents)[0].gaps, 1);
  auto reports = this->storage_->recentStatuses("dc01", 10);
  ASSERT_TRUE(reports) << reports.error().toString();
  ASSERT_EQ(reports->size(), 2u);
  EXPECT_EQ((*reports)[0].type, "eventlog_gap");
  EXPECT_EQ((*reports)[1].key, "a1|queue|drop|e1|1");
  EXPECT_EQ((*reports)[1].time, 50);
}

// A heartbeat as the agent sends it (agent/metrics/heartbeat.cpp), with the fields the health
// checks read.
IngestRecord heartbeat(int seq, int64_t drops, const std::string& source_state,
                       int64_t uptime = 100) {
  IngestRecord r;
  r.kind = RecordKind::kStatus;
  r.key = "a1|status|heartbeat|1|" + std::to_string(seq);
  r.status_type = "agent_status";
  r.time = seq;
  r.body =
      R"({"type":"agent_status","time":")" + std::to_string(seq) + R"(","uptime_seconds":)" +
      std::to_string(uptime) + R"(,"sources":[{"name":"Security","kind":"eventlog","state":")" +
      source_state + R"(","detail":"","rate_per_second":1.5,"lag_seconds":2}],"drops":{"events":)" +
      std::to_string(drops) + R"(},"gaps":0,"dead_letters":{"chunks":0},"rules":{"rejected":0},)" +
      R"("queue":{"bytes":10,"max_bytes":1000}})";
  return r;
}

TYPED_TEST(StorageTest, HeartbeatsKeepThePreviousOneAndTheirArrival) {
  this->enroll("dc01");
  IngestBatch b = this->batch("a1:e1:1", {heartbeat(1, 0, "subscribed")}, 7000);
  b.status = b.records[0].body;
  ASSERT_TRUE(this->storage_->ingest(b));
  auto agents = this->storage_->listAgents();
  ASSERT_TRUE(agents);
  EXPECT_EQ((*agents)[0].last_heartbeat, 7000);
  EXPECT_EQ((*agents)[0].prev_status, "{}");
  // Not evaluated yet: a second heartbeat keeps prev_status, so the delta spans both.
  IngestBatch b2 = this->batch("a1:e1:2", {heartbeat(2, 5, "subscribed")}, 8000);
  b2.status = b2.records[0].body;
  ASSERT_TRUE(this->storage_->ingest(b2));
  agents = this->storage_->listAgents();
  EXPECT_EQ((*agents)[0].prev_status, "{}");
  ASSERT_TRUE(this->storage_->markHealthEvaluated("dc01", (*agents)[0].status));
  IngestBatch b3 = this->batch("a1:e1:3", {heartbeat(3, 5, "subscribed")}, 9000);
  b3.status = b3.records[0].body;
  ASSERT_TRUE(this->storage_->ingest(b3));
  agents = this->storage_->listAgents();
  EXPECT_EQ((*agents)[0].prev_status, b2.records[0].body);
  EXPECT_EQ((*agents)[0].last_heartbeat, 9000);
  auto history = this->storage_->statusHistory("dc01", "agent_status", 0, 10);
  ASSERT_TRUE(history) << history.error().toString();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].received, 7000);  // oldest first
}

// The tracker against real storage: opens, refreshes, closes when the condition clears, and a
// suppressed issue stays suppressed while its condition holds.
TYPED_TEST(StorageTest, HealthTrackerOpensClosesAndSuppresses) {
  this->enroll("dc01");
  HealthPolicy policy;
  policy.silent_after_seconds = 60;
  policy.credential_max_age_days = 0;
  HealthTracker tracker(*this->storage_, policy);
  const int64_t s = 1'000'000;
  IngestBatch b = this->batch("a1:e1:1", {heartbeat(1, 0, "absent")}, 100 * s);
  b.status = b.records[0].body;
  ASSERT_TRUE(this->storage_->ingest(b));
  auto changes = tracker.evaluate(101 * s);
  ASSERT_TRUE(changes) << changes.error().toString();
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].kind, HealthChange::Kind::kOpened);
  EXPECT_EQ((*changes)[0].issue.code, "source_absent");
  EXPECT_EQ((*changes)[0].issue.source, "Security");
  // Drops: 4 more since the evaluated heartbeat opens events_dropped; the source is back.
  IngestBatch b2 = this->batch("a1:e1:2", {heartbeat(2, 4, "subscribed")}, 110 * s);
  b2.status = b2.records[0].body;
  ASSERT_TRUE(this->storage_->ingest(b2));
  changes = tracker.evaluate(111 * s);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 2u);
  std::map<std::string, HealthChange::Kind> kinds;
  for (const auto& c : *changes) kinds[c.issue.code] = c.kind;
  EXPECT_EQ(kinds["source_absent"], HealthChange::Kind::kClosed);
  EXPECT_EQ(kinds["events_dropped"], HealthChange::Kind::kOpened);
  // Evaluated again without a new heartbeat: still open (the delta is the same pair).
  changes = tracker.evaluate(112 * s);
  ASSERT_TRUE(changes);
  EXPECT_TRUE(changes->empty());
  // The next heartbeat shows no new drops: closed.
  IngestBatch b3 = this->batch("a1:e1:3", {heartbeat(3, 4, "subscribed")}, 120 * s);
  b3.status = b3.records[0].body;
  ASSERT_TRUE(this->storage_->ingest(b3));
  changes = tracker.evaluate(121 * s);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].kind, HealthChange::Kind::kClosed);
  EXPECT_EQ((*changes)[0].issue.code, "events_dropped");
  // Silence: agent_silent opens; suppressed for a while it stays suppressed, then reopens.
  changes = tracker.evaluate(200 * s);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 1u);
  const int64_t id = (*changes)[0].issue.id;
  EXPECT_EQ((*changes)[0].issue.code, "agent_silent");
  auto sup = tracker.suppress(id, 300 * s, "admin");
  ASSERT_TRUE(sup);
  ASSERT_TRUE(*sup);
  EXPECT_EQ((*sup)->state, "suppressed");
  changes = tracker.evaluate(250 * s);
  ASSERT_TRUE(changes);
  EXPECT_TRUE(changes->empty());
  HealthQuery q;
  q.state = "suppressed";
  auto listed = this->storage_->queryHealth(q);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].suppressed_by, "admin");
  changes = tracker.evaluate(301 * s);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].kind, HealthChange::Kind::kOpened);
  EXPECT_EQ((*changes)[0].issue.id, id);
  // Closed issues cannot be suppressed; unknown ones neither.
  auto none = tracker.suppress(id + 1000, 400 * s, "admin");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  // Filters.
  HealthQuery by_code;
  by_code.code = "events_dropped";
  auto dropped = this->storage_->queryHealth(by_code);
  ASSERT_TRUE(dropped);
  ASSERT_EQ(dropped->size(), 1u);
  EXPECT_EQ((*dropped)[0].state, "closed");
  EXPECT_EQ((*dropped)[0].closed_at, 121 * s);
}

TYPED_TEST(StorageTest, HealthNotificationsQueueForEveryOutputAndAlertsCountByHour) {
  this->enroll("dc01");
  HealthNotifier notifier(*this->storage_, {kWebhookOutput, "splunk"});
  HealthChange c{HealthChange::Kind::kOpened,
                 HealthIssue{7, "dc01", "agent_silent", "", "high", "no heartbeat", 1, 1, "open",
                             std::nullopt, std::nullopt, std::nullopt}};
  ASSERT_TRUE(notifier.notify({c}, 10));
  for (const char* out : {kWebhookOutput, "splunk"}) {
    auto due = this->storage_->claimForwards(out, 10, 10 + 120'000'000, 10);
    ASSERT_TRUE(due);
    ASSERT_EQ(due->size(), 1u) << out;
    EXPECT_NE((*due)[0].payload.find("health_issue_opened"), std::string::npos);
  }
  // The webhook gets alerts, not events; other outputs get both.
  IngestBatch b = this->batch("a1:e1:1",
                              {this->event("a1|Security|1", "DC01", 4624, 5),
                               this->alert("a1|alert|r1|Security|1", "r1", "high", 5)},
                              3'600'000'000LL + 5);
  b.forward_outputs = {kWebhookOutput, "splunk"};
  ASSERT_TRUE(this->storage_->ingest(b));
  EXPECT_EQ(*this->storage_->forwardDepth(kWebhookOutput), 2);  // health + alert
  EXPECT_EQ(*this->storage_->forwardDepth("splunk"), 3);        // health + event + alert
  auto hist = this->storage_->alertHistogram(0, 3'600'000'000LL);
  ASSERT_TRUE(hist) << hist.error().toString();
  ASSERT_EQ(hist->size(), 1u);
  EXPECT_EQ((*hist)[0].bucket, 3'600'000'000LL);
  EXPECT_EQ((*hist)[0].level, "high");
  EXPECT_EQ((*hist)[0].count, 1);
}

TYPED_TEST(StorageTest, IngestForUnknownAgentFailsAndStoresNothing) {
  auto r =
      this->storage_->ingest(this->batch("a1:1", {this->event("a1|Security|1", "DC01", 1, 1)}));
  ASSERT_FALSE(r);
  auto events = this->storage_->queryEvents(EventQuery{});
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
}

TYPED_TEST(StorageTest, QueriesEventsByFiltersWithPagination) {
  this->enroll("dc01");
  std::vector<IngestRecord> records;
  for (int i = 1; i <= 10; ++i) {
    records.push_back(this->event("a1|Security|" + std::to_string(i), i % 2 ? "DC01" : "DC02",
                                  i <= 5 ? 4624 : 4625, i * 100, i == 7 ? "Mimikatz" : "plain"));
  }
  ASSERT_TRUE(this->storage_->ingest(this->batch("a1:1", records)));

  EventQuery q;
  q.host = "DC02";
  auto r = this->storage_->queryEvents(q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 5u);

  q = {};
  q.event_id = 4625;
  q.since = 700;
  q.until = 1000;
  r = this->storage_->queryEvents(q);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].time, 900);  // newest first

  q = {};
  q.text = "mimikatz";  // case-insensitive
  r = this->storage_->queryEvents(q);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].key, "a1|Security|7");

  q = {};
  q.text = "%";  // wildcards are literal
  r = this->storage_->queryEvents(q);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());

  q = {};
  q.limit = 4;
  auto page1 = this->storage_->queryEvents(q);
  ASSERT_TRUE(page1);
  ASSERT_EQ(page1->size(), 4u);
  q.before_id = page1->back().id;
  auto page2 = this->storage_->queryEvents(q);
  ASSERT_TRUE(page2);
  ASSERT_EQ(page2->size(), 4u);
  EXPECT_LT(page2->front().id, page1->back().id);

  auto byKey = this->storage_->eventByKey("a1|Security|3");
  ASSERT_TRUE(byKey);
  ASSERT_TRUE(byKey->has_value());
  auto byId = this->storage_->eventById((*byKey)->id);
  ASSERT_TRUE(byId);
  ASSERT_TRUE(byId->has_value());
  EXPECT_EQ((*byId)->body, (*byKey)->body);

  auto lag = this->storage_->channelLag("dc01");
  ASSERT_TRUE(lag);
  ASSERT_EQ(lag->size(), 1u);
  EXPECT_EQ((*lag)[0].channel, "Security");
  EXPECT_EQ((*lag)[0].last_event_time, 1000);
}

// The stored bytes are counted as the database's LENGTH(body) counts them, characters: ASCII
// eight bytes at a time, the rest byte by byte from the first word that is not ASCII. Two-,
// three- and four-byte characters at every position of a word, and bodies that are all ASCII.
TYPED_TEST(StorageTest, StoredBytesCountCharactersAsLengthDoesWhereverMultiByteOnesFall) {
  this->enroll("dc01");
  std::vector<IngestRecord> records;
  int64_t seq = 0;
  for (size_t pad = 0; pad < 24; ++pad) {
    for (const char* ch : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", ""}) {
      ++seq;
      const std::string text = std::string(pad, 'a') + ch + std::string(pad % 5, 'b') + ch;
      records.push_back(this->event("a1|Security|" + std::to_string(seq), "DC01", 4624, seq, text));
    }
  }
  ASSERT_TRUE(this->storage_->ingest(this->batch("a1:1", records)));
  this->expectStoredBytesAreTheBodiesLength();
}

// Free-text search (sql_search.h) answers as the scan of the bodies did, with the term bound as
// a value: wildcards, quotes, FTS5 syntax and SQL in it are text to find. Once without and once
// with storage.search_index (FTS5 on SQLite, pg_trgm GIN on PostgreSQL), then without again.
TYPED_TEST(StorageTest, SearchFindsSubstringsThroughTheIndexAsTheScanDid) {
  this->enroll("dc01");
  const std::vector<std::string> texts = {"Mimikatz.exe sekurlsa",
                                          "100% done",
                                          "a_b",
                                          "C:\\\\Temp\\\\x",
                                          "say \\\"hi\\\" NEAR(a b)",
                                          "Straße",
                                          "it's; DROP TABLE events; --",
                                          "ab",
                                          "plain",
                                          "ZZZzzz*"};
  std::vector<IngestRecord> records;
  for (size_t i = 0; i < texts.size(); ++i) {
    records.push_back(this->event("a1|Security|" + std::to_string(i + 1), "DC01", 4624,
                                  static_cast<int64_t>(i + 1), texts[i]));
  }
  ASSERT_TRUE(this->storage_->ingest(this->batch("a1:1", records)));
  // Ingest counts the stored bytes as LENGTH(body): characters ("Straße" is 6).
  this->expectStoredBytesAreTheBodiesLength();
  const std::vector<std::string> terms = {"mimikatz",
                                          "SEKURLSA",
                                          "100%",
                                          "%",
                                          "a_b",
                                          "_",
                                          "\\\\temp",
                                          "\\\"hi\\\"",
                                          "NEAR(a",
                                          "straße",
                                          "'; drop table",
                                          "ab",
                                          "b",
                                          "zzz*",
                                          "ZZZZZZ",
                                          "*",
                                          "\"",
                                          "nothing here",
                                          "ssS"};
  // What the scan finds: an ASCII-case-insensitive substring of the stored body.
  const auto expected = [&](const std::string& term) {
    const auto lower = [](std::string s) {
      for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    std::vector<std::string> keys;
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
      if (lower(it->body).find(lower(term)) != std::string::npos) keys.push_back(it->key);
    }
    return keys;
  };
  const auto found = [&](Storage& s, const std::string& term) {
    EventQuery q;
    q.text = term;
    auto r = s.queryEvents(q);
    EXPECT_TRUE(r) << term << ": " << r.error().toString();
    std::vector<std::string> keys;
    if (r) {
      for (const auto& e : *r) keys.push_back(e.key);
    }
    return keys;
  };
  for (const auto& term : terms) EXPECT_EQ(found(*this->storage_, term), expected(term)) << term;
  {
    this->storage_.reset();
    auto indexed = this->backend_.reopen(StorageOptions{false, true});  // filled from the rows
    ASSERT_TRUE(indexed) << indexed.error().toString();
    this->storage_ = std::move(*indexed);
    // Ingest indexes what it stores.
    ASSERT_TRUE(this->storage_->ingest(
        this->batch("a1:2", {this->event("a1|Security|99", "DC02", 4625, 99, "later mimikatz")})));
    records.push_back(this->event("a1|Security|99", "DC02", 4625, 99, "later mimikatz"));
    for (const auto& term : terms) EXPECT_EQ(found(*this->storage_, term), expected(term)) << term;
    // Paging and other filters go with the index.
    EventQuery q;
    q.text = "mimikatz";
    q.limit = 1;
    auto page = this->storage_->queryEvents(q);
    ASSERT_TRUE(page);
    ASSERT_EQ(page->size(), 1u);
    EXPECT_EQ((*page)[0].key, "a1|Security|99");
    q.before_id = (*page)[0].id;
    page = this->storage_->queryEvents(q);
    ASSERT_TRUE(page);
    ASSERT_EQ(page->size(), 1u);
    EXPECT_EQ((*page)[0].key, "a1|Security|1");
    q = {};
    q.text = "mimikatz";
    q.host = "DC01";
    page = this->storage_->queryEvents(q);
    ASSERT_TRUE(page);
    ASSERT_EQ(page->size(), 1u);
    EXPECT_EQ((*page)[0].key, "a1|Security|1");
    // Retention takes the index rows of what it deletes: a deleted event is not found (and
    // its id, handed out again, is not mistaken for it).
    ASSERT_TRUE(this->storage_->applyRetention(int64_t{6000}, 0, 0));
    for (const auto& term : terms) EXPECT_TRUE(found(*this->storage_, term).empty()) << term;
    ASSERT_TRUE(this->storage_->ingest(
        this->batch("a1:3", {this->event("a1|Security|100", "DC01", 4624, 100, "fresh")}, 7000)));
    EXPECT_TRUE(found(*this->storage_, "mimikatz").empty());
    EXPECT_EQ(found(*this->storage_, "fresh").size(), 1u);
    // Turned off, the index is dropped and search scans again.
    this->storage_.reset();
    auto plain = this->backend_.reopen();
    ASSERT_TRUE(plain) << plain.error().toString();
    this->storage_ = std::move(*plain);
    EXPECT_EQ(found(*this->storage_, "fresh").size(), 1u);
    EXPECT_TRUE(found(*this->storage_, "mimikatz").empty());
  }
}

// Large batches with the search index on: on SQLite, FTS5 filled with a whole batch of 4,400
// events in one statement went past the 4 MiB statement journal and failed with SQLITE_FULL from
// the fourth batch on.
TYPED_TEST(StorageTest, SearchIndexTakesLargeBatches) {
  this->enroll("dc01");
  this->storage_.reset();
  auto indexed = this->backend_.reopen(StorageOptions{false, true});
  ASSERT_TRUE(indexed) << indexed.error().toString();
  this->storage_ = std::move(*indexed);
  std::mt19937 rng(14);
  const auto word = [&] {
    std::string w;
    for (int i = 0; i < 8; ++i) w += static_cast<char>('a' + rng() % 26);
    return w;
  };
  // Five batches: the fifth failed on SQLite even with 256 rows per statement. PostgreSQL has no
  // such journal; one batch there (its trigram index makes it the slow half: 22 s for five).
  constexpr int kBatches = std::is_same_v<TypeParam, PostgresBackend> ? 1 : 5;
  constexpr int kPerBatch = 4400;
  int64_t n = 0;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<IngestRecord> records;
    for (int i = 0; i < kPerBatch; ++i) {
      ++n;
      std::string text;  // about 1 KiB of distinct trigrams, as rendered events have
      for (int w = 0; w < 110; ++w) text += word() + ' ';
      records.push_back(this->event("a1|Security|" + std::to_string(n), "DC01", 4624, n, text));
    }
    records.back().body.insert(records.back().body.size() - 3, " needle" + std::to_string(b));
    auto r = this->storage_->ingest(this->batch("a1:" + std::to_string(b), std::move(records)));
    ASSERT_TRUE(r) << "batch " << b << ": " << r.error().toString();
  }
  for (int b = 0; b < kBatches; ++b) {
    const std::string term = "NEEDLE" + std::to_string(b);
    EventQuery q;
    q.text = term;
    auto found = this->storage_->queryEvents(q);
    ASSERT_TRUE(found) << found.error().toString();
    ASSERT_EQ(found->size(), 1u) << term;
    EXPECT_EQ((*found)[0].key, "a1|Security|" + std::to_string((b + 1) * kPerBatch));
  }
}

// Whether the search index exists: events_search (SQLite) or events_body_trgm (PostgreSQL).
template <typename Backend>
bool searchIndexExists(Backend& backend) {
  constexpr bool kPostgres = std::is_same_v<Backend, PostgresBackend>;
  auto conn = backend.conn();
  EXPECT_TRUE(conn) << conn.error().toString();
  if (!conn) return false;
  auto rows = (*conn)->query(kPostgres ? "SELECT 1 FROM pg_class WHERE relname = 'events_body_trgm'"
                                       : "SELECT 1 FROM sqlite_master WHERE name = 'events_search'",
                             {});
  EXPECT_TRUE(rows) << rows.error().toString();
  return rows && !rows->empty();
}

// With storage.search_index on, the query the storage runs for a search reads the index: FTS5
// (SQLite) or the pg_trgm GIN index (PostgreSQL); a term without three characters to look up
// goes to the scan. Off (the default), there is no index, and turning it off drops it.
TYPED_TEST(StorageTest, SearchQueryPlanUsesTheIndex) {
  constexpr bool kPostgres = std::is_same_v<TypeParam, PostgresBackend>;
  EXPECT_FALSE(searchIndexExists(this->backend_));  // off by default
  this->storage_.reset();
  auto indexed = this->backend_.reopen(StorageOptions{false, true});
  ASSERT_TRUE(indexed) << indexed.error().toString();
  this->storage_ = std::move(*indexed);
  EXPECT_TRUE(searchIndexExists(this->backend_));
  auto conn = this->backend_.conn();
  ASSERT_TRUE(conn) << conn.error().toString();
  SqlConn& c = **conn;
  // A table of a few rows is read whole by any planner: PostgreSQL is told not to, so that the
  // plan shows which index can serve the query.
  if (kPostgres) {
    ASSERT_TRUE(c.script("SET enable_seqscan = off; SET enable_indexscan = off"));
  }
  const auto plan = [&](const std::string& text, std::optional<std::string> host) {
    EventQuery q;
    q.text = text;
    q.host = std::move(host);
    const auto st = EventSearch(kPostgres, !kPostgres).eventQuery(q);
    auto rows = c.query((kPostgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + st.sql, st.params);
    EXPECT_TRUE(rows) << rows.error().toString();
    std::string out;
    if (rows) {
      for (const auto& r : *rows) {
        for (const auto& v : r) out += v.value_or("") + " ";
        out += "\n";
      }
    }
    return out;
  };
  for (const auto& host : std::vector<std::optional<std::string>>{std::nullopt, "DC01"}) {
    const std::string p = plan("mimikatz", host);
    if (kPostgres) {
      // With a host too, PostgreSQL weighs events_host against it by their statistics.
      if (!host) {
        EXPECT_NE(p.find("events_body_trgm"), std::string::npos) << p;
      }
    } else {
      EXPECT_NE(p.find("SCAN s VIRTUAL TABLE INDEX"), std::string::npos) << p;
      EXPECT_NE(p.find(":L"), std::string::npos) << p;           // the LIKE is the index's
      EXPECT_EQ(p.find("TEMP B-TREE"), std::string::npos) << p;  // newest first from the index
    }
  }
  if (!kPostgres) {
    EXPECT_EQ(plan("ab", std::nullopt).find("VIRTUAL TABLE"), std::string::npos);
    EXPECT_EQ(plan("a%b_c", std::nullopt).find("VIRTUAL TABLE"), std::string::npos);
  }
  // Turned off: dropped at start, and the plan reads the bodies.
  this->storage_.reset();
  auto plain = this->backend_.reopen();
  ASSERT_TRUE(plain) << plain.error().toString();
  this->storage_ = std::move(*plain);
  EXPECT_FALSE(searchIndexExists(this->backend_));
  if (kPostgres) {
    const std::string p = plan("mimikatz", std::nullopt);
    EXPECT_EQ(p.find("events_body_trgm"), std::string::npos) << p;
  }
  EXPECT_TRUE(EventSearch::indexable("abc"));
  EXPECT_TRUE(EventSearch::indexable("ßüö"));
  EXPECT_FALSE(EventSearch::indexable("ßü"));
  EXPECT_FALSE(EventSearch::indexable("ab%cd_ef"));
}

// PostgreSQL: a database user that may not create pg_trgm gets an error that says what is
// missing; with the option off the same user starts.
TYPED_TEST(StorageTest, SearchIndexWithoutTheRightToCreatePgTrgmSaysSo) {
  if constexpr (std::is_same_v<TypeParam, PostgresBackend>) {
    auto conn = this->backend_.conn();
    ASSERT_TRUE(conn) << conn.error().toString();
    const std::string role = "t0w_nopriv_" + this->backend_.db_.substr(9);
    ASSERT_TRUE((*conn)->script("DROP EXTENSION IF EXISTS pg_trgm; CREATE ROLE " + role +
                                " LOGIN; GRANT ALL ON SCHEMA public TO " + role +
                                "; GRANT ALL ON ALL TABLES IN SCHEMA public TO " + role +
                                "; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + role));
    this->storage_.reset();
    const std::string url =
        std::string(PostgresBackend::url()) + " dbname=" + this->backend_.db_ + " user=" + role;
    {
      auto off = openStorage("postgres", url, StorageOptions{false, false});
      EXPECT_TRUE(off) << off.error().toString();
    }
    auto on = openStorage("postgres", url, StorageOptions{false, true});
    ASSERT_FALSE(on);
    const std::string message = on.error().toString();
    EXPECT_NE(message.find("storage.search_index"), std::string::npos) << message;
    EXPECT_NE(message.find("pg_trgm"), std::string::npos) << message;
    EXPECT_NE(message.find("CREATE privilege on the database"), std::string::npos) << message;
    EXPECT_FALSE(searchIndexExists(this->backend_));
    this->backend_.cleanup();
    this->backend_.db_.clear();
    auto admin = openPostgresConn(PostgresBackend::url());
    ASSERT_TRUE(admin);
    EXPECT_TRUE((*admin)->script("DROP ROLE " + role));
  }
}

TYPED_TEST(StorageTest, QueriesAndAcknowledgesAlerts) {
  this->enroll("dc01");
  ASSERT_TRUE(this->storage_->ingest(
      this->batch("a1:1", {this->alert("a1|alert|1", "dcsync", "high", 100),
                           this->alert("a1|alert|2", "dcsync", "critical", 200),
                           this->alert("a1|alert|3", "kerberoast", "high", 300)})));
  AlertQuery q;
  q.rule_id = "dcsync";
  auto r = this->storage_->queryAlerts(q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 2u);
  q = {};
  q.level = "high";
  q.since = 150;
  r = this->storage_->queryAlerts(q);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].rule_id, "kerberoast");

  const int64_t id = (*r)[0].id;
  auto ack = this->storage_->acknowledgeAlert(id, "alice", 999);
  ASSERT_TRUE(ack);
  EXPECT_TRUE(*ack);
  auto missing = this->storage_->acknowledgeAlert(id + 1000, "alice", 999);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  auto one = this->storage_->alertById(id);
  ASSERT_TRUE(one);
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->acknowledged_by, "alice");
  EXPECT_EQ((*one)->acknowledged_at, 999);
  q = {};
  q.acknowledged = false;
  r = this->storage_->queryAlerts(q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 2u);
}

TYPED_TEST(StorageTest, UsersAndSessions) {
  auto user = hashPassword("alice", "a long password", 1000, 1);
  ASSERT_TRUE(user);
  ASSERT_TRUE(this->storage_->addUser(*user));
  Status again = this->storage_->addUser(*user);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kInvalidArgument);
  auto found = this->storage_->userByName("alice");
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_TRUE(verifyPassword(**found, "a long password"));
  EXPECT_FALSE(verifyPassword(**found, "a long passworD"));

  ASSERT_TRUE(this->storage_->createSession("h1", SessionRecord{"alice", "csrf1", 100, 200}));
  auto s = this->storage_->sessionByHash("h1", 150);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->csrf, "csrf1");
  auto expired = this->storage_->sessionByHash("h1", 200);
  ASSERT_TRUE(expired);
  EXPECT_FALSE(expired->has_value());
  ASSERT_TRUE(this->storage_->deleteSession("h1"));
  auto gone = this->storage_->sessionByHash("h1", 150);
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
}

TYPED_TEST(StorageTest, ForwardQueueSurvivesFailuresUntilAcknowledged) {
  this->enroll("dc01");
  IngestBatch b = this->batch("a1:1", {this->event("a1|Security|1", "DC01", 4624, 100),
                                       this->alert("a1|alert|1", "r", "high", 100)});
  b.forward_outputs = {"splunk", "syslog"};
  ASSERT_TRUE(this->storage_->ingest(b));
  // A re-sent record is not forwarded twice.
  IngestBatch again = this->batch("a1:2", {this->event("a1|Security|1", "DC01", 4624, 100)});
  again.forward_outputs = {"splunk", "syslog"};
  ASSERT_TRUE(this->storage_->ingest(again));
  EXPECT_EQ(*this->storage_->forwardDepth("splunk"), 2);
  EXPECT_EQ(*this->storage_->forwardDepth("syslog"), 2);

  auto due = this->storage_->claimForwards("splunk", 1000, 1000 + 120'000'000, 10);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_NE((*due)[0].payload.find("\"key\":\"a1|Security|1\""), std::string::npos);
  std::vector<int64_t> ids{(*due)[0].id, (*due)[1].id};
  ASSERT_TRUE(this->storage_->retryForwards(ids, 5000));
  auto later = this->storage_->claimForwards("splunk", 1000, 1000 + 120'000'000, 10);
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->empty());
  auto retry = this->storage_->claimForwards("splunk", 5000, 5000 + 120'000'000, 10);
  ASSERT_TRUE(retry);
  ASSERT_EQ(retry->size(), 2u);
  EXPECT_EQ((*retry)[0].attempts, 1);

  // The queue is durable: a reopened storage still has it.
  this->storage_.reset();
  auto reopened = this->backend_.reopen();
  ASSERT_TRUE(reopened) << reopened.error().toString();
  this->storage_ = std::move(*reopened);
  EXPECT_EQ(*this->storage_->forwardDepth("splunk"), 2);
  ASSERT_TRUE(this->storage_->ackForwards(ids));
  EXPECT_EQ(*this->storage_->forwardDepth("splunk"), 0);
  EXPECT_EQ(*this->storage_->forwardDepth("syslog"), 2);
}

TYPED_TEST(StorageTest, RetentionByAgeAndBySize) {
  this->enroll("dc01");
  std::vector<IngestRecord> old_records;
  for (int i = 0; i < 5; ++i)
    old_records.push_back(this->event("a1|S|" + std::to_string(i), "DC01", 1, i));
  ASSERT_TRUE(this->storage_->ingest(this->batch("a1:1", old_records, 1000)));
  std::vector<IngestRecord> new_records;
  for (int i = 5; i < 505; ++i)
    new_records.push_back(this->event("a1|S|" + std::to_string(i), "DC01", 1, i));
  ASSERT_TRUE(this->storage_->ingest(this->batch("a1:2", new_records, 2000)));

  auto aged = this->storage_->applyRetention(1500, 0, 0);
  ASSERT_TRUE(aged) << aged.error().toString();
  EXPECT_EQ(aged->deleted, 5);
  EXPECT_FALSE(this->storage_->eventByKey("a1|S|0")->has_value());
  EXPECT_TRUE(this->storage_->eventByKey("a1|S|5")->has_value());

  auto before = this->storage_->storedBytes();
  ASSERT_TRUE(before);
  const int64_t limit = *before / 2;
  auto sized = this->storage_->applyRetention(std::nullopt, limit, 0);
  ASSERT_TRUE(sized);
  EXPECT_GT(sized->deleted, 0);
  EXPECT_LE(*this->storage_->storedBytes(), limit);
  // Oldest go first.
  EXPECT_FALSE(this->storage_->eventByKey("a1|S|5")->has_value());
  EXPECT_TRUE(this->storage_->eventByKey("a1|S|504")->has_value());
}

// Size accounting is kept as rows come and go (no scan of the bodies); an agent above its
// quota loses its own oldest records and nobody else's.
TYPED_TEST(StorageTest, PerAgentQuotaEvictsOnlyThatAgentsOldestRecords) {
  this->enroll("dc01");
  this->enroll("lowtier");
  std::vector<IngestRecord> dc;
  for (int i = 0; i < 50; ++i) dc.push_back(this->event("a1|S|" + std::to_string(i), "DC01", 1, i));
  ASSERT_TRUE(this->storage_->ingest(this->batch("a1:1", dc, 1000)));
  int64_t dc_bytes = 0;
  for (const auto& r : dc) dc_bytes += static_cast<int64_t>(r.body.size());
  EXPECT_EQ(*this->storage_->storedBytes(), dc_bytes);

  std::vector<IngestRecord> flood;
  for (int i = 0; i < 600; ++i) {
    flood.push_back(this->event("b2|S|" + std::to_string(i), "SRV9", 1, i, std::string(100, 'f')));
  }
  IngestBatch b = this->batch("b2:1", flood, 2000);
  b.agent = "lowtier";
  b.agent_id = "b2";
  ASSERT_TRUE(this->storage_->ingest(b));
  int64_t flood_bytes = 0;
  for (const auto& r : flood) flood_bytes += static_cast<int64_t>(r.body.size());
  EXPECT_EQ(*this->storage_->storedBytes(), dc_bytes + flood_bytes);

  const int64_t quota = flood_bytes / 4;
  ASSERT_GT(quota, dc_bytes);
  auto r = this->storage_->applyRetention(std::nullopt, 0, quota);
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_GT(r->quota_deleted, 0);
  EXPECT_EQ(r->quota_deleted, r->deleted);
  // Every DC record is kept; the flood lost its oldest down to the quota.
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(this->storage_->eventByKey("a1|S|" + std::to_string(i))->has_value()) << i;
  }
  EXPECT_FALSE(this->storage_->eventByKey("b2|S|0")->has_value());
  EXPECT_TRUE(this->storage_->eventByKey("b2|S|599")->has_value());
  const int64_t left = *this->storage_->storedBytes() - dc_bytes;
  EXPECT_LE(left, quota);
  EXPECT_EQ(left, flood_bytes - r->deleted * static_cast<int64_t>(flood[0].body.size()));
}

// A database of migration 0006 with records in it (stored bytes kept by the insert triggers of
// then), brought up to date: the accounting goes on from the same totals, per batch now; search
// finds the old records through the new index (SQLite: filled when turned on); retention by age
// takes them and their bytes.
TYPED_TEST(StorageTest, MigratesAStoreOfMigration0006) {
  constexpr bool kPostgres = std::is_same_v<TypeParam, PostgresBackend>;
  this->storage_.reset();
  this->backend_.cleanup();
  ASSERT_TRUE(this->backend_.createEmpty());
  {
    auto conn = this->backend_.conn();
    ASSERT_TRUE(conn) << conn.error().toString();
    SqlConn& c = **conn;
    ASSERT_TRUE(c.script(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"));
    const std::string dir = std::string(T0W_SOURCE_DIR) + "/schemas/collector/" +
                            (kPostgres ? "postgres" : "sqlite") + "/";
    const char* files[] = {"0001_initial", "0002_conflicts",     "0003_enrolment",
                           "0004_health",  "0005_storage_usage", "0006_instances"};
    for (int i = 0; i < 6; ++i) {
      std::ifstream in(dir + files[i] + ".sql");
      ASSERT_TRUE(in) << files[i];
      const std::string sql((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      ASSERT_TRUE(c.script(sql)) << files[i];
      ASSERT_TRUE(c.query("INSERT INTO schema_migrations(version, name) VALUES (?, ?)",
                          {int64_t{i + 1}, std::string(files[i])}));
    }
    ASSERT_TRUE(c.query("INSERT INTO agents(name, token_hash, enrolled_at) VALUES (?, ?, 1)",
                        {std::string("dc01"), sha256Hex("token-dc01")}));
    for (int i = 0; i < 3; ++i) {
      const auto e = this->event("a1|Security|" + std::to_string(i), "DC01", 4688, i,
                                 "Mimikatz old " + std::to_string(i));
      ASSERT_TRUE(c.query(
          "INSERT INTO events(key, agent, host, channel, event_id, record_id, time, received, "
          "body) VALUES (?, 'dc01', ?, ?, ?, ?, ?, 1000, ?)",
          {e.key, e.host, e.channel, e.event_id, e.record_id, *e.time, e.body}));
    }
  }
  auto opened = this->backend_.reopen(StorageOptions{false, true});
  ASSERT_TRUE(opened) << opened.error().toString();
  this->storage_ = std::move(*opened);
  Storage& s = *this->storage_;
  const int64_t old_bytes =
      3 * static_cast<int64_t>(
              this->event("a1|Security|0", "DC01", 4688, 0, "Mimikatz old 0").body.size());
  EXPECT_EQ(*s.storedBytes(), old_bytes);
  EventQuery q;
  q.text = "mimikatz";
  EXPECT_EQ(s.queryEvents(q)->size(), 3u);

  const auto fresh = this->event("a1|Security|9", "DC01", 4624, 9, "fresh mimikatz");
  ASSERT_TRUE(s.ingest(this->batch("a1:9", {fresh}, 2000)));
  EXPECT_EQ(*s.storedBytes(), old_bytes + static_cast<int64_t>(fresh.body.size()));
  EXPECT_EQ(s.queryEvents(q)->size(), 4u);

  auto aged = s.applyRetention(int64_t{1500}, 0, 0);
  ASSERT_TRUE(aged) << aged.error().toString();
  EXPECT_EQ(aged->deleted, 3);
  EXPECT_EQ(*s.storedBytes(), static_cast<int64_t>(fresh.body.size()));
  auto left = s.queryEvents(q);
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].key, fresh.key);
}

TYPED_TEST(StorageTest, MigrationsAreIdempotentOnReopen) {
  this->enroll("dc01");
  this->storage_.reset();
  auto reopened = this->backend_.reopen();
  ASSERT_TRUE(reopened) << reopened.error().toString();
  this->storage_ = std::move(*reopened);
  auto agents = this->storage_->listAgents();
  ASSERT_TRUE(agents);
  EXPECT_EQ(agents->size(), 1u);
}

// ---- Several instances on one database (docs/scaling.md) ------------------------------------
// `second` is another Storage on the same database, as a second collector process would open
// it (its own connections and instance id). The same suite runs on SQLite (one file, two
// connections), where the statements must simply keep working.

TYPED_TEST(StorageTest, ForwardRowsAreClaimedByOneInstanceUntilTheLeaseRunsOut) {
  auto second = this->backend_.reopen();
  ASSERT_TRUE(second) << second.error().toString();
  Storage& a = *this->storage_;
  Storage& b = **second;
  EXPECT_NE(a.instanceId(), b.instanceId());
  constexpr int64_t kLease = 120'000'000;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(a.enqueueForward("splunk", "p" + std::to_string(i), 1));
  auto first = a.claimForwards("splunk", 10, 10 + 120'000'000, 2);
  ASSERT_TRUE(first) << first.error().toString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].payload, "p0");
  EXPECT_EQ((*first)[1].payload, "p1");
  auto other =
      b.claimForwards("splunk", 10, 10 + 120'000'000, 10);  // the rows A holds are not B's to send
  ASSERT_TRUE(other) << other.error().toString();
  ASSERT_EQ(other->size(), 2u);
  EXPECT_EQ((*other)[0].payload, "p2");
  EXPECT_TRUE(a.claimForwards("splunk", 10, 10 + 120'000'000, 10)->empty());
  // B fails its delivery: released, due again at 50 (attempts counted).
  ASSERT_TRUE(b.retryForwards({(*other)[0].id, (*other)[1].id}, 50));
  EXPECT_TRUE(a.claimForwards("splunk", 49, 49 + 120'000'000, 10)->empty());
  auto retried = a.claimForwards("splunk", 50, 50 + 120'000'000, 10);
  ASSERT_EQ(retried->size(), 2u);
  EXPECT_EQ((*retried)[0].attempts, 1);
  // A dies holding p0, p1 (and now p2, p3): after the lease B takes them all.
  EXPECT_TRUE(b.claimForwards("splunk", 10 + kLease - 1, 10 + 2 * kLease, 10)->empty());
  auto taken = b.claimForwards("splunk", 50 + kLease, 50 + 2 * kLease, 10);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->size(), 4u);
  std::vector<int64_t> ids;
  for (const auto& f : *taken) ids.push_back(f.id);
  ASSERT_TRUE(b.ackForwards(ids));
  EXPECT_EQ(*a.forwardDepth("splunk"), 0);
}

TYPED_TEST(StorageTest, AStoppingInstanceReleasesItsClaimsAndLeases) {
  auto second = this->backend_.reopen();
  ASSERT_TRUE(second) << second.error().toString();
  Storage& a = *this->storage_;
  Storage& b = **second;
  ASSERT_TRUE(a.enqueueForward("syslog", "p", 1));
  ASSERT_EQ(a.claimForwards("syslog", 10, 1000, 10)->size(), 1u);
  EXPECT_TRUE(*a.holdLease("health", 10, 1000));
  EXPECT_TRUE(b.claimForwards("syslog", 20, 1000, 10)->empty());
  EXPECT_FALSE(*b.holdLease("health", 20, 1000));
  auto holders = b.holders();
  ASSERT_TRUE(holders) << holders.error().toString();
  EXPECT_EQ(*holders, std::vector<std::string>{a.instanceId()});
  ASSERT_TRUE(a.releaseInstance());
  EXPECT_TRUE(b.holders()->empty());
  EXPECT_EQ(b.claimForwards("syslog", 20, 1000, 10)->size(), 1u);
  EXPECT_TRUE(*b.holdLease("health", 20, 1000));
}

TYPED_TEST(StorageTest, ConcurrentForwardLoopsOfTwoInstancesDeliverEachRowOnce) {
  auto second = this->backend_.reopen();
  ASSERT_TRUE(second) << second.error().toString();
  constexpr int kRows = 1000;
  for (int i = 0; i < kRows; ++i) {
    ASSERT_TRUE(this->storage_->enqueueForward("syslog", std::to_string(i), 1));
  }
  std::mutex mu;
  std::multiset<std::string> delivered;
  std::atomic<int> errors{0};
  auto loop = [&](Storage& s) {
    for (;;) {
      auto items = s.claimForwards("syslog", 100, 1000, 7);
      if (!items) {
        ++errors;
        return;
      }
      if (items->empty()) return;
      std::vector<int64_t> ids;
      {
        std::lock_guard lock(mu);
        for (const auto& f : *items) {
          delivered.insert(f.payload);
          ids.push_back(f.id);
        }
      }
      if (!s.ackForwards(ids)) ++errors;
    }
  };
  std::vector<std::thread> threads;  // two forward loops per instance
  for (int i = 0; i < 4; ++i)
    threads.emplace_back(loop, std::ref(i % 2 ? **second : *this->storage_));
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(delivered.size(), static_cast<size_t>(kRows));
  for (int i = 0; i < kRows; ++i) EXPECT_EQ(delivered.count(std::to_string(i)), 1u) << i;
}

TYPED_TEST(StorageTest, RateBucketIsSharedByTheInstances) {
  auto second = this->backend_.reopen();
  ASSERT_TRUE(second) << second.error().toString();
  // Burst 3, one token per 1000 s: three requests pass, wherever they arrive; the fourth waits.
  Storage* at[] = {this->storage_.get(), second->get(), this->storage_.get()};
  for (Storage* s : at) {
    auto t = s->takeRateToken("agent:dc01", 0.001, 3);
    ASSERT_TRUE(t) << t.error().toString();
    EXPECT_FALSE(t->has_value());
  }
  auto denied = (*second)->takeRateToken("agent:dc01", 0.001, 3);
  ASSERT_TRUE(denied) << denied.error().toString();
  ASSERT_TRUE(denied->has_value());
  EXPECT_GT(**denied, 900'000'000);  // ~1000 s for a whole token
  EXPECT_LE(**denied, 1'000'000'000);
  // Another key has its own bucket.
  EXPECT_FALSE(this->storage_->takeRateToken("agent:dc02", 0.001, 3)->has_value());
  // A fast bucket refills: 1000/s, burst 1.
  EXPECT_FALSE(this->storage_->takeRateToken("login:x", 1000, 1)->has_value());
  bool granted_again = false;
  for (int i = 0; i < 200 && !granted_again; ++i) {
    auto t = (*second)->takeRateToken("login:x", 1000, 1);
    ASSERT_TRUE(t);
    granted_again = !t->has_value();
    if (!granted_again) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // refill
  }
  EXPECT_TRUE(granted_again);
}

TYPED_TEST(StorageTest, RateLimitersOfTwoInstancesShareTheBucketOnPostgres) {
  auto second = this->backend_.reopen();
  ASSERT_TRUE(second) << second.error().toString();
  RateLimiter a(0.001, 3, *this->storage_, "agent");
  RateLimiter b(0.001, 3, **second, "agent");
  const bool postgres = std::string(this->storage_->driver()) == "postgres";
  EXPECT_EQ(a.shared(), postgres);  // SQLite: one process, buckets in memory
  const auto now = std::chrono::steady_clock::now();
  int passed = 0;
  for (int i = 0; i < 6; ++i) passed += !(i % 2 ? b : a).acquire("dc01", now).has_value();
  EXPECT_EQ(passed, postgres ? 3 : 6);  // in memory each instance allows its own burst
  EXPECT_EQ(a.fallbacks() + b.fallbacks(), 0u);
}

TYPED_TEST(StorageTest, ConcurrentTokensNeverExceedTheBurst) {
  auto second = this->backend_.reopen();
  ASSERT_TRUE(second) << second.error().toString();
  std::atomic<int> granted{0};
  std::atomic<int> errors{0};
  auto take = [&](Storage& s) {
    for (int i = 0; i < 40; ++i) {
      auto t = s.takeRateToken("agent:burst", 0.0001, 25);
      if (!t) {
        ++errors;
      } else if (!t->has_value()) {
        ++granted;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(take, std::ref(i % 2 ? **second : *this->storage_));
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(granted.load(), 25);
}

TYPED_TEST(StorageTest, LeaseHasOneHolderAndPassesOnWhenItRunsOut) {
  auto second = this->backend_.reopen();
  ASSERT_TRUE(second) << second.error().toString();
  Storage& a = *this->storage_;
  Storage& b = **second;
  EXPECT_TRUE(*a.holdLease("health", 100, 200));
  EXPECT_FALSE(*b.holdLease("health", 150, 250));
  EXPECT_TRUE(*a.holdLease("health", 190, 290));   // renewed by its holder
  EXPECT_FALSE(*b.holdLease("health", 289, 389));  // still A's
  EXPECT_TRUE(*b.holdLease("health", 290, 390));   // A stopped renewing
  EXPECT_FALSE(*a.holdLease("health", 300, 400));
  EXPECT_TRUE(*a.holdLease("retention", 300, 400));  // another lease
}

TYPED_TEST(StorageTest, SameBatchAtTwoInstancesAtOnceIsStoredOnce) {
  this->enroll("dc01");
  auto second = this->backend_.reopen();
  ASSERT_TRUE(second) << second.error().toString();
  constexpr int kBatches = 30;
  std::vector<IngestBatch> batches;
  for (int i = 0; i < kBatches; ++i) {
    std::vector<IngestRecord> records;
    for (int k = 0; k < 5; ++k) {
      const int n = i * 5 + k;
      records.push_back(this->event("a1|Security|" + std::to_string(n), "DC01", 4624, n));
    }
    IngestBatch b = this->batch("a1:e1:" + std::to_string(i), std::move(records));
    b.content_hash = "h" + std::to_string(i);
    b.forward_outputs = {"splunk"};
    batches.push_back(std::move(b));
  }
  // The same batch id with other content, delivered to both at once: one conflict, one alert.
  IngestBatch rolled = this->batch("a1:e1:0", {this->event("a1|Security|9999", "DC01", 1, 1)});
  rolled.content_hash = "other";
  rolled.forward_outputs = {"splunk"};
  std::atomic<int> stored_batches{0}, duplicate_batches{0}, conflict_batches{0}, errors{0};
  std::atomic<int> events{0};
  auto deliver = [&](Storage& s) {
    for (const IngestBatch& b : batches) {
      auto r = s.ingest(b);
      if (!r) {
        ++errors;
        continue;
      }
      (r->duplicate_batch ? duplicate_batches : stored_batches)++;
      events += static_cast<int>(r->stored_events);
    }
    auto r = s.ingest(rolled);
    if (!r) {
      ++errors;
    } else {
      if (r->conflict_batch) ++conflict_batches;
      events += static_cast<int>(r->stored_events);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(deliver, std::ref(i % 2 ? **second : *this->storage_));
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(stored_batches.load(), kBatches);
  EXPECT_EQ(duplicate_batches.load(), 3 * kBatches);
  EXPECT_EQ(events.load(), kBatches * 5 + 1);
  EXPECT_EQ(conflict_batches.load(), 1);
  EXPECT_EQ(*this->storage_->forwardDepth("splunk"), kBatches * 5 + 1 + 1);  // + the alert
  auto agents = this->storage_->listAgents();
  ASSERT_TRUE(agents);
  EXPECT_EQ((*agents)[0].events, kBatches * 5 + 1);
  EXPECT_EQ((*agents)[0].conflicts, 1);
  EXPECT_EQ((*agents)[0].batches, 4 * (kBatches + 1));
  AlertQuery aq;
  aq.rule_id = "tier0watch.collector.conflict";
  EXPECT_EQ(this->storage_->queryAlerts(aq)->size(), 1u);
}

TYPED_TEST(StorageTest, FirstBatchesAtTwoInstancesBindTheAgentIdOnce) {
  this->enroll("dc01");
  this->enroll("dc02");
  auto second = this->backend_.reopen();
  ASSERT_TRUE(second) << second.error().toString();
  std::atomic<int> ok{0};
  auto bind = [&](Storage& s, const std::string& name) {
    auto r = s.bindAgentId(name, "id-1");
    if (r && *r) ++ok;
  };
  std::thread t1(bind, std::ref(*this->storage_), "dc01");
  std::thread t2(bind, std::ref(**second), "dc01");
  t1.join();
  t2.join();
  EXPECT_EQ(ok.load(), 2);  // both batches of dc01 carry on
  EXPECT_FALSE(*(*second)->bindAgentId("dc02", "id-1"));
}

TYPED_TEST(StorageTest, HealthIssueUpdateLosesToAConcurrentChange) {
  this->enroll("dc01");
  HealthIssue h{0, "dc01", "agent_silent", "",           "high",       "x",
                1, 1,      "open",         std::nullopt, std::nullopt, std::nullopt};
  auto id = this->storage_->addHealthIssue(h);
  ASSERT_TRUE(id);
  h.id = *id;
  HealthIssue suppressed = h;
  suppressed.state = "suppressed";
  suppressed.suppressed_until = 100;
  EXPECT_TRUE(*this->storage_->updateHealthIssueIf(suppressed, "open"));
  h.last_seen = 5;  // the tracker read it as open before the suppression
  EXPECT_FALSE(*this->storage_->updateHealthIssueIf(h, "open"));
  EXPECT_EQ((*this->storage_->healthIssueById(*id))->state, "suppressed");
}

TYPED_TEST(StorageTest, AConditionHasOneIssueThatIsNotClosed) {
  // Two evaluators (a round that outlasted the health lease) cannot open one condition twice.
  this->enroll("dc01");
  HealthIssue h{0, "dc01", "source_absent", "Security",   "medium",     "x",
                1, 1,      "open",          std::nullopt, std::nullopt, std::nullopt};
  auto first = this->storage_->addHealthIssue(h);
  ASSERT_TRUE(first) << first.error().toString();
  EXPECT_FALSE(this->storage_->addHealthIssue(h));
  h.source = "System";  // another source: another condition
  EXPECT_TRUE(this->storage_->addHealthIssue(h));
  h.source = "Security";
  h.id = *first;
  h.state = "closed";
  h.closed_at = 2;
  ASSERT_TRUE(*this->storage_->updateHealthIssueIf(h, "open"));
  h.state = "open";
  h.closed_at.reset();
  EXPECT_TRUE(this->storage_->addHealthIssue(h));  // it came back: a new issue
}

TYPED_TEST(StorageTest, InstancesStartingTogetherMigrateOnce) {
  // A fresh database opened by three processes at once (PostgreSQL: the advisory lock; SQLite:
  // its write lock and busy timeout).
  this->storage_.reset();
  for (int round = 0; round < 3; ++round) {
    this->backend_.cleanup();
    ASSERT_TRUE(this->backend_.createEmpty());
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      // Round 0: storage.search_index off; 1: on; 2: on and off at once (under the migrations'
      // lock on PostgreSQL, each creates or drops the index in turn).
      const bool search_index = round == 1 || (round == 2 && i % 2 == 0);
      threads.emplace_back([&, search_index] {
        auto s = this->backend_.reopen(StorageOptions{false, search_index});
        if (!s) {
          ADD_FAILURE() << s.error().toString();
          ++failures;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0) << "round " << round;
  }
  auto s = this->backend_.reopen();
  ASSERT_TRUE(s);
  this->storage_ = std::move(*s);
  this->enroll("dc01");
}

}  // namespace
}  // namespace t0w::collector
