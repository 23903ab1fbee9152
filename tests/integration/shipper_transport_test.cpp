// BeastTransport against the real t0w-fake-collector (and t0w-fake-proxy) on 127.0.0.1.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <filesystem>

#include "agent/shipper/backoff.h"
#include "agent/shipper/outcome.h"
#include "common/http/beast_transport.h"
#include "tests/fakes/fake_process.h"
#include "tests/fakes/fake_random.h"
#include "tests/fakes/gzip.h"
#include "tests/fakes/scoped_env.h"
#include "tests/fakes/test_pki.h"

namespace t0w {
namespace {

using fakes::FakeProcess;
using fakes::readFile;
using fakes::readJsonLines;
using fakes::TempDir;

constexpr const char* kToken = "tok-3f9a1c77-secret";

std::unique_ptr<FakeProcess> startCollector(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.end(), {"--dir", dir.path(), "--time-limit", "120"});
  auto process = FakeProcess::start(T0W_FAKE_COLLECTOR, args);
  EXPECT_TRUE(process) << process.error().toString();
  return process ? std::move(*process) : nullptr;
}

std::unique_ptr<FakeProcess> startProxy(const TempDir& dir, std::vector<std::string> args = {}) {
  args.insert(args.end(), {"--dir", dir.path(), "--time-limit", "120"});
  auto process = FakeProcess::start(T0W_FAKE_PROXY, args);
  EXPECT_TRUE(process) << process.error().toString();
  return process ? std::move(*process) : nullptr;
}

BeastTransportOptions optionsFor(const FakeProcess& server, const std::string& host = "127.0.0.1") {
  BeastTransportOptions options;
  options.url = server.ready().at("scheme").get<std::string>() + "://" + host + ":" +
                std::to_string(server.port()) + "/ingest";
  if (server.ready().at("scheme") == "https") {
    options.ca_bundle_file = server.ready().at("ca_cert").get<std::string>();
  }
  return options;
}

std::unique_ptr<BeastTransport> makeTransport(BeastTransportOptions options) {
  auto transport = BeastTransport::create(std::move(options));
  EXPECT_TRUE(transport) << transport.error().toString();
  return transport ? std::move(*transport) : nullptr;
}

std::string samplePayload(size_t events) {
  std::string out;
  for (size_t i = 0; i < events; ++i) {
    out += R"({"channel":"Security","event_id":4624,"record_id":)" + std::to_string(i) +
           R"(,"computer":"dc01.corp.example","target_user":"user)" + std::to_string(i % 97) +
           "\"}\n";
  }
  return out;
}

HttpRequest batchRequest(const std::string& payload) {
  HttpRequest request;
  request.path = "/v1/batches";
  request.bearer_token = kToken;
  request.headers = {{"Content-Type", "application/x-ndjson"}, {"Content-Encoding", "gzip"}};
  request.body = fakes::gzipCompress(payload);
  request.timeout = std::chrono::seconds(20);
  return request;
}

std::vector<nlohmann::json> records(const FakeProcess& server) {
  return readJsonLines(server.ready().at("record").get<std::string>());
}

