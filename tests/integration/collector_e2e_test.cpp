// End to end: the shipper's BeastTransport -> tier0watch-collector over HTTPS on 127.0.0.1
// (port 0, self-signed certificate generated on start), SQLite storage in a temp dir.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/http/beast_transport.h"
#include "common/wire/batch_encoder.h"
#include "common/zlib/zlib_codec.h"
#include "tests/fakes/test_pki.h"
#include "tools/collector/security.h"
#include "tools/collector/service.h"

namespace t0w::collector {
namespace {

using Json = nlohmann::json;

std::string tempDir() {
  char tmpl[] = "/tmp/t0w-collector-e2e-XXXXXX";
  return mkdtemp(tmpl) != nullptr ? std::string(tmpl) : std::string();
}

QueueRecord eventRecord(int64_t record_id, int64_t event_id, const std::string& user) {
  Json body{
      {"System",
       {{"Provider", {{"Name", "Microsoft-Windows-Security-Auditing"}}},
        {"EventID", event_id},
        {"Channel", "Security"},
        {"Computer", "DC01.corp.example"},
        {"EventRecordID", record_id},
        {"TimeCreated", "2024-05-01T10:00:0" + std::to_string(record_id % 10) + ".0000000Z"}}},
      {"EventData", {{"TargetUserName", user}}},
      {"Origin", {{"Source", "test"}, {"Position", record_id}}}};
  QueueRecord r;
  r.kind = RecordKind::kEvent;
  r.key = "Security|" + std::to_string(record_id);
  r.body = body.dump();
  return r;
}

QueueRecord alertRecord(int64_t record_id) {
  Json event = Json::parse(eventRecord(record_id, 4662, "attacker").body);
  Json body{{"type", "alert"},
            {"rule_id", "dcsync-rule"},
            {"rule_title", "DCSync by a non-DC account"},
            {"level", "high"},
            {"tags", {"attack.t1003.006"}},
            {"time", "2024-05-01T10:00:01.0000000Z"},
            {"event_key", "Security:" + std::to_string(record_id)},
            {"matched", Json::array()},
            {"event", event}};
  QueueRecord r;
  r.kind = RecordKind::kAlert;
  r.key = "alert|dcsync-rule|" + std::to_string(record_id);
  r.body = body.dump();
  return r;
}

class CollectorE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tempDir();
    ASSERT_FALSE(dir_.empty());
    auto config = parseConfig(
        "listen: {port: 0}\n"
        "state_dir: " +
            dir_ +
            "\n"
            "limits:\n"
            "  max_body_bytes: 65536\n"
            "  max_decompressed_bytes: 1048576\n"
            "  max_records_per_batch: 100\n"
            "  max_header_bytes: 4096\n"
            "  agent_requests_per_second: 0.001\n"
            "  agent_burst: 30\n" +
            extra_config_,
        "test");
    ASSERT_TRUE(config) << config.error().toString();
    auto service = CollectorService::create(*config);
    ASSERT_TRUE(service) << service.error().toString();
    service_ = std::move(*service);
    auto port = service_->start();
    ASSERT_TRUE(port) << port.error().toString();
    port_ = *port;
    token_ = enroll("dc01");
    auto user = hashPassword("admin", "admin password", 1000, systemNowMicros());
    ASSERT_TRUE(user);
    ASSERT_TRUE(service_->storage().addUser(*user));
  }

