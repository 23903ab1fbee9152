// SIEM outputs end to end: batches posted to the collector reach a Splunk HEC endpoint (an
// HTTPS server that fails its first request, like a SIEM outage) and an RFC 5425 syslog-over-TLS
// listener, each through its durable forward queue.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/http/beast_transport.h"
#include "common/wire/batch_encoder.h"
#include "tests/fakes/scoped_env.h"
#include "tests/fakes/test_pki.h"
#include "tools/collector/security.h"
#include "tools/collector/service.h"

namespace t0w::collector {
namespace {

using Json = nlohmann::json;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

// Waits for a condition signalled by another thread; the deadline only bounds a failing test.
class Signal {
 public:
  template <typename F>
  void update(F f) {
    {
      std::lock_guard lock(m_);
      f();
    }
    cv_.notify_all();
  }
  template <typename P>
  bool waitFor(P pred) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, std::chrono::seconds(60), pred);
  }
  std::mutex m_;

 private:
  std::condition_variable cv_;
};

// RFC 5425 receiver: "<length> <message>" frames over TLS.
class SyslogReceiver {
 public:
  SyslogReceiver(const fakes::TestPkiFiles& pki, Signal& signal)
      : tls_(ssl::context::tls_server), acceptor_(ioc_), signal_(signal) {
    tls_.use_certificate_chain_file(pki.server_cert);
    tls_.use_private_key_file(pki.server_key, ssl::context::pem);
    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      stream_ = std::make_unique<ssl::stream<tcp::socket>>(std::move(s), tls_);
      stream_->async_handshake(ssl::stream_base::server, [this](boost::system::error_code ec) {
        if (!ec) read();
      });
    });
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~SyslogReceiver() {
    ioc_.stop();
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> messages;  // guarded by signal_.m_
  int health_messages = 0;            // guarded by signal_.m_

 private:
  void read() {
    stream_->async_read_some(net::buffer(buf_), [this](boost::system::error_code ec, size_t n) {
      if (ec) return;
      pending_.append(buf_.data(), n);
      for (;;) {
        const size_t sp = pending_.find(' ');
        if (sp == std::string::npos) break;
        const size_t len = std::stoul(pending_.substr(0, sp));
        if (pending_.size() < sp + 1 + len) break;
        std::string msg = pending_.substr(sp + 1, len);
        pending_.erase(0, sp + 1 + len);
        signal_.update([&] {
          // Health notifications (an enrolled agent without heartbeats may be reported by the
          // health loop at any moment) are counted apart from the batch's records.
          if (msg.find(" tier0watch - health - ") != std::string::npos) {
            ++health_messages;
          } else {
            messages.push_back(std::move(msg));
          }
        });
      }
      read();
    });
  }
  net::io_context ioc_;
  ssl::context tls_;
  tcp::acceptor acceptor_;
  Signal& signal_;
  std::unique_ptr<ssl::stream<tcp::socket>> stream_;
  std::array<char, 4096> buf_{};
  std::string pending_;
  uint16_t port_ = 0;
  std::thread thread_;
};

QueueRecord record(RecordKind kind, const std::string& key, int64_t record_id, const char* level) {
  Json event{{"System",
              {{"EventID", 4624},
               {"Channel", "Security"},
               {"Computer", "DC01.corp.example"},
               {"EventRecordID", record_id}}}};
  QueueRecord r;
  r.kind = kind;
  r.key = key;
  r.body =
      kind == RecordKind::kEvent
          ? event.dump()
          : Json{{"rule_id", "r1"}, {"rule_title", "T"}, {"level", level}, {"event", event}}.dump();
  return r;
}