// The token must appear in nothing the server wrote (it redacts) — a check that the record
// really is the place the test inspects, and that the transport sent nothing else carrying it.
bool anyFileContains(const std::string& dir, const std::string& needle) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (readFile(entry.path().string()).find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(ShipperTransportTest, AckAndServerRecordsExactDecodedBody) {
  TempDir dir;
  auto server = startCollector(dir, {});
  ASSERT_TRUE(server);
  auto transport = makeTransport(optionsFor(*server));
  ASSERT_TRUE(transport);

  const std::string payload = samplePayload(2000);
  const TransportResult result = transport->send(batchRequest(payload));
  ASSERT_TRUE(result.isResponse()) << result.error().toString();
  EXPECT_EQ(result.response().status, 200);
  EXPECT_EQ(classifyOutcome(result, std::chrono::system_clock::now()).kind, OutcomeKind::kAck);

  const auto lines = records(*server);
  ASSERT_EQ(lines.size(), 1u);
  const auto& rec = lines[0];
  EXPECT_EQ(rec["method"], "POST");
  EXPECT_EQ(rec["target"], "/ingest/v1/batches");
  EXPECT_EQ(rec["headers"]["content-encoding"], "gzip");
  EXPECT_EQ(rec["headers"]["content-type"], "application/x-ndjson");
  EXPECT_EQ(rec["headers"]["host"], "127.0.0.1:" + std::to_string(server->port()));
  EXPECT_EQ(rec["headers"]["authorization"], "<redacted>");
  EXPECT_EQ(rec["authorization"], "present");
  EXPECT_EQ(readFile(rec["body_file"].get<std::string>()), payload);
  EXPECT_FALSE(anyFileContains(dir.path(), kToken));
}

TEST(ShipperTransportTest, HostNameVerificationAndSniWithDnsName) {
  TempDir dir;
  auto server = startCollector(dir, {});
  ASSERT_TRUE(server);
  auto transport = makeTransport(optionsFor(*server, "localhost"));
  ASSERT_TRUE(transport);
  const TransportResult result = transport->send(batchRequest("x"));
  ASSERT_TRUE(result.isResponse()) << result.error().toString();
  EXPECT_EQ(result.response().status, 200);
}

TEST(ShipperTransportTest, KeepAliveReusesOneConnection) {
  TempDir dir;
  auto server = startCollector(dir, {});
  ASSERT_TRUE(server);
  auto transport = makeTransport(optionsFor(*server));
  ASSERT_TRUE(transport);
  for (int i = 0; i < 5; ++i) {
    const TransportResult result = transport->send(batchRequest(samplePayload(10 + i)));
    ASSERT_TRUE(result.isResponse()) << result.error().toString();
    EXPECT_EQ(result.response().status, 200);
  }
  EXPECT_EQ(transport->connectionsOpened(), 1u);
  transport->closeConnection();
  const TransportResult after_close = transport->send(batchRequest("again"));
  ASSERT_TRUE(after_close.isResponse()) << after_close.error().toString();
  EXPECT_EQ(transport->connectionsOpened(), 2u);
  const auto lines = records(*server);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(readFile(lines[4]["body_file"].get<std::string>()), samplePayload(14));
}

TEST(ShipperTransportTest, ReconnectsWhenServerDropsKeptAliveConnection) {
  TempDir dir;
  auto server = startCollector(dir, {"--close-after", "1"});
  ASSERT_TRUE(server);
  auto transport = makeTransport(optionsFor(*server));
  ASSERT_TRUE(transport);
  for (int i = 0; i < 3; ++i) {
    const TransportResult result = transport->send(batchRequest(samplePayload(5 + i)));
    ASSERT_TRUE(result.isResponse()) << i << ": " << result.error().toString();
    EXPECT_EQ(result.response().status, 200);
  }
  EXPECT_EQ(transport->connectionsOpened(), 3u);
  EXPECT_EQ(records(*server).size(), 3u);  // each batch reached the collector exactly once
}

TEST(ShipperTransportTest, PayloadTooLargeSplits) {
  TempDir dir;
  auto server = startCollector(dir, {"--max-body", "2000"});
  ASSERT_TRUE(server);
  auto transport = makeTransport(optionsFor(*server));
  ASSERT_TRUE(transport);

  HttpRequest big = batchRequest("");
  big.headers = {{"Content-Type", "application/octet-stream"}};
  big.body = std::string(5000, 'a');
  const TransportResult too_big = transport->send(big);
  ASSERT_TRUE(too_big.isResponse()) << too_big.error().toString();
  EXPECT_EQ(too_big.response().status, 413);
  EXPECT_EQ(classifyOutcome(too_big, std::chrono::system_clock::now()).kind, OutcomeKind::kSplit);

  big.body.resize(1000);
  const TransportResult half = transport->send(big);
  ASSERT_TRUE(half.isResponse()) << half.error().toString();
  EXPECT_EQ(half.response().status, 200);
}

TEST(ShipperTransportTest, TooManyRequestsWithRetryAfterSeconds) {
  TempDir dir;
  auto server = startCollector(dir, {"--reply-429", "7"});
  ASSERT_TRUE(server);
  auto transport = makeTransport(optionsFor(*server));
  ASSERT_TRUE(transport);
  const TransportResult result = transport->send(batchRequest(samplePayload(3)));
  ASSERT_TRUE(result.isResponse()) << result.error().toString();
  EXPECT_EQ(result.response().status, 429);
  const Outcome outcome = classifyOutcome(result, std::chrono::system_clock::now());
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetry);
  EXPECT_TRUE(outcome.spends_retry_budget);
  ASSERT_TRUE(outcome.retry_after.has_value());
  EXPECT_EQ(*outcome.retry_after, std::chrono::seconds(7));
}

