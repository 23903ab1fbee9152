// A collector that degrades, never dies (issue 10): hostile bodies and clients against the real
// CollectorService over HTTPS on 127.0.0.1 (port 0). Each test ends with an honest agent's batch
// being stored, which is the point: one client must not cost the others the collector.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/http/beast_transport.h"
#include "common/wire/batch_encoder.h"
#include "common/zlib/zlib_codec.h"
#include "tools/collector/security.h"
#include "tools/collector/service.h"

namespace t0w::collector {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

QueueRecord event(int64_t record_id) {
  QueueRecord r;
  r.kind = RecordKind::kEvent;
  r.key = "Security|" + std::to_string(record_id);
  r.body = Json{{"System",
                 {{"EventID", 4624},
                  {"Channel", "Security"},
                  {"Computer", "DC01"},
                  {"EventRecordID", record_id}}}}
               .dump();
  return r;
}

// A record whose body nests objects `depth` deep: {"a":{"a":{...}}}.
QueueRecord deepRecord(size_t depth) {
  std::string body;
  body.reserve(depth * 6 + 2);
  for (size_t i = 0; i < depth; ++i) body += "{\"a\":";
  body += "1";
  body.append(depth, '}');
  QueueRecord r;
  r.kind = RecordKind::kEvent;
  r.key = "Security|deep";
  r.body = "{\"x\":" + body + "}";
  return r;
}

class CollectorHardeningTest : public ::testing::Test {
 protected:
  void start(const std::string& extra = "") {
    char tmpl[] = "/tmp/t0w-collector-hard-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto config = parseConfig("listen: {port: 0}\nstate_dir: " + dir_ + "/state\n" + extra, "test");
    ASSERT_TRUE(config) << config.error().toString();
    auto service = CollectorService::create(*config);
    ASSERT_TRUE(service) << service.error().toString();
    service_ = std::move(*service);
    auto port = service_->start();
    ASSERT_TRUE(port) << port.error().toString();
    port_ = *port;
    auto token = newToken();
    ASSERT_TRUE(token);
    token_ = *token;
    ASSERT_TRUE(service_->storage().enrollAgent("dc01", sha256Hex(token_), systemNowMicros()));
  }
  void TearDown() override {
    service_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<BeastTransport> client() {
    BeastTransportOptions o;
    o.url = "https://127.0.0.1:" + std::to_string(port_);
    o.ca_bundle_file = dir_ + "/state/tls/collector.pem";
    auto t = BeastTransport::create(o);
    EXPECT_TRUE(t) << t.error().toString();
    return std::move(*t);
  }

  HttpResponse post(const std::string& gzip_body, const std::string& path = "/api/v1/batches") {
    HttpRequest req;
    req.path = path;
    req.bearer_token = token_;
    req.headers = {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}};
    req.body = gzip_body;
    auto r = client()->send(req);
    EXPECT_TRUE(r.isResponse()) << (r.isResponse() ? "" : r.error().toString());
    return r.isResponse() ? r.response() : HttpResponse{};
  }

  // The honest agent: a batch is stored.
  void expectHonestAgentServed(int64_t seq) {
    const BatchEncoder enc({"agent-1", "DC01", "0.1.0"}, "00000000000000aa");
    auto batch = enc.encode(seq, std::vector<QueueRecord>{event(seq)});
    ASSERT_TRUE(batch);
    HttpResponse r = post(batch->gzip);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Json::parse(r.body)["stored"], 1);
  }

  // A TLS connection that sends what the test says, byte by byte if it likes.
  struct RawClient {
    net::io_context ioc;
    ssl::context tls{ssl::context::tls_client};
    std::unique_ptr<ssl::stream<tcp::socket>> stream;
    boost::system::error_code connect(uint16_t port) {
      tls.set_verify_mode(ssl::verify_none);
      stream = std::make_unique<ssl::stream<tcp::socket>>(ioc, tls);
      boost::system::error_code ec;
      stream->lowest_layer().connect({net::ip::make_address("127.0.0.1"), port}, ec);
      if (!ec) stream->handshake(ssl::stream_base::client, ec);
      return ec;
    }
    boost::system::error_code send(std::string_view data) {
      boost::system::error_code ec;
      net::write(*stream, net::buffer(data.data(), data.size()), ec);
      return ec;
    }
    // The answer's status line and headers, as far as they come within `timeout`.
    std::string receive(std::chrono::milliseconds timeout) {
      std::string out;
      std::array<char, 4096> buf{};
      std::function<void(boost::system::error_code, size_t)> on_read;
      on_read = [&](boost::system::error_code ec, size_t n) {
        out.append(buf.data(), n);
        if (out.find("\r\n\r\n") != std::string::npos) return ioc.stop();
        if (!ec) stream->async_read_some(net::buffer(buf), on_read);
      };
      stream->async_read_some(net::buffer(buf), on_read);
      ioc.restart();
      ioc.run_for(timeout);
      return out;
    }
  };