// An output's ca_file is its whole trust, as the agent's ca_bundle is: a receiver the system
// store trusts but whose CA is not in ca_file is refused, and nothing reaches it.
TEST(CollectorForwardTest, SyslogCaFileReplacesTheSystemStore) {
  char tmpl[] = "/tmp/t0w-collector-fwd-ca-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  auto pki = fakes::writeTestPki(dir, {"DNS:localhost", "IP:127.0.0.1"});
  ASSERT_TRUE(pki) << pki.error().toString();
  std::filesystem::create_directories(dir + "/other");
  auto other = fakes::writeTestPki(dir + "/other", {"DNS:localhost"}, "Tier0Watch other CA");
  ASSERT_TRUE(other) << other.error().toString();
  const std::string store = dir + "/certs";  // the system store: it trusts the receiver's CA
  std::filesystem::create_directories(store);
  std::filesystem::copy_file(pki->ca_cert, store + "/" + fakes::hashedCaFileName(pki->ca_cert));
  fakes::ScopedEnv file("SSL_CERT_FILE", nullptr);
  fakes::ScopedEnv certs("SSL_CERT_DIR", store.c_str());

  // One receiver per attempt: a receiver takes one connection.
  Signal signal;
  SyslogReceiver refused(*pki, signal);
  SyslogReceiver accepted(*pki, signal);
  SyslogOutputConfig config;
  config.enabled = true;
  config.host = "localhost";
  const std::vector<ForwardItem> items{{1, R"({"kind":"event","host":"srv9"})", 0}};

  config.port = refused.port();
  config.ca_file = other->ca_cert;
  auto pinned = makeSyslogOutput(config);
  ASSERT_TRUE(pinned) << pinned.error().toString();
  EXPECT_FALSE((*pinned)->deliver(items).ok());

  config.port = accepted.port();
  config.ca_file.clear();  // the system store alone
  auto system = makeSyslogOutput(config);
  ASSERT_TRUE(system) << system.error().toString();
  const Status delivered = (*system)->deliver(items);
  ASSERT_TRUE(delivered.ok()) << delivered.error().toString();
  ASSERT_TRUE(signal.waitFor([&] { return !accepted.messages.empty(); }));
  std::lock_guard lock(signal.m_);
  EXPECT_TRUE(refused.messages.empty());
  EXPECT_EQ(accepted.messages.size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(CollectorForwardTest, SplunkAndSyslogReceiveEveryRecordDespiteAnOutage) {
  char tmpl[] = "/tmp/t0w-collector-fwd-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  auto pki = fakes::writeTestPki(dir, {"DNS:localhost", "IP:127.0.0.1"});
  ASSERT_TRUE(pki) << pki.error().toString();

  // Splunk HEC stand-in: the collector's own HTTPS server class with a recording handler.
  Signal signal;
  int hec_requests = 0;
  std::vector<Json> hec_events;
  int hec_health = 0;  // health notifications, counted apart from the batch
  std::vector<std::string> hec_auth;
  Metrics hec_metrics;
  net::io_context hec_ioc;
  ssl::context hec_tls(ssl::context::tls_server);
  hec_tls.use_certificate_chain_file(pki->server_cert);
  hec_tls.use_private_key_file(pki->server_key, ssl::context::pem);
  HttpsServer hec(
      hec_ioc, hec_tls, ServerLimits{},
      [&](const Request& req, const RequestContext&) {
        Response res{http::status::ok, req.version()};
        signal.update([&] {
          ++hec_requests;
          hec_auth.push_back(std::string(req[http::field::authorization]));
          if (hec_requests == 1) {
            res.result(http::status::service_unavailable);  // the outage
            return;
          }
          EXPECT_EQ(req.target(), "/services/collector/event");
          std::istringstream lines(req.body());
          std::string line;
          while (std::getline(lines, line)) {
            Json e = Json::parse(line);
            if (e.value("sourcetype", "") == "tier0watch:health") {
              ++hec_health;  // see SyslogReceiver: not part of the batch
            } else {
              hec_events.push_back(std::move(e));
            }
          }
        });
        res.body() = R"({"text":"Success","code":0})";
        res.prepare_payload();
        return res;
      },
      hec_metrics);
  auto hec_port = hec.listen("127.0.0.1", 0);
  ASSERT_TRUE(hec_port);
  std::thread hec_thread([&] { hec_ioc.run(); });
  SyslogReceiver syslog(*pki, signal);

  auto config = parseConfig(
      "listen: {port: 0}\nstate_dir: " + dir + "/state\n" +
          "forward:\n  splunk:\n    enabled: true\n    url: https://localhost:" +
          std::to_string(*hec_port) + "\n    token: hec-secret\n    ca_file: " + pki->ca_cert +
          "\n  syslog:\n    enabled: true\n    host: localhost\n"
          "    port: " +
          std::to_string(syslog.port()) + "\n    ca_file: " + pki->ca_cert + "\n",
      "test");
  ASSERT_TRUE(config) << config.error().toString();
  auto service = CollectorService::create(*config);
  ASSERT_TRUE(service) << service.error().toString();
  auto port = (*service)->start();
  ASSERT_TRUE(port);
  auto token = newToken();
  // A low-tier server whose events claim to come from DC01 (issue 10): the SIEM gets the host
  // the credential belongs to.
  ASSERT_TRUE((*service)->storage().enrollAgent("srv9", sha256Hex(*token), 1));

  BeastTransportOptions o;
  o.url = "https://127.0.0.1:" + std::to_string(*port);
  o.ca_bundle_file = dir + "/state/tls/collector.pem";
  auto client = BeastTransport::create(o);
  ASSERT_TRUE(client);
  BatchEncoder encoder({"agent-1", "DC01", "0.1.0"});
  std::vector<QueueRecord> records = {record(RecordKind::kAlert, "alert|1", 2, "critical"),
                                      record(RecordKind::kEvent, "Security|1", 1, ""),
                                      record(RecordKind::kEvent, "Security|2", 2, ""),
                                      record(RecordKind::kEvent, "Security|3", 3, "")};
  for (int64_t seq : {1, 2}) {  // the second batch repeats the records: forwarded once
    HttpRequest req;
    req.path = "/api/v1/batches";
    req.bearer_token = *token;
    req.headers = {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}};
    req.body = encoder.encode(seq, records)->gzip;
    auto r = (*client)->send(req);
    ASSERT_TRUE(r.isResponse());
    ASSERT_EQ(r.response().status, 200) << r.response().body;
  }

  ASSERT_TRUE(signal.waitFor([&] { return hec_events.size() >= 4 && syslog.messages.size() >= 4; }))
      << "splunk got " << hec_events.size() << ", syslog got " << syslog.messages.size();
  {
    std::lock_guard lock(signal.m_);
    EXPECT_GE(hec_requests, 2);
    for (const auto& a : hec_auth) EXPECT_EQ(a, "Splunk hec-secret");
    ASSERT_EQ(hec_events.size(), 4u);
    EXPECT_EQ(hec_events[0]["host"], "srv9");
    EXPECT_EQ(hec_events[0]["event"]["body"]["event"]["System"]["Computer"], "DC01.corp.example")
        << "what the event says stays in its body";
    EXPECT_EQ(hec_events[0]["sourcetype"], "tier0watch:alert");
    EXPECT_EQ(hec_events[0]["event"]["key"], "agent-1|alert|1");
    EXPECT_EQ(hec_events[3]["event"]["body"]["System"]["EventRecordID"], 3);
    ASSERT_EQ(syslog.messages.size(), 4u);
    // critical alert: facility 13, severity 2 -> <106>; events severity 6 -> <110>.
    EXPECT_EQ(syslog.messages[0].rfind("<106>1 ", 0), 0u) << syslog.messages[0];
    EXPECT_NE(syslog.messages[0].find(" srv9 tier0watch - alert - {"), std::string::npos)
        << syslog.messages[0];
    EXPECT_EQ(syslog.messages[1].rfind("<110>1 ", 0), 0u) << syslog.messages[1];
  }
  // Delivered rows leave the durable queues.
  for (const char* output : {"splunk", "syslog"}) {
    for (int i = 0; i < 600 && *(*service)->storage().forwardDepth(output) > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // bounded poll, not timing
    }
    EXPECT_EQ(*(*service)->storage().forwardDepth(output), 0) << output;
  }
  const std::string metrics = (*service)->metrics().render();
  // 8 rows of the batch (4 per output), each once; health notifications come on top.
  const std::string forwarded = "\nt0w_collector_forwarded_total ";  // the sample, not HELP
  const size_t at = metrics.find(forwarded);
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_GE(std::stoll(metrics.substr(at + forwarded.size())), 8) << metrics;
  EXPECT_NE(metrics.find("t0w_collector_forward_errors_total 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("t0w_collector_forward_queue_depth{output=\"splunk\"} 0"),
            std::string::npos);

  service->reset();
  hec.stopAccepting();
  hec_ioc.stop();
  hec_thread.join();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace t0w::collector