TEST(ShipperTransportTest, TooManyRequestsWithRetryAfterHttpDate) {
  TempDir dir;
  auto server = startCollector(dir, {"--reply-429", "Thu, 26 Nov 2026 12:01:30 GMT"});
  ASSERT_TRUE(server);
  auto transport = makeTransport(optionsFor(*server));
  ASSERT_TRUE(transport);
  const TransportResult result = transport->send(batchRequest(samplePayload(3)));
  ASSERT_TRUE(result.isResponse()) << result.error().toString();
  using namespace std::chrono;
  const auto now = system_clock::time_point(sys_days(year(2026) / 11 / 26)) + hours(12);
  const Outcome outcome = classifyOutcome(result, now);
  ASSERT_TRUE(outcome.retry_after.has_value());
  EXPECT_EQ(*outcome.retry_after, seconds(90));
}

TEST(ShipperTransportTest, ServerErrorStormRetriesUntilAck) {
  TempDir dir;
  auto server = startCollector(dir, {"--fail-first", "4"});
  ASSERT_TRUE(server);
  auto transport = makeTransport(optionsFor(*server));
  ASSERT_TRUE(transport);
  auto random = testing::FakeRandom::maximum();
  BackoffPolicy policy;
  policy.base = std::chrono::milliseconds(100);
  policy.cap = std::chrono::milliseconds(1000);
  Backoff backoff(policy, random);

  const HttpRequest request = batchRequest(samplePayload(50));
  std::vector<int> statuses;
  std::vector<int64_t> delays;
  int budget_spent = 0;
  for (int attempt = 0; attempt < 10; ++attempt) {  // bounded; delays are computed, not slept
    const TransportResult result = transport->send(request);
    ASSERT_TRUE(result.isResponse()) << result.error().toString();
    statuses.push_back(result.response().status);
    const Outcome outcome = classifyOutcome(result, std::chrono::system_clock::now());
    if (outcome.kind == OutcomeKind::kAck) {
      backoff.reset();
      break;
    }
    ASSERT_EQ(outcome.kind, OutcomeKind::kRetry);
    budget_spent += outcome.spends_retry_budget ? 1 : 0;
    delays.push_back(backoff.next(outcome.retry_after).count());
  }
  EXPECT_EQ(statuses, (std::vector<int>{500, 500, 500, 500, 200}));
  EXPECT_EQ(budget_spent, 4);
  EXPECT_EQ(delays, (std::vector<int64_t>{100, 200, 400, 800}));
  EXPECT_EQ(backoff.attempt(), 0u);
  // The collector saw every attempt with the same body (idempotent re-sends).
  const auto lines = records(*server);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(readFile(lines[0]["body_file"].get<std::string>()),
            readFile(lines[4]["body_file"].get<std::string>()));
}