  std::string dir_;
  std::unique_ptr<CollectorService> service_;
  uint16_t port_ = 0;
  std::string token_;
};

// Issue 10, failure 2: a record body nested 100,000 deep (about 1 KB gzip-compressed) killed
// `serve` (stack overflow in the recursive copy and dump of nlohmann). Now the depth is checked
// while parsing: refused with 413 (the agent splits and dead-letters that one record), and the
// collector keeps serving.
TEST_F(CollectorHardeningTest, DeepBodyIsRefusedAndTheCollectorKeepsServing) {
  start();
  const BatchEncoder enc({"agent-1", "DC01", "0.1.0"}, "00000000000000aa");
  auto deep = enc.encode(1, std::vector<QueueRecord>{deepRecord(100'000)});
  ASSERT_TRUE(deep);
  EXPECT_LT(deep->gzip.size(), 4096u) << "a small upload";
  HttpResponse r = post(deep->gzip);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(Json::parse(r.body)["error"], "json_too_complex") << r.body;
  EXPECT_NE(Json::parse(r.body)["detail"].get<std::string>().find("deeper than 64"),
            std::string::npos);
  // A wide document: more values than allowed (here a low limit), also before any copy.
  expectHonestAgentServed(2);
}

TEST_F(CollectorHardeningTest, TooManyJsonValuesAreRefusedBeforeTheyCostMemory) {
  start("limits: {max_json_values: 1000}\n");
  std::vector<QueueRecord> records;
  for (int64_t i = 1; i <= 200; ++i) records.push_back(event(i));
  const BatchEncoder enc({"agent-1", "DC01", "0.1.0"}, "00000000000000aa");
  HttpResponse r = post(enc.encode(1, records)->gzip);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("more than 1000 JSON values"), std::string::npos) << r.body;
  expectHonestAgentServed(2);
}

// Only the batch route takes large bodies; a login body is small, and a larger one is refused
// from its Content-Length, before it is read.
TEST_F(CollectorHardeningTest, NonBatchRoutesTakeSmallBodiesOnly) {
  start("limits: {max_api_body_bytes: 4096}\n");
  HttpRequest req;
  req.path = "/api/v1/login";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = std::string(100 * 1024, ' ') + "{}";
  auto r = client()->send(req);
  ASSERT_TRUE(r.isResponse()) << r.error().toString();
  EXPECT_EQ(r.response().status, 413);
  req.body = std::string(2000, '[');  // deep but small: refused as malformed, no recursion
  r = client()->send(req);
  ASSERT_TRUE(r.isResponse()) << r.error().toString();
  EXPECT_EQ(r.response().status, 400);
  expectHonestAgentServed(1);
}

// A client that sends its body a byte at a time cannot keep a connection (and the memory of
// its request) beyond request_timeout: the deadline is set once for the body, not per read.
TEST_F(CollectorHardeningTest, SlowBodyCannotExtendTheRequestDeadline) {
  start("limits: {request_timeout_seconds: 2, idle_timeout_seconds: 5}\n");
  RawClient slow;
  ASSERT_FALSE(slow.connect(port_));
  ASSERT_FALSE(
      slow.send("POST /api/v1/batches HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                "Content-Type: application/json\r\n\r\n"));
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  // One byte every 200 ms would take 5.5 hours; the collector must end it after about 2 s.
  while (std::chrono::steady_clock::now() - start < 20s) {
    if (slow.send("x")) {
      closed = true;
      break;
    }
    std::this_thread::sleep_for(200ms);  // the trickle itself, not a wait for a result
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed) << "the slow client was still connected after 20 s";
  EXPECT_LT(took, 10s);
  expectHonestAgentServed(1);
}

// After refusing an oversized body the collector reads what the client still sends, so that
// the client sees the 413; that drain has one deadline too (before: re-armed at every read, so
// a byte every few seconds kept the connection for up to 64 MiB).
TEST_F(CollectorHardeningTest, SlowClientCannotExtendTheDrainAfterARefusal) {
  start("limits: {request_timeout_seconds: 2, idle_timeout_seconds: 5, max_body_bytes: 4096}\n");
  RawClient slow;
  ASSERT_FALSE(slow.connect(port_));
  ASSERT_FALSE(
      slow.send("POST /api/v1/batches HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
                "Content-Type: application/json\r\n\r\n"));
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  while (std::chrono::steady_clock::now() - start < 20s) {
    if (slow.send("x")) {
      closed = true;
      break;
    }
    std::this_thread::sleep_for(200ms);  // the trickle itself, not a wait for a result
  }
  EXPECT_TRUE(closed) << "the slow client was still connected after 20 s";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  expectHonestAgentServed(1);
}

// Issue 10: an unauthenticated client could make the collector read (and hold) a whole
// batch-sized body before the token was checked. Now the credential is checked on the headers:
// the refusal comes at once, with the body unsent, and nothing of it is kept.
TEST_F(CollectorHardeningTest, UploadsAreRefusedByTheirHeadersBeforeTheBodyIsRead) {
  start("limits: {request_timeout_seconds: 30, idle_timeout_seconds: 30}\n");
  for (const std::string auth : {"", "Authorization: Bearer not-an-enrolled-token\r\n"}) {
    RawClient c;
    ASSERT_FALSE(c.connect(port_));
    ASSERT_FALSE(
        c.send("POST /api/v1/batches HTTP/1.1\r\nHost: x\r\nContent-Length: 16000000\r\n"
               "Content-Type: application/json\r\nContent-Encoding: gzip\r\n" +
               auth + "\r\n"));
    // Waiting for the body, the collector would say nothing for 30 s.
    const std::string answer = c.receive(10s);
    EXPECT_EQ(answer.rfind("HTTP/1.1 401", 0), 0u) << auth << ": " << answer.substr(0, 200);
    EXPECT_NE(answer.find("Tier0Watch-Collector: 3"), std::string::npos) << answer;
  }
  EXPECT_EQ(service_->metrics().refused_before_body.load(), 2u);
  // The method is checked before the body too.
  RawClient get;
  ASSERT_FALSE(get.connect(port_));
  ASSERT_FALSE(
      get.send("GET /api/v1/batches HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
               "Authorization: Bearer " +
               token_ + "\r\n\r\n"));
  EXPECT_EQ(get.receive(10s).rfind("HTTP/1.1 405", 0), 0u);
  expectHonestAgentServed(1);
}

// One address cannot take every connection: beyond max_connections_per_ip it is closed at
// accept, and connections from elsewhere (here: after the hog is gone) are served.
TEST_F(CollectorHardeningTest, ConnectionsPerAddressAreCapped) {
  start("limits: {max_connections_per_ip: 3}\n");
  std::vector<std::unique_ptr<RawClient>> hogs;
  for (int i = 0; i < 3; ++i) {
    hogs.push_back(std::make_unique<RawClient>());
    ASSERT_FALSE(hogs.back()->connect(port_)) << i;
  }
  RawClient fourth;
  EXPECT_TRUE(fourth.connect(port_)) << "the fourth connection from 127.0.0.1 was accepted";
  EXPECT_GE(service_->metrics().rejected_connections.load(), 1u);
  hogs.clear();
  // The sessions of the closed connections end asynchronously; the agent's transport retries
  // its connect once, and a bounded poll covers the rest.
  for (int i = 0; i < 100 && service_->metrics().open_connections.load() > 0; ++i) {
    std::this_thread::sleep_for(50ms);  // poll interval
  }
  expectHonestAgentServed(1);
}

// Request handlers run on the worker pool: a login (PBKDF2, 600,000 iterations) in progress does
// not hold the only network thread, so a health check is answered meanwhile.
TEST_F(CollectorHardeningTest, SlowHandlersDoNotBlockTheNetworkThread) {
  start("threads: 1\nworker_threads: 2\n");
  auto user = hashPassword("admin", "a long password", kPbkdf2Iterations, systemNowMicros());
  ASSERT_TRUE(user);
  ASSERT_TRUE(service_->storage().addUser(*user));
  auto login = std::async(std::launch::async, [&] {
    HttpRequest req;
    req.path = "/api/v1/login";
    req.headers = {{"Content-Type", "application/json"}};
    req.body = R"({"user":"admin","password":"a long password"})";
    auto r = client()->send(req);
    return std::make_pair(r.isResponse() ? r.response().status : 0,
                          std::chrono::steady_clock::now());
  });
  // Health checks until the login is answered: at least one must come back before it.
  std::optional<std::chrono::steady_clock::time_point> health_done;
  auto transport = client();
  while (login.wait_for(0ms) != std::future_status::ready) {
    HttpRequest req;
    req.method = "GET";
    req.path = "/healthz";
    auto r = transport->send(req);
    ASSERT_TRUE(r.isResponse());
    if (login.wait_for(0ms) != std::future_status::ready)
      health_done = std::chrono::steady_clock::now();
  }
  auto [status, login_done] = login.get();
  EXPECT_EQ(status, 200);
  ASSERT_TRUE(health_done.has_value()) << "no health check was answered during the login";
  EXPECT_LT(*health_done, login_done);
}

// The database and the TLS key are readable by the service account only.
TEST_F(CollectorHardeningTest, StateIsReadableByItsOwnerOnly) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir_ + "/state/collector.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

}  // namespace
}  // namespace t0w::collector