  void TearDown() override {
    service_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string enroll(const std::string& name) {
    auto token = newToken();
    EXPECT_TRUE(token);
    EXPECT_TRUE(service_->storage().enrollAgent(name, sha256Hex(*token), systemNowMicros()));
    return *token;
  }

  std::unique_ptr<BeastTransport> client(const std::string& cert = "",
                                         const std::string& key = "") {
    BeastTransportOptions o;
    o.url = "https://127.0.0.1:" + std::to_string(port_);
    o.ca_bundle_file = dir_ + "/tls/collector.pem";
    o.client_cert_file = cert;
    o.client_key_file = key;
    auto t = BeastTransport::create(o);
    EXPECT_TRUE(t) << t.error().toString();
    return std::move(*t);
  }

  HttpResponse post(const std::string& body, const std::string& token,
                    const HttpHeaders& headers = {{"Content-Type", "application/json"},
                                                  {"Content-Encoding", "gzip"}}) {
    HttpRequest req;
    req.path = "/api/v1/batches";
    req.bearer_token = token;
    req.headers = headers;
    req.body = body;
    auto r = client_->send(req);
    EXPECT_TRUE(r.isResponse()) << (r.isResponse() ? "" : r.error().toString());
    return r.isResponse() ? r.response() : HttpResponse{};
  }

  HttpResponse postBatch(const std::string& agent_id, int64_t seq,
                         const std::vector<QueueRecord>& records, const std::string& token) {
    BatchEncoder encoder({agent_id, "DC01", "0.1.0"});
    auto batch = encoder.encode(seq, records);
    EXPECT_TRUE(batch);
    return post(batch->gzip, token);
  }

  HttpResponse api(const std::string& method, const std::string& path, const std::string& body = "",
                   bool with_csrf = true) {
    HttpRequest req;
    req.method = method;
    req.path = path;
    req.body = body;
    if (!cookie_.empty()) req.headers.emplace_back("Cookie", cookie_);
    if (with_csrf && !csrf_.empty()) req.headers.emplace_back("X-CSRF-Token", csrf_);
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    auto r = client_->send(req);
    EXPECT_TRUE(r.isResponse()) << (r.isResponse() ? "" : r.error().toString());
    return r.isResponse() ? r.response() : HttpResponse{};
  }

  void login() {
    HttpResponse r =
        api("POST", "/api/v1/login", R"({"user":"admin","password":"admin password"})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto set_cookie = r.header("Set-Cookie");
    ASSERT_TRUE(set_cookie);
    const std::string c(*set_cookie);
    EXPECT_NE(c.find("HttpOnly"), std::string::npos);
    EXPECT_NE(c.find("Secure"), std::string::npos);
    EXPECT_NE(c.find("SameSite=Strict"), std::string::npos);
    cookie_ = c.substr(0, c.find(';'));
    csrf_ = Json::parse(r.body)["csrf"].get<std::string>();
  }

  static Json json(const HttpResponse& r) { return Json::parse(r.body, nullptr, false); }

  std::string extra_config_;
  std::string dir_;
  std::unique_ptr<CollectorService> service_;
  uint16_t port_ = 0;
  std::string token_;
  std::unique_ptr<BeastTransport> client_;
  std::string cookie_;
  std::string csrf_;
};

TEST_F(CollectorE2eTest, IngestsQueriesDeduplicatesAndRefusesBadRequests) {
  client_ = client();
  std::vector<QueueRecord> records = {alertRecord(3)};
  for (int64_t i = 1; i <= 5; ++i)
    records.push_back(eventRecord(i, i == 3 ? 4662 : 4624, "user" + std::to_string(i)));
  HttpResponse r = postBatch("agent-1", 1, records, token_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["stored"], 6);

  // Duplicates: the same batch again, then a new batch repeating the keys.
  r = postBatch("agent-1", 1, records, token_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["status"], "duplicate");
  r = postBatch("agent-1", 2, {records[1], records[2], eventRecord(6, 4625, "new")}, token_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["stored"], 1);
  EXPECT_EQ(json(r)["duplicates"], 2);

  // Queryable from the API after login.
  ASSERT_EQ(api("GET", "/api/v1/events").status, 401);
  login();
  Json events = json(api("GET", "/api/v1/events?limit=100"));
  ASSERT_EQ(events["events"].size(), 6u) << events.dump();
  Json filtered = json(api("GET", "/api/v1/events?event_id=4624&q=USER2"));
  ASSERT_EQ(filtered["events"].size(), 1u) << filtered.dump();
  EXPECT_EQ(filtered["events"][0]["record_id"], 2);
  EXPECT_EQ(filtered["events"][0]["host"], "dc01") << "the authenticated agent, not the event";
  EXPECT_EQ(api("GET", "/api/v1/events?bogus=1").status, 400);
  EXPECT_EQ(api("GET", "/api/v1/events?limit=100000").status, 400);

  Json alerts = json(api("GET", "/api/v1/alerts?rule=dcsync-rule&level=high"));
  ASSERT_EQ(alerts["alerts"].size(), 1u) << alerts.dump();
  const int64_t alert_id = alerts["alerts"][0]["id"];
  Json detail = json(api("GET", "/api/v1/alerts/" + std::to_string(alert_id)));
  ASSERT_TRUE(detail["stored_event"].is_object()) << detail.dump();
  EXPECT_EQ(detail["stored_event"]["record_id"], 3);
  EXPECT_EQ(detail["stored_event"]["event_id"], 4662);

  // Acknowledging needs the CSRF token.
  EXPECT_EQ(api("POST", "/api/v1/alerts/" + std::to_string(alert_id) + "/ack", "{}", false).status,
            403);
  HttpResponse ack = api("POST", "/api/v1/alerts/" + std::to_string(alert_id) + "/ack", "{}");
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(json(ack)["acknowledged_by"], "admin");

  Json agents = json(api("GET", "/api/v1/agents"));
  ASSERT_EQ(agents["agents"].size(), 1u);
  EXPECT_EQ(agents["agents"][0]["name"], "dc01");
  EXPECT_EQ(agents["agents"][0]["events"], 6);
  EXPECT_EQ(agents["agents"][0]["health"], "ok");
  Json agent = json(api("GET", "/api/v1/agents/dc01"));
  ASSERT_EQ(agent["channels"].size(), 1u) << agent.dump();
  EXPECT_EQ(agent["channels"][0]["channel"], "Security");

  // Refusals.
  BatchEncoder encoder({"agent-1", "DC01", "0.1.0"});
  const std::string good =
      encoder.encode(3, std::vector<QueueRecord>{eventRecord(7, 1, "x")})->gzip;
  r = post(good, "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json(r)["error"], "missing_token");
  r = post(good, std::string(64, 'a'));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json(r)["error"], "unknown_token");
  r = post(good, token_, {{"Content-Type", "text/plain"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 415);
  r = post(good, token_, {{"Content-Type", "application/json"}, {"Content-Encoding", "br"}});
  EXPECT_EQ(r.status, 415);
  r = post(*zCompress("{not json", ZFormat::kGzip, 6), token_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json(r)["error"], "malformed_batch");
  EXPECT_FALSE(json(r)["detail"].get<std::string>().empty());
  r = post("not gzip at all", token_);
  EXPECT_EQ(r.status, 400);

  // Oversized body: 100 KiB against a 64 KiB limit.
  std::string big(100 * 1024, 'x');
  r = post(big, token_);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(json(r)["error"], "body_too_large");
  client_ = client();  // the collector closes a connection after refusing its body

  // Zip bomb: 20 MiB of zeros compress to ~20 KiB, under the body limit, over the 1 MiB
  // decompression limit.
  auto bomb = zCompress(std::string(20 << 20, '\0'), ZFormat::kGzip, 9);
  ASSERT_TRUE(bomb);
  ASSERT_LT(bomb->size(), 65536u);
  r = post(*bomb, token_);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(json(r)["error"], "decompressed_too_large");

  // Too many records.
  std::vector<QueueRecord> many;
  for (int64_t i = 100; i < 202; ++i) many.push_back(eventRecord(i, 1, "m"));
  r = postBatch("agent-1", 4, many, token_);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(json(r)["error"], "too_many_records");

  // A token is bound to the agent id that first used it.
  r = postBatch("someone-else", 1, {eventRecord(1, 1, "x")}, token_);
  EXPECT_EQ(r.status, 403);

  // Headers over the limit.
  HttpRequest huge;
  huge.method = "GET";
  huge.path = "/healthz";
  huge.headers = {{"X-Padding", std::string(8192, 'p')}};
  auto hr = client_->send(huge);
  ASSERT_TRUE(hr.isResponse());
  EXPECT_EQ(hr.response().status, 431);
  client_ = client();

  // Still healthy, and nothing of the refused requests was stored.
  HttpResponse health = api("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json(health)["status"], "ok");
  EXPECT_EQ(json(api("GET", "/api/v1/events?limit=500"))["events"].size(), 6u);

  const std::string metrics = api("GET", "/metrics").body;
  EXPECT_NE(metrics.find("t0w_collector_http_requests_total{status=\"413\"} 3"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("t0w_collector_events_total 6"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("t0w_collector_dedup_hits_total 8"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("t0w_collector_duplicate_batches_total 1"), std::string::npos);
}

// Issue 10: a new queue file starts its lease sequence at 1 again. The queue epoch in the batch
// id keeps the collector from taking its batches for re-sends (before: acknowledged, not
// stored), and a batch id or record key re-sent with other content (a snapshot rollback) is
// kept as a conflict, counted on the agent, shown by the API and raised as an alert.
TEST_F(CollectorE2eTest, NewQueueEpochIsStoredAndConflictsAreKeptAndShown) {
  client_ = client();
  auto send = [&](const BatchEncoder& enc, int64_t seq, const std::vector<QueueRecord>& records) {
    auto batch = enc.encode(seq, records);
    EXPECT_TRUE(batch);
    return json(post(batch->gzip, token_));
  };
  const BatchEncoder old_queue({"agent-1", "DC01", "0.1.0"}, "00000000000000aa");
  const BatchEncoder new_queue({"agent-1", "DC01", "0.1.0"}, "00000000000000bb");
  Json r = send(old_queue, 1, {eventRecord(1, 4624, "a")});
  EXPECT_EQ(r["batch_id"], "agent-1:00000000000000aa:1");
  EXPECT_EQ(r["stored"], 1);

  r = send(new_queue, 1, {eventRecord(1, 4624, "a"), eventRecord(2, 4624, "b")});
  EXPECT_EQ(r["status"], "stored") << r.dump();
  EXPECT_EQ(r["stored"], 1);
  EXPECT_EQ(r["duplicates"], 1);
  EXPECT_EQ(send(new_queue, 1, {eventRecord(1, 4624, "a"), eventRecord(2, 4624, "b")})["status"],
            "duplicate")
      << "a true re-send";

  // The queue went back to a snapshot: batch 1 again, record 2 with other content, 3 new.
  r = send(new_queue, 1, {eventRecord(2, 4624, "rolled back"), eventRecord(3, 4624, "c")});
  EXPECT_EQ(r["status"], "conflict") << r.dump();
  EXPECT_EQ(r["stored"], 1);
  EXPECT_EQ(r["conflicts"], 2);

  login();
  Json agents = json(api("GET", "/api/v1/agents"));
  ASSERT_EQ(agents["agents"].size(), 1u);
  EXPECT_EQ(agents["agents"][0]["events"], 3);
  EXPECT_EQ(agents["agents"][0]["conflicts"], 2);
  EXPECT_EQ(agents["agents"][0]["health"], "degraded");
  Json agent = json(api("GET", "/api/v1/agents/dc01"));
  ASSERT_EQ(agent["recent_conflicts"].size(), 2u) << agent.dump();
  EXPECT_EQ(agent["recent_conflicts"][0]["kind"], "event");
  EXPECT_EQ(agent["recent_conflicts"][0]["key"], "agent-1|Security|2");
  EXPECT_EQ(agent["recent_conflicts"][0]["content"]["EventData"]["TargetUserName"], "rolled back");
  EXPECT_EQ(agent["recent_conflicts"][1]["kind"], "batch");
  Json stored = json(api("GET", "/api/v1/events?q=rolled"));
  EXPECT_TRUE(stored["events"].empty()) << "the first content stays stored";
  Json alerts = json(api("GET", "/api/v1/alerts?rule=tier0watch.collector.conflict"));
  ASSERT_EQ(alerts["alerts"].size(), 1u);
  EXPECT_EQ(alerts["alerts"][0]["level"], "high");
  const std::string metrics = api("GET", "/metrics").body;
  EXPECT_NE(metrics.find("t0w_collector_conflicts_total 2"), std::string::npos) << metrics;
}

// Issue 10: agents are not trusted for what they say about themselves. A credential cannot
// claim another agent's id (and with it its record-key space), ids cannot hold separators or
// control characters, and the host of every stored record is the authenticated agent's.
TEST_F(CollectorE2eTest, AgentCredentialCannotClaimAnotherAgentsKeySpaceOrHost) {
  client_ = client();
  ASSERT_EQ(postBatch("dc01-agent", 1, {eventRecord(1, 4624, "real")}, token_).status, 200);
  const std::string low = enroll("srv9");
  HttpResponse r = postBatch("dc01-agent", 2, {eventRecord(2, 4624, "forged")}, low);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(json(r)["error"], "agent_id_taken");
  for (const std::string& id :
       std::vector<std::string>{"srv9|dc01-agent", "srv9:1", "srv9\tx", "srv9 x", "srv\xc3\xa9",
                                std::string(129, 'a')}) {
    r = postBatch(id, 3, {eventRecord(3, 4624, "x")}, low);
    EXPECT_EQ(r.status, 400) << id << ": " << r.body;
  }
  // Its own id: events that claim to come from DC01 are stored as srv9's, under srv9's keys.
  r = postBatch("srv9-agent", 1, {eventRecord(1, 4624, "x"), alertRecord(1)}, low);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["stored"], 2) << "srv9-agent|Security|1 is not dc01-agent|Security|1";
  EXPECT_EQ(postBatch("dc01-agent", 4, {eventRecord(4, 4624, "x")}, low).status, 403)
      << "bound to srv9-agent now";

  login();
  Json forged = json(api("GET", "/api/v1/events?host=DC01.corp.example"));
  EXPECT_TRUE(forged["events"].empty()) << forged.dump();
  Json srv9 = json(api("GET", "/api/v1/events?host=srv9"));
  ASSERT_EQ(srv9["events"].size(), 1u) << srv9.dump();
  EXPECT_EQ(srv9["events"][0]["key"], "srv9-agent|Security|1");
  EXPECT_EQ(srv9["events"][0]["event"]["System"]["Computer"], "DC01.corp.example");
  Json dc01 = json(api("GET", "/api/v1/events?host=dc01"));
  ASSERT_EQ(dc01["events"].size(), 1u);
  EXPECT_EQ(dc01["events"][0]["event"]["EventData"]["TargetUserName"], "real");
  Json alerts = json(api("GET", "/api/v1/alerts?host=srv9"));
  ASSERT_EQ(alerts["alerts"].size(), 1u);
  EXPECT_EQ(alerts["alerts"][0]["key"], "srv9-agent|alert|dcsync-rule|1");
}

// Issue 10, failure 3: a site secret enrols many agents, each with its own credential bound to
// its agent id; the same id cannot enrol twice; revoked credentials get 401, rotated ones work.
TEST_F(CollectorE2eTest, SiteSecretEnrolsAgentsWithCredentialsOfTheirOwn) {
  client_ = client();
  EnrollmentSecret site;
  site.name = "dc-site";
  site.secret_hash = sha256Hex("t0wsite_secret");
  site.created = systemNowMicros();
  site.max_uses = 2;
  ASSERT_TRUE(service_->storage().addEnrollmentSecret(site));
  auto enrol = [&](const std::string& secret, const std::string& id) {
    HttpRequest req;
    req.path = "/api/v1/enroll";
    req.bearer_token = secret;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = Json{{"agent_id", id}, {"hostname", "DC-" + id}, {"version", "0.1.0"}}.dump();
    auto r = client_->send(req);
    EXPECT_TRUE(r.isResponse());
    return r.isResponse() ? r.response() : HttpResponse{};
  };
  HttpResponse a = enrol("t0wsite_secret", "dc02-agent");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(json(a)["agent"], "dc-dc02-agent");
  const std::string cred_a = json(a)["credential"];
  // The secret is checked first (no oracle for enrolled ids without it); a refusal spends no use.
  EXPECT_EQ(enrol("t0wsite_secret", "dc02-agent").status, 409) << "an enrolled id";
  HttpResponse b = enrol("t0wsite_secret", "dc03-agent");
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_NE(json(b)["credential"], cred_a);
  EXPECT_EQ(json(enrol("t0wsite_secret", "dc04-agent"))["error"], "secret_exhausted");
  EXPECT_EQ(enrol("wrong", "dc05-agent").status, 401);
  EXPECT_EQ(enrol("t0wsite_secret", "bad|id").status, 400);

  // The credential is bound to its agent id from the start.
  EXPECT_EQ(postBatch("dc02-agent", 1, {eventRecord(1, 4624, "x")}, cred_a).status, 200);
  EXPECT_EQ(postBatch("dc03-agent", 2, {eventRecord(2, 4624, "x")}, cred_a).status, 403);

  // Revoked: 401 and shown; rotated: the new credential works, the old one does not.
  ASSERT_TRUE(*service_->storage().revokeAgent("dc-dc02-agent", systemNowMicros()));
  HttpResponse r = postBatch("dc02-agent", 3, {eventRecord(3, 4624, "x")}, cred_a);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json(r)["error"], "revoked");
  login();
  Json agent = json(api("GET", "/api/v1/agents/dc-dc02-agent"));
  EXPECT_EQ(agent["revoked"], true);
  EXPECT_EQ(agent["health"], "revoked");
  EXPECT_EQ(agent["enrolled_via"], "dc-site");
  auto rotated = newToken();
  ASSERT_TRUE(*service_->storage().rotateAgentCredential("dc-dc02-agent", sha256Hex(*rotated),
                                                         systemNowMicros()));
  EXPECT_EQ(postBatch("dc02-agent", 4, {eventRecord(4, 4624, "x")}, *rotated).status, 200);
  EXPECT_EQ(postBatch("dc02-agent", 5, {eventRecord(5, 4624, "x")}, cred_a).status, 401);
}

TEST_F(CollectorE2eTest, RateLimitsEachAgentWithRetryAfter) {
  client_ = client();
  const std::string flood = enroll("flood");
  int limited = 0;
  std::string retry_after;
  for (int64_t seq = 1; seq <= 31; ++seq) {
    HttpResponse r = postBatch("flood-agent", seq, {eventRecord(seq, 1, "f")}, flood);
    if (r.status == 429) {
      ++limited;
      retry_after = std::string(r.header("Retry-After").value_or(""));
    } else {
      EXPECT_EQ(r.status, 200);
    }
  }
  EXPECT_EQ(limited, 1);  // burst 30, refill negligible
  EXPECT_FALSE(retry_after.empty());
  EXPECT_GT(std::stoll(retry_after), 0);
  // Another agent is not affected.
  EXPECT_EQ(postBatch("agent-1", 1, {eventRecord(1, 1, "x")}, token_).status, 200);
}

TEST_F(CollectorE2eTest, DashboardFilesAreServedWithoutLogin) {
  client_ = client();
  HttpResponse page = api("GET", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<script src=\"/app.js\""), std::string::npos);
  EXPECT_TRUE(page.header("Content-Security-Policy").has_value());
  EXPECT_EQ(api("GET", "/app.js").status, 200);
  EXPECT_EQ(api("GET", "/nope.js").status, 404);
  EXPECT_EQ(api("POST", "/api/v1/login", R"({"user":"admin","password":"wrong"})").status, 401);
  EXPECT_EQ(api("POST", "/api/v1/login", "garbage").status, 400);
}

class CollectorMtlsTest : public CollectorE2eTest {
 protected:
  void SetUp() override {
    pki_dir_ = tempDir();
    auto pki = fakes::writeTestPki(pki_dir_, {"DNS:localhost"});
    ASSERT_TRUE(pki) << pki.error().toString();
    pki_ = *pki;
    extra_config_ = "tls: {client_ca_file: " + pki_.ca_cert + "}\n";
    CollectorE2eTest::SetUp();
  }
  void TearDown() override {
    CollectorE2eTest::TearDown();
    std::error_code ec;
    std::filesystem::remove_all(pki_dir_, ec);
  }
  std::string pki_dir_;
  fakes::TestPkiFiles pki_;
};

TEST_F(CollectorMtlsTest, RequiresAClientCertificateFromTheConfiguredCa) {
  client_ = client();
  HttpRequest req;
  req.method = "GET";
  req.path = "/healthz";
  auto refused = client_->send(req);
  EXPECT_FALSE(refused.isResponse());
  client_ = client(pki_.client_cert, pki_.client_key);
  HttpResponse r = postBatch("agent-1", 1, {eventRecord(1, 4624, "x")}, token_);
  EXPECT_EQ(r.status, 200) << r.body;
}

}  // namespace
}  // namespace t0w::collector