TEST(ShipperTransportTest, HangingServerTimesOut) {
  TempDir dir;
  auto server = startCollector(dir, {"--hang"});
  ASSERT_TRUE(server);
  auto transport = makeTransport(optionsFor(*server));
  ASSERT_TRUE(transport);
  HttpRequest request = batchRequest(samplePayload(5));
  request.timeout = std::chrono::milliseconds(500);
  const TransportResult result = transport->send(request);
  ASSERT_FALSE(result.isResponse());
  EXPECT_EQ(result.error().kind, TransportErrorKind::kTimeout) << result.error().toString();
  EXPECT_EQ(result.error().message.find(kToken), std::string::npos);
  const Outcome outcome = classifyOutcome(result, std::chrono::system_clock::now());
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetry);
  EXPECT_FALSE(outcome.spends_retry_budget);
}

TEST(ShipperTransportTest, WrongHostCertificateIsRefusedAndNothingIsRecorded) {
  TempDir dir;
  auto server = startCollector(dir, {"--wrong-cert"});
  ASSERT_TRUE(server);
  auto transport = makeTransport(optionsFor(*server));  // trusts the CA that issued it
  ASSERT_TRUE(transport);
  const TransportResult result = transport->send(batchRequest(samplePayload(5)));
  ASSERT_FALSE(result.isResponse());
  EXPECT_EQ(result.error().kind, TransportErrorKind::kTlsVerification) << result.error().toString();
  EXPECT_EQ(result.error().message.find(kToken), std::string::npos);
  EXPECT_TRUE(records(*server).empty());
}

TEST(ShipperTransportTest, UntrustedCaIsRefusedAndNothingIsRecorded) {
  TempDir dir;
  auto server = startCollector(dir, {});
  ASSERT_TRUE(server);
  BeastTransportOptions options = optionsFor(*server);
  options.ca_bundle_file.clear();  // system store only: the test CA is not in it
  auto transport = makeTransport(options);
  ASSERT_TRUE(transport);
  const TransportResult result = transport->send(batchRequest(samplePayload(5)));
  ASSERT_FALSE(result.isResponse());
  EXPECT_EQ(result.error().kind, TransportErrorKind::kTlsVerification) << result.error().toString();
  EXPECT_TRUE(records(*server).empty());
}

TEST(ShipperTransportTest, SystemStoreInAHashedDirectoryIsReadWhenNeeded) {
  TempDir dir;
  auto server = startCollector(dir, {});
  ASSERT_TRUE(server);
  BeastTransportOptions options = optionsFor(*server);
  const std::string ca = options.ca_bundle_file;
  options.ca_bundle_file.clear();
  const std::filesystem::path store = std::filesystem::path(dir.path()) / "certs";
  std::filesystem::create_directories(store);
  const std::string name = fakes::hashedCaFileName(ca);
  ASSERT_FALSE(name.empty()) << ca;
  std::filesystem::copy_file(ca, store / name);
  {
    // The test CA is trusted through the system's hashed directory alone.
    fakes::ScopedEnv file("SSL_CERT_FILE", nullptr);
    fakes::ScopedEnv certs("SSL_CERT_DIR", store.c_str());
    auto transport = makeTransport(options);
    ASSERT_TRUE(transport);
    const TransportResult result = transport->send(batchRequest(samplePayload(2)));
    ASSERT_TRUE(result.isResponse()) << result.error().toString();
    EXPECT_EQ(result.response().status, 200);
  }
  {
    // SSL_CERT_FILE still names a bundle the system trusts, as with OpenSSL's defaults.
    fakes::ScopedEnv file("SSL_CERT_FILE", ca.c_str());
    fakes::ScopedEnv certs("SSL_CERT_DIR", (std::filesystem::path(dir.path()) / "none").c_str());
    auto transport = makeTransport(options);
    ASSERT_TRUE(transport);
    const TransportResult result = transport->send(batchRequest(samplePayload(2)));
    ASSERT_TRUE(result.isResponse()) << result.error().toString();
    EXPECT_EQ(result.response().status, 200);
  }
  EXPECT_EQ(records(*server).size(), 2u);
}

