// WinHttpTransport under Wine against the real Linux t0w-fake-collector on 127.0.0.1: the test
// (a Windows process) starts the Linux fake through /bin/sh (Wine runs Unix programs from
// CreateProcess), trusts its CA in the Wine prefix's LocalMachine\Root with t0w-trust-ca.exe,
// and posts gzip batches over WinHTTP + TLS. Env T0W_WINE_FAKE_COLLECTOR names the fake; without
// it the tests skip, or fail when T0W_REQUIRE_WINE_INTEGRATION=1 (CI).
#include "agent/shipper/winhttp_transport.h"

#include <gtest/gtest.h>
#include <windows.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/under_wine.h"

namespace t0w {
namespace {

constexpr const char* kToken = "tok-77c1e0aa-winhttp-secret";

bool runningUnderWine() { return test::underWine(); }

std::string envOr(const char* name, const std::string& fallback = "") {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : fallback;
}

// Unix paths are reached through Wine's Z: drive (the root file system).
std::string dosPath(const std::string& unix_path) { return "Z:" + unix_path; }

std::string readFile(const std::string& unix_path) {
  std::ifstream in(dosPath(unix_path), std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs a command line and waits for it; the exit code, or -1 when it could not start.
int run(std::string command_line) {
  STARTUPINFOA si{};
  si.cb = sizeof(si);
  PROCESS_INFORMATION pi{};
  if (!CreateProcessA(nullptr, command_line.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr,
                      &si, &pi)) {
    return -1;
  }
  WaitForSingleObject(pi.hProcess, INFINITE);
  DWORD code = 0;
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  return static_cast<int>(code);
}

class FakeCollector {
 public:
  // Starts the Linux fake with `args`; ready() is empty when it did not come up.
  FakeCollector(const std::string& executable, const std::string& args) {
    static int counter = 0;
    dir_ = "/tmp/t0w-winhttp-" + std::to_string(GetCurrentProcessId()) + "-" +
           std::to_string(++counter);
    CreateDirectoryA(dosPath(dir_).c_str(), nullptr);
    // The shell records its pid (exec keeps it) so the fake can be stopped with kill(1).
    std::string command = "/bin/sh -c \"echo $$ >" + dir_ + "/pid; exec " + executable + " --dir " +
                          dir_ + " --time-limit 120 " + args + " >" + dir_ + "/ready.json 2>" +
                          dir_ + "/stderr.txt\"";
    STARTUPINFOA si{};
    si.cb = sizeof(si);
    PROCESS_INFORMATION pi{};
    if (!CreateProcessA(nullptr, command.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si,
                        &pi)) {
      error_ = "CreateProcess(/bin/sh) failed: " + std::to_string(GetLastError());
      return;
    }
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    // Wine gives no pipe to a Unix child here (its stdout does not reach a Windows pipe), so the
    // ready line is read from the file the shell redirected it to. Polls a condition, bounded.
    for (int i = 0; i < 1000; ++i) {
      const std::string line = readFile(dir_ + "/ready.json");
      if (line.find('\n') != std::string::npos) {
        ready_ = nlohmann::json::parse(line, nullptr, false);
        if (ready_.is_discarded()) error_ = "bad ready line: " + line;
        return;
      }
      Sleep(20);
    }
    error_ = "no ready line within 20 s; stderr: " + readFile(dir_ + "/stderr.txt");
  }

  ~FakeCollector() {
    const std::string pid = readFile(dir_ + "/pid");
    if (!pid.empty()) run("/bin/kill " + pid.substr(0, pid.find('\n')));
    run("/bin/rm -rf " + dir_);
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int port() const { return ready_.at("port").get<int>(); }
  std::string caCert() const { return ready_.at("ca_cert").get<std::string>(); }
  std::vector<nlohmann::json> records() const {
    std::vector<nlohmann::json> out;
    std::istringstream lines(readFile(ready_.at("record").get<std::string>()));
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line, nullptr, false));
    }
    return out;
  }
  std::string bodyOf(const nlohmann::json& record) const {
    return readFile(record.at("body_file").get<std::string>());
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string error_;
  nlohmann::json ready_;
};

// Trusts a CA certificate in LocalMachine\Root for the test's lifetime.
class TrustedCa {
 public:
  explicit TrustedCa(std::string ca_pem) : ca_(std::move(ca_pem)) {
    added_ = run(std::string(dosPath(T0W_TRUST_CA_EXE)) + " add " + dosPath(ca_)) == 0;
  }
  ~TrustedCa() {
    if (added_) run(std::string(dosPath(T0W_TRUST_CA_EXE)) + " remove " + dosPath(ca_));
  }
  bool ok() const { return added_; }

 private:
  std::string ca_;
  bool added_ = false;
};

// Wine's crypt32 reads the Root store once per process, at the first chain verification, so
// every CA the suite trusts is added before any TLS connection: all fakes start up front.
class WinHttpIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string fake = envOr("T0W_WINE_FAKE_COLLECTOR");
    if (fake.empty()) return;
    const std::vector<std::pair<std::string, std::string>> scenarios = {
        {"ok", std::string("--require-token ") + kToken},
        {"429", "--reply-429 17"},
        {"hang", "--hang"},
        {"limit", ""},
        {"untrusted", ""}};
    for (const auto& [name, args] : scenarios) {
      auto& started = fakes()[name];
      started = std::make_unique<FakeCollector>(fake, args);
      if (started->ok() && name != "untrusted") {
        trusted().push_back(std::make_unique<TrustedCa>(started->caCert()));
      }
    }
  }
  static void TearDownTestSuite() {
    trusted().clear();
    fakes().clear();
  }

