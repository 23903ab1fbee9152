// `tier0watch.exe run --exit-when-drained` under Wine against the real Linux t0w-fake-collector:
// the whole Windows agent process (config, queue, pipeline, WinHttpTransport over TLS with the
// CA trusted in the Wine prefix's LocalMachine\Root, host name from GetComputerNameExW) ships an
// xml source, and the fake recorded exactly the events of the file. Env T0W_WINE_FAKE_COLLECTOR
// names the fake (scripts/windows/test.sh builds it natively); without it the test skips, or
// fails when T0W_REQUIRE_WINE_INTEGRATION=1 (CI).
#include <gtest/gtest.h>
#include <windows.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace t0w {
namespace {

constexpr const char* kToken = "tok-agent-run-wine-3f9c";

std::string envOr(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

// Unix paths are reached through Wine's Z: drive (the root file system).
std::string dosPath(const std::string& unix_path) { return "Z:" + unix_path; }

std::string readFile(const std::string& unix_path) {
  std::ifstream in(dosPath(unix_path), std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs a command line, its stdout and stderr into `log` (a Unix path; empty: inherited), and
// waits at most `timeout_ms`. The exit code; -1 when it could not start, -2 on timeout (killed).
int run(std::string command_line, const std::string& log = "", DWORD timeout_ms = INFINITE) {
  STARTUPINFOA si{};
  si.cb = sizeof(si);
  HANDLE out = INVALID_HANDLE_VALUE;
  if (!log.empty()) {
    SECURITY_ATTRIBUTES sa{sizeof(sa), nullptr, TRUE};
    out = CreateFileA(dosPath(log).c_str(), GENERIC_WRITE, FILE_SHARE_READ, &sa, CREATE_ALWAYS,
                      FILE_ATTRIBUTE_NORMAL, nullptr);
    if (out == INVALID_HANDLE_VALUE) return -1;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = out;
    si.hStdError = out;
  }
  PROCESS_INFORMATION pi{};
  const BOOL started = CreateProcessA(nullptr, command_line.data(), nullptr, nullptr,
                                      out != INVALID_HANDLE_VALUE, 0, nullptr, nullptr, &si, &pi);
  if (out != INVALID_HANDLE_VALUE) CloseHandle(out);
  if (!started) return -1;
  int code = 0;
  if (WaitForSingleObject(pi.hProcess, timeout_ms) != WAIT_OBJECT_0) {
    TerminateProcess(pi.hProcess, 99);
    WaitForSingleObject(pi.hProcess, INFINITE);
    code = -2;
  } else {
    DWORD exit_code = 0;
    GetExitCodeProcess(pi.hProcess, &exit_code);
    code = static_cast<int>(exit_code);
  }
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  return code;
}

// The Linux fake, started through /bin/sh (Wine runs Unix programs from CreateProcess); its
// ready line is read from the file the shell redirects it to (bounded poll).
class FakeCollector {
 public:
  FakeCollector(const std::string& executable, const std::string& dir, const std::string& args)
      : dir_(dir) {
    const std::string command = "/bin/sh -c \"echo $$ >" + dir_ + "/pid; exec " + executable +
                                " --dir " + dir_ + " --time-limit 300 " + args + " >" + dir_ +
                                "/ready.json 2>" + dir_ + "/stderr.txt\"";
    STARTUPINFOA si{};
    si.cb = sizeof(si);
    PROCESS_INFORMATION pi{};
    std::string cl = command;
    if (!CreateProcessA(nullptr, cl.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si,
                        &pi)) {
      error_ = "CreateProcess(/bin/sh) failed: " + std::to_string(GetLastError());
      return;
    }
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    for (int i = 0; i < 1000; ++i) {
      const std::string line = readFile(dir_ + "/ready.json");
      if (line.find('\n') != std::string::npos) {
        ready_ = nlohmann::json::parse(line, nullptr, false);
        if (ready_.is_discarded()) error_ = "bad ready line: " + line;
        return;
      }
      Sleep(20);  // poll interval of a bounded wait for the ready line
    }
    error_ = "no ready line within 20 s; stderr: " + readFile(dir_ + "/stderr.txt");
  }
  ~FakeCollector() {
    const std::string pid = readFile(dir_ + "/pid");
    if (pid.empty()) return;
    const std::string id = pid.substr(0, pid.find('\n'));
    run("/bin/kill " + id);
    // Gone before the test removes its directory (bounded poll).
    for (int i = 0; i < 500 && run("/bin/kill -0 " + id) == 0; ++i) Sleep(20);
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int port() const { return ready_.at("port").get<int>(); }
  std::string caCert() const { return ready_.at("ca_cert").get<std::string>(); }
  std::vector<nlohmann::json> requests() const {
    std::vector<nlohmann::json> out;
    std::istringstream lines(readFile(ready_.at("record").get<std::string>()));
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line, nullptr, false));
    }
    return out;
  }

 private:
  std::string dir_;
  std::string error_;
  nlohmann::json ready_;
};

std::string eventXml(int record_id) {
  return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
         "<Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4624</EventID>"
         "<TimeCreated SystemTime='2024-05-14T08:00:00.0000000Z'/><EventRecordID>" +
         std::to_string(record_id) +
         "</EventRecordID><Channel>Security</Channel><Computer>DC01.corp.example</Computer>"
         "</System><EventData><Data Name='TargetUserName'>user" +
         std::to_string(record_id) + "</Data></EventData></Event>\n";
}

// Events the fake accepted: keys without the agent id (each occurrence), and host names.
struct Received {
  std::multiset<std::string> keys;
  std::set<std::string> hostnames;
  std::string problem;  // a request the collector did not accept, or an unreadable body
};

Received received(const FakeCollector& fake) {
  Received out;
  for (const auto& request : fake.requests()) {
    if (request.is_discarded() || request.value("status", 0) != 200) {
      out.problem = request.dump();
      continue;
    }
    const auto batch = nlohmann::json::parse(readFile(request.at("body_file")), nullptr, false);
    if (batch.is_discarded()) {
      out.problem = "unreadable body: " + request.dump();
      continue;
    }
    out.hostnames.insert(batch.at("agent").at("hostname").get<std::string>());
    for (const auto& record : batch.at("records")) {
      if (record.at("kind") != "event") continue;
      const std::string key = record.at("key");
      out.keys.insert(key.substr(key.find('|') + 1));
    }
  }
  return out;
}

// For the CI log: what the agent said about its start and end.
void printSummary(const std::string& log) {
  std::istringstream lines(readFile(log));
  for (std::string line; std::getline(lines, line);) {
    if (line.find("starting on") != std::string::npos ||
        line.find("received") != std::string::npos || line.find("stopped:") != std::string::npos) {
      std::cout << line << "\n";
    }
  }
}

class AgentRunWineTest : public ::testing::Test {
 protected:
  static constexpr int kEvents = 120;

  void SetUp() override {
    const std::string fake_exe = envOr("T0W_WINE_FAKE_COLLECTOR");
    if (fake_exe.empty()) {
      if (envOr("T0W_REQUIRE_WINE_INTEGRATION") == "1") {
        FAIL() << "T0W_WINE_FAKE_COLLECTOR is not set and T0W_REQUIRE_WINE_INTEGRATION=1";
      }
      GTEST_SKIP() << "T0W_WINE_FAKE_COLLECTOR is not set (scripts/windows/test.sh sets it)";
    }
    static int counter = 0;
    // Unique (Wine reuses process ids) rather than removed first: Wine does not wait for a Unix
    // child such as rm, which could run after the directory is made again.
    dir_ = "/tmp/t0w-agent-run-wine-" + std::to_string(GetCurrentProcessId()) + "-" +
           std::to_string(GetTickCount64()) + "-" + std::to_string(++counter);
    ASSERT_TRUE(CreateDirectoryA(dosPath(dir_).c_str(), nullptr));
    CreateDirectoryA(dosPath(dir_ + "/fake").c_str(), nullptr);
    fake_ = std::make_unique<FakeCollector>(fake_exe, dir_ + "/fake",
                                            std::string("--require-token ") + kToken);
    ASSERT_TRUE(fake_->ok()) << fake_->error();
    trust_ = std::string(dosPath(T0W_TRUST_CA_EXE));
    ASSERT_EQ(run(trust_ + " add " + dosPath(fake_->caCert())), 0) << "t0w-trust-ca add failed";
    trusted_ = true;
    ASSERT_EQ(run(trust_ + " check " + dosPath(fake_->caCert())), 0)
        << "the CA just added is not in LocalMachine\\Root as a new process reads it";

    std::ofstream xml(dosPath(dir_ + "/events.xml"), std::ios::binary);
    for (int i = 1; i <= kEvents; ++i) {
      xml << eventXml(i);
      expected_.insert("Security|" + std::to_string(i));
    }
    std::ofstream cfg(dosPath(dir_ + "/agent.yaml"), std::ios::binary);
    // "localhost", not 127.0.0.1: Wine's certificate name check ignores IP subjectAltNames.
    // No Security subscription: a live source never ends (--exit-when-drained), and Wine's
    // wevtapi cannot run one anyway.
    cfg << "agent: {state_dir: \"" << dosPath(dir_) << "/state\", log_level: info}\n"
        << "collector: {url: \"https://localhost:" << fake_->port() << "\", token: " << kToken
        << ", request_timeout_ms: 20000}\n"
        << "batch: {max_events: 50, max_delay_ms: 0}\n"
        << "retry: {backoff_base_ms: 20, backoff_cap_ms: 500}\n"
        << "windows: {security: false, pta_agent_admin: false, private_network_connector_admin: "
           "false, password_protection_admin: false, password_protection_operational: false, "
           "entra_connect_application: false, powershell_script_block: false, "
           "system_service_and_clear: false, entra_connect_trace: false}\n"
        << "sources:\n  - xml: {path: \"" << dosPath(dir_) << "/events.xml\"}\n";
  }

  void TearDown() override {
    if (trusted_) run(trust_ + " remove " + dosPath(fake_->caCert()));
    fake_.reset();
    if (!dir_.empty()) run("/bin/rm -rf " + dir_);
  }

  // Whether the fake's CA is in LocalMachine\Root as a new process reads it now: evidence for a
  // failure that looks like an untrusted certificate (WinHTTP 12157 under Wine, see
  // docs/windows-verification.md).
  std::string caEvidence() const {
    const bool in = run(trust_ + " check " + dosPath(fake_->caCert())) == 0;
    return std::string("\n[the fake's CA is ") + (in ? "" : "NOT ") +
           "in LocalMachine\\Root after the run (t0w-trust-ca check)]";
  }

  std::string commandLine(const std::string& extra = "") const {
    return std::string(dosPath(T0W_TIER0WATCH_EXE)) + " run --config " +
           dosPath(dir_ + "/agent.yaml") + extra;
  }

  // `log`: the agent's, printed whole when the events did not all arrive.
  void expectExactlyTheFilesEvents(const std::string& log) {
    const Received r = received(*fake_);
    EXPECT_EQ(r.problem, "");
    std::cout << fake_->requests().size() << " requests, " << r.keys.size() << " events\n";
    EXPECT_EQ(r.keys.size(), expected_.size())  // each event once
        << "agent log:\n"
        << readFile(log) << caEvidence();
    EXPECT_EQ(std::set<std::string>(r.keys.begin(), r.keys.end()), expected_);
    // The agent's host name (GetComputerNameExW) starts with the computer name.
    ASSERT_EQ(r.hostnames.size(), 1u);
    const std::string computer = envOr("COMPUTERNAME");
    const std::string host = *r.hostnames.begin();
    EXPECT_EQ(_strnicmp(host.c_str(), computer.c_str(), computer.size()), 0) << host;
  }

  std::string dir_;
  std::unique_ptr<FakeCollector> fake_;
  std::string trust_;
  bool trusted_ = false;
  std::set<std::string> expected_;
};

TEST_F(AgentRunWineTest, ExitWhenDrainedShipsAnXmlSourceOverWinHttpTlsExactlyOnce) {
  const std::string log = dir_ + "/agent.log";
  const int code = run(commandLine(" --exit-when-drained"), log, 240'000);
  printSummary(log);
  ASSERT_EQ(code, 0) << "tier0watch.exe run: " << readFile(log) << caEvidence();
  EXPECT_NE(readFile(log).find("starting on Windows"), std::string::npos) << readFile(log);
  expectExactlyTheFilesEvents(log);
}

// Wine turns SIGINT to a Windows process into CTRL_C_EVENT for its console control handlers
// (GenerateConsoleCtrlEvent does not reach a process without a shared console under Wine), so
// the test sends SIGINT to the agent's Unix process, found by its unique configuration path.
TEST_F(AgentRunWineTest, CtrlCStopsTheAgentCleanlyAfterItShippedEverything) {
  const std::string log = dir_ + "/agent.log";
  SECURITY_ATTRIBUTES sa{sizeof(sa), nullptr, TRUE};
  HANDLE out = CreateFileA(dosPath(log).c_str(), GENERIC_WRITE, FILE_SHARE_READ, &sa, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, nullptr);
  ASSERT_NE(out, INVALID_HANDLE_VALUE);
  STARTUPINFOA si{};
  si.cb = sizeof(si);
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si.hStdOutput = out;
  si.hStdError = out;
  PROCESS_INFORMATION pi{};
  std::string cl = commandLine();
  const BOOL started =
      CreateProcessA(nullptr, cl.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi);
  CloseHandle(out);
  ASSERT_TRUE(started) << GetLastError();
  // Running until asked: wait (bounded poll) until the collector has every event.
  for (int i = 0; i < 6000 && received(*fake_).keys.size() < expected_.size(); ++i) {
    if (WaitForSingleObject(pi.hProcess, 20) == WAIT_OBJECT_0) break;
  }
  const std::string pids = dir_ + "/agent.pids";
  // "[.]": the pattern must not match the shell's own command line. Wine does not wait for a
  // Unix child: the result is renamed into place when complete, and polled for (bounded).
  run("/bin/sh -c \"pgrep -f 'tier0watch[.]exe run --config Z:" + dir_ + "/agent[.]yaml' >" + pids +
      ".tmp 2>&1; mv " + pids + ".tmp " + pids + "\"");
  for (int i = 0; i < 1000 && GetFileAttributesA(dosPath(pids).c_str()) == INVALID_FILE_ATTRIBUTES;
       ++i) {
    Sleep(10);
  }
  const std::string pid = readFile(pids);
  const bool one = !pid.empty() && pid.find('\n') == pid.size() - 1;
  if (one) run("/bin/kill -INT " + pid.substr(0, pid.size() - 1));
  const DWORD waited = WaitForSingleObject(pi.hProcess, one ? 60'000 : 0);
  DWORD code = 0;
  GetExitCodeProcess(pi.hProcess, &code);
  if (waited != WAIT_OBJECT_0) TerminateProcess(pi.hProcess, 99);
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  printSummary(log);
  ASSERT_TRUE(one) << "expected one Unix process of the agent, found: " << pid;
  ASSERT_EQ(waited, WAIT_OBJECT_0)
      << "no exit within 60 s after SIGINT: " << readFile(log) << caEvidence();
  EXPECT_EQ(code, 0u) << readFile(log);
  EXPECT_NE(readFile(log).find("Ctrl+C received"), std::string::npos) << readFile(log);
  expectExactlyTheFilesEvents(log);
}

}  // namespace
}  // namespace t0w