// A CA bundle is the whole trust: a server the system store trusts, but whose CA is not in the
// bundle, is refused (a public CA cannot stand in for the collector's private one).
TEST(ShipperTransportTest, ACaBundleReplacesTheSystemStore) {
  TempDir dir;
  TempDir other_dir;
  auto server = startCollector(dir, {});
  ASSERT_TRUE(server);
  // A CA that did not sign the server's certificate, under another name (OpenSSL looks a trusted
  // CA up by subject: one of the same name would hide the system store's).
  auto other = fakes::writeTestPki(other_dir.path(), {"IP:127.0.0.1"}, "Tier0Watch other CA");
  ASSERT_TRUE(other) << other.error().toString();
  BeastTransportOptions options = optionsFor(*server);
  const std::string ca = options.ca_bundle_file;
  const std::filesystem::path store = std::filesystem::path(dir.path()) / "certs";
  std::filesystem::create_directories(store);
  std::filesystem::copy_file(ca, store / fakes::hashedCaFileName(ca));
  fakes::ScopedEnv file("SSL_CERT_FILE", nullptr);
  fakes::ScopedEnv certs("SSL_CERT_DIR", store.c_str());  // the system store trusts server's CA
  {
    BeastTransportOptions system_only = options;
    system_only.ca_bundle_file.clear();
    auto transport = makeTransport(system_only);
    ASSERT_TRUE(transport);
    const TransportResult result = transport->send(batchRequest(samplePayload(1)));
    ASSERT_TRUE(result.isResponse()) << result.error().toString();
    EXPECT_EQ(result.response().status, 200);
  }
  {
    BeastTransportOptions pinned = options;
    pinned.ca_bundle_file = other->ca_cert;
    auto transport = makeTransport(pinned);
    ASSERT_TRUE(transport);
    const TransportResult result = transport->send(batchRequest(samplePayload(3)));
    ASSERT_FALSE(result.isResponse());
    EXPECT_EQ(result.error().kind, TransportErrorKind::kTlsVerification)
        << result.error().toString();
  }
  EXPECT_EQ(records(*server).size(), 1u);
}

TEST(ShipperTransportTest, PlainHttpNeedsAllowInsecure) {
  TempDir dir;
  auto server = startCollector(dir, {"--plain"});
  ASSERT_TRUE(server);
  BeastTransportOptions options = optionsFor(*server);
  ASSERT_EQ(options.url.rfind("http://", 0), 0u);
  auto refused = BeastTransport::create(options);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(records(*server).empty());

  options.allow_insecure = true;
  auto transport = makeTransport(options);
  ASSERT_TRUE(transport);
  const std::string payload = samplePayload(20);
  const TransportResult result = transport->send(batchRequest(payload));
  ASSERT_TRUE(result.isResponse()) << result.error().toString();
  EXPECT_EQ(result.response().status, 200);
  const auto lines = records(*server);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(readFile(lines[0]["body_file"].get<std::string>()), payload);
}

TEST(ShipperTransportTest, BearerTokenIsSentAndCheckedByServer) {
  TempDir dir;
  auto server = startCollector(dir, {"--require-token", kToken});
  ASSERT_TRUE(server);
  auto transport = makeTransport(optionsFor(*server));
  ASSERT_TRUE(transport);
  const TransportResult good = transport->send(batchRequest("a"));
  ASSERT_TRUE(good.isResponse()) << good.error().toString();
  EXPECT_EQ(good.response().status, 200);

  HttpRequest wrong = batchRequest("b");
  wrong.bearer_token = "not-the-token";
  const TransportResult denied = transport->send(wrong);
  ASSERT_TRUE(denied.isResponse()) << denied.error().toString();
  EXPECT_EQ(denied.response().status, 401);
  EXPECT_EQ(classifyOutcome(denied, std::chrono::system_clock::now()).kind,
            OutcomeKind::kPauseAuth);
  const auto lines = records(*server);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["authorization"], "match");
  EXPECT_EQ(lines[1]["authorization"], "mismatch");
}