  void SetUp() override {
    if (envOr("T0W_WINE_FAKE_COLLECTOR").empty()) {
      if (envOr("T0W_REQUIRE_WINE_INTEGRATION") == "1") {
        FAIL() << "T0W_WINE_FAKE_COLLECTOR is not set and T0W_REQUIRE_WINE_INTEGRATION=1";
      }
      GTEST_SKIP() << "T0W_WINE_FAKE_COLLECTOR is not set (scripts/windows/test.sh sets it)";
    }
    for (const auto& trust : trusted()) ASSERT_TRUE(trust->ok()) << "t0w-trust-ca add failed";
  }

  static std::map<std::string, std::unique_ptr<FakeCollector>>& fakes() {
    static std::map<std::string, std::unique_ptr<FakeCollector>> map;
    return map;
  }
  static std::vector<std::unique_ptr<TrustedCa>>& trusted() {
    static std::vector<std::unique_ptr<TrustedCa>> list;
    return list;
  }
  static const FakeCollector& fake(const std::string& name) { return *fakes().at(name); }

  std::unique_ptr<WinHttpTransport> transportFor(const FakeCollector& fake,
                                                 size_t max_response = 1 << 20) {
    WinHttpTransportOptions options;
    // "localhost", not 127.0.0.1: Wine's certificate name check ignores IP subjectAltNames
    // (docs/windows-verification.md); the fake's certificate has both.
    options.url = "https://localhost:" + std::to_string(fake.port()) + "/ingest";
    options.max_response_bytes = max_response;
    auto transport = WinHttpTransport::create(std::move(options));
    EXPECT_TRUE(transport) << transport.error().toString();
    return transport ? std::move(*transport) : nullptr;
  }
};

// A small gzip member (RFC 1952) with a stored deflate block: the fake decodes it with zlib, so
// the recorded body proves the bytes went through unchanged.
std::string gzipStored(const std::string& payload) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : payload) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xffffffffu;
  std::string out = {'\x1f', '\x8b', '\x08', '\0', '\0', '\0', '\0', '\0', '\0', '\xff'};
  const auto len = static_cast<uint16_t>(payload.size());
  out += '\x01';  // final stored block
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  out += static_cast<char>(~len & 0xff);
  out += static_cast<char>((~len >> 8) & 0xff);
  out += payload;
  for (int i = 0; i < 4; ++i) out += static_cast<char>((crc >> (8 * i)) & 0xff);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((payload.size() >> (8 * i)) & 0xff);
  return out;
}

HttpRequest batch(const std::string& payload) {
  HttpRequest request;
  request.path = "/v1/batches";
  request.bearer_token = kToken;
  request.headers = {{"Content-Type", "application/x-ndjson"}, {"Content-Encoding", "gzip"}};
  request.body = gzipStored(payload);
  request.timeout = std::chrono::seconds(20);
  return request;
}

std::string payload(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += R"({"channel":"Security","event_id":4624,"record_id":)" + std::to_string(i) +
           R"(,"computer":"dc01.corp.example"})" + "\n";
  }
  return out;
}