TEST(ShipperTransportTest, MutualTlsClientCertificate) {
  TempDir dir;
  auto server = startCollector(dir, {"--require-client-cert"});
  ASSERT_TRUE(server);
  auto anonymous = makeTransport(optionsFor(*server));
  ASSERT_TRUE(anonymous);
  const TransportResult refused = anonymous->send(batchRequest("a"));
  ASSERT_FALSE(refused.isResponse());
  // TLS 1.3 reports the missing certificate after the client's handshake finished, so the
  // failure shows on the first read or write rather than in the handshake.
  EXPECT_TRUE(refused.error().kind == TransportErrorKind::kTls ||
              refused.error().kind == TransportErrorKind::kReset)
      << refused.error().toString();

  BeastTransportOptions options = optionsFor(*server);
  options.client_cert_file = server->ready().at("client_cert").get<std::string>();
  options.client_key_file = server->ready().at("client_key").get<std::string>();
  auto transport = makeTransport(options);
  ASSERT_TRUE(transport);
  const TransportResult result = transport->send(batchRequest("b"));
  ASSERT_TRUE(result.isResponse()) << result.error().toString();
  EXPECT_EQ(result.response().status, 200);
  EXPECT_EQ(records(*server).size(), 1u);
}

TEST(ShipperTransportTest, ThroughConnectProxy) {
  TempDir collector_dir;
  TempDir proxy_dir;
  auto server = startCollector(collector_dir, {});
  auto proxy = startProxy(proxy_dir);
  ASSERT_TRUE(server && proxy);
  BeastTransportOptions options = optionsFor(*server);
  options.proxy_url = "http://127.0.0.1:" + std::to_string(proxy->port());
  auto transport = makeTransport(options);
  ASSERT_TRUE(transport);
  const std::string payload = samplePayload(100);
  for (int i = 0; i < 2; ++i) {
    const TransportResult result = transport->send(batchRequest(payload));
    ASSERT_TRUE(result.isResponse()) << result.error().toString();
    EXPECT_EQ(result.response().status, 200);
  }
  const auto connects = readJsonLines(proxy->ready().at("record").get<std::string>());
  ASSERT_EQ(connects.size(), 1u);  // the tunnel is kept alive for the second request
  EXPECT_EQ(connects[0]["method"], "CONNECT");
  EXPECT_EQ(connects[0]["target"], "127.0.0.1:" + std::to_string(server->port()));
  const auto lines = records(*server);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(readFile(lines[1]["body_file"].get<std::string>()), payload);
}

TEST(ShipperTransportTest, ProxyBasicAuthentication) {
  TempDir collector_dir;
  TempDir proxy_dir;
  auto server = startCollector(collector_dir, {});
  auto proxy = startProxy(proxy_dir, {"--user", "svc-agent", "--password", "pr0xy-pass"});
  ASSERT_TRUE(server && proxy);
  const std::string proxy_port = std::to_string(proxy->port());

  BeastTransportOptions wrong = optionsFor(*server);
  wrong.proxy_url = "http://svc-agent:bad-pass@127.0.0.1:" + proxy_port;
  auto refused_transport = makeTransport(wrong);
  ASSERT_TRUE(refused_transport);
  const TransportResult refused = refused_transport->send(batchRequest("a"));
  ASSERT_FALSE(refused.isResponse());
  EXPECT_EQ(refused.error().kind, TransportErrorKind::kProxy) << refused.error().toString();
  EXPECT_NE(refused.error().message.find("407"), std::string::npos);
  EXPECT_EQ(refused.error().message.find("bad-pass"), std::string::npos);
  EXPECT_TRUE(records(*server).empty());

  BeastTransportOptions right = optionsFor(*server);
  right.proxy_url = "http://svc-agent:pr0xy-pass@127.0.0.1:" + proxy_port;
  auto transport = makeTransport(right);
  ASSERT_TRUE(transport);
  const TransportResult result = transport->send(batchRequest("b"));
  ASSERT_TRUE(result.isResponse()) << result.error().toString();
  EXPECT_EQ(result.response().status, 200);
  const auto connects = readJsonLines(proxy->ready().at("record").get<std::string>());
  ASSERT_EQ(connects.size(), 2u);
  EXPECT_EQ(connects[0]["proxy_authorization"], "mismatch");
  EXPECT_EQ(connects[1]["proxy_authorization"], "match");
}

TEST(ShipperTransportTest, ResponseAboveLimitIsAProtocolError) {
  TempDir dir;
  auto server = startCollector(dir, {});
  ASSERT_TRUE(server);
  BeastTransportOptions options = optionsFor(*server);
  options.max_response_bytes = 4;  // the fake answers {"status":200}
  auto transport = makeTransport(options);
  ASSERT_TRUE(transport);
  const TransportResult result = transport->send(batchRequest("a"));
  ASSERT_FALSE(result.isResponse()) << result.response().status << " " << result.response().body;
  EXPECT_EQ(result.error().kind, TransportErrorKind::kProtocol) << result.error().toString();
}

TEST(ShipperTransportTest, ClosedPortIsConnectRefused) {
  // Bind port 0 to learn a free port, then close it so that nothing listens there.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(
      ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const int port = acceptor.local_endpoint().port();
  acceptor.close();
  BeastTransportOptions options;
  options.url = "https://127.0.0.1:" + std::to_string(port);
  auto transport = makeTransport(options);
  ASSERT_TRUE(transport);
  const TransportResult result = transport->send(batchRequest("a"));
  ASSERT_FALSE(result.isResponse());
  EXPECT_EQ(result.error().kind, TransportErrorKind::kConnectRefused) << result.error().toString();
}

TEST(ShipperTransportTest, UnresolvableHostIsADnsError) {
  BeastTransportOptions options;
  options.url = "https://collector.invalid";  // RFC 6761: .invalid never resolves
  auto transport = makeTransport(options);
  ASSERT_TRUE(transport);
  HttpRequest request = batchRequest("a");
  request.timeout = std::chrono::seconds(30);
  const TransportResult result = transport->send(request);
  ASSERT_FALSE(result.isResponse());
  EXPECT_EQ(result.error().kind, TransportErrorKind::kDns) << result.error().toString();
  EXPECT_NE(result.error().message.find("collector.invalid"), std::string::npos);
}

TEST(ShipperTransportTest, BadConfigurationFailsAtCreate) {
  BeastTransportOptions options;
  options.url = "https://127.0.0.1:1";
  options.ca_bundle_file = "/nonexistent/ca.pem";
  auto missing_ca = BeastTransport::create(options);
  ASSERT_FALSE(missing_ca);
  EXPECT_EQ(missing_ca.error().code, Errc::kIo);

  options.ca_bundle_file.clear();
  options.client_cert_file = "/nonexistent/client.pem";
  auto half_mtls = BeastTransport::create(options);
  ASSERT_FALSE(half_mtls);
  EXPECT_EQ(half_mtls.error().code, Errc::kInvalidArgument);

  options.client_cert_file.clear();
  options.proxy_url = "https://user:s3cr3t@proxy:1";
  auto bad_proxy = BeastTransport::create(options);
  ASSERT_FALSE(bad_proxy);
  EXPECT_EQ(bad_proxy.error().message.find("s3cr3t"), std::string::npos);
}

}  // namespace
}  // namespace t0w