TEST_F(WinHttpIntegrationTest, PostsGzipBatchesOverTlsAndTheCollectorRecordsTheExactBody) {
  const FakeCollector& fake = WinHttpIntegrationTest::fake("ok");
  ASSERT_TRUE(fake.ok()) << fake.error();
  auto transport = transportFor(fake);
  ASSERT_TRUE(transport);
  std::cout << "proxy access: " << transport->proxyAccess() << (runningUnderWine() ? " (Wine)" : "")
            << "\n";
  const std::vector<std::string> payloads = {payload(3), payload(50), payload(1)};
  for (const std::string& p : payloads) {
    TransportResult result = transport->send(batch(p));
    ASSERT_TRUE(result.isResponse()) << result.error().toString();
    EXPECT_EQ(result.response().status, 200) << result.response().body;
    EXPECT_EQ(result.response().body, R"({"status":200})");
    EXPECT_EQ(result.response().header("content-type").value_or(""), "application/json");
  }
  const auto records = fake.records();
  ASSERT_EQ(records.size(), payloads.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].at("method"), "POST");
    EXPECT_EQ(records[i].at("target"), "/ingest/v1/batches");
    EXPECT_EQ(records[i].at("authorization"), "match");
    EXPECT_EQ(records[i].at("headers").at("content-encoding"), "gzip");
    EXPECT_EQ(records[i].at("headers").at("content-type"), "application/x-ndjson");
    EXPECT_EQ(records[i].at("headers").at("user-agent"), "Tier0Watch");
    EXPECT_EQ(fake.bodyOf(records[i]), payloads[i]);
  }
  // Keep-alive: WinHTTP's session pool reused the first connection.
  EXPECT_EQ(transport->connectionsOpened(), 1u);
}

TEST_F(WinHttpIntegrationTest, UntrustedCaIsRefusedAndNothingIsRecorded) {
  const FakeCollector& fake = WinHttpIntegrationTest::fake("untrusted");
  ASSERT_TRUE(fake.ok()) << fake.error();
  auto transport = transportFor(fake);  // the fake's fresh CA is in no store
  ASSERT_TRUE(transport);
  TransportResult result = transport->send(batch(payload(2)));
  ASSERT_FALSE(result.isResponse()) << "HTTP " << result.response().status;
  std::cout << result.error().toString() << "\n";
  if (runningUnderWine()) {
    // Wine 8's winhttp reports a rejected certificate as ERROR_WINHTTP_SECURE_CHANNEL_ERROR and
    // sends no SECURE_FAILURE callback, so only the TLS class is visible here
    // (docs/windows-verification.md); Windows reports ERROR_WINHTTP_SECURE_FAILURE + flags.
    EXPECT_TRUE(result.error().kind == TransportErrorKind::kTls ||
                result.error().kind == TransportErrorKind::kTlsVerification)
        << result.error().toString();
  } else {
    EXPECT_EQ(result.error().kind, TransportErrorKind::kTlsVerification)
        << result.error().toString();
  }
  EXPECT_EQ(result.error().message.find(kToken), std::string::npos);
  EXPECT_TRUE(fake.records().empty());
}

TEST_F(WinHttpIntegrationTest, TooManyRequestsReturnsStatusAndRetryAfter) {
  const FakeCollector& fake = WinHttpIntegrationTest::fake("429");
  ASSERT_TRUE(fake.ok()) << fake.error();
  auto transport = transportFor(fake);
  ASSERT_TRUE(transport);
  TransportResult result = transport->send(batch(payload(1)));
  ASSERT_TRUE(result.isResponse()) << result.error().toString();
  EXPECT_EQ(result.response().status, 429);
  EXPECT_EQ(result.response().header("retry-after").value_or(""), "17");
}

TEST_F(WinHttpIntegrationTest, HangingServerYieldsTimeout) {
  const FakeCollector& fake = WinHttpIntegrationTest::fake("hang");
  ASSERT_TRUE(fake.ok()) << fake.error();
  auto transport = transportFor(fake);
  ASSERT_TRUE(transport);
  HttpRequest request = batch(payload(1));
  request.timeout = std::chrono::milliseconds(1500);
  TransportResult result = transport->send(request);
  ASSERT_FALSE(result.isResponse()) << "HTTP " << result.response().status;
  EXPECT_EQ(result.error().kind, TransportErrorKind::kTimeout) << result.error().toString();
}

TEST_F(WinHttpIntegrationTest, ResponseAboveTheLimitIsAProtocolError) {
  const FakeCollector& fake = WinHttpIntegrationTest::fake("limit");
  ASSERT_TRUE(fake.ok()) << fake.error();
  auto transport = transportFor(fake, 5);  // the fake answers {"status":200}, 14 bytes
  ASSERT_TRUE(transport);
  TransportResult result = transport->send(batch(payload(1)));
  ASSERT_FALSE(result.isResponse());
  EXPECT_EQ(result.error().kind, TransportErrorKind::kProtocol) << result.error().toString();
}

TEST_F(WinHttpIntegrationTest, NothingListeningIsConnectRefused) {
  // Port 1 on the loopback: nothing listens there.
  WinHttpTransportOptions options;
  options.url = "https://localhost:1/ingest";
  options.proxy_url = "direct";
  auto transport = WinHttpTransport::create(std::move(options));
  ASSERT_TRUE(transport) << transport.error().toString();
  TransportResult result = (*transport)->send(batch(payload(1)));
  ASSERT_FALSE(result.isResponse());
  EXPECT_EQ(result.error().kind, TransportErrorKind::kConnectRefused) << result.error().toString();
}

}  // namespace
}  // namespace t0w
