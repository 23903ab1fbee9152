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

TEST(AgentRunWineTest, ShipsAnXmlSourceOverWinHttpTlsAndTheCollectorRecordsExactlyItsEvents) {
  const std::string fake_exe = envOr("T0W_WINE_FAKE_COLLECTOR");
  if (fake_exe.empty()) {
    if (envOr("T0W_REQUIRE_WINE_INTEGRATION") == "1") {
      FAIL() << "T0W_WINE_FAKE_COLLECTOR is not set and T0W_REQUIRE_WINE_INTEGRATION=1";
    }
    GTEST_SKIP() << "T0W_WINE_FAKE_COLLECTOR is not set (scripts/windows/test.sh sets it)";
  }
  const std::string dir = "/tmp/t0w-agent-run-wine-" + std::to_string(GetCurrentProcessId());
  run("/bin/rm -rf " + dir);
  ASSERT_TRUE(CreateDirectoryA(dosPath(dir).c_str(), nullptr));
  CreateDirectoryA(dosPath(dir + "/fake").c_str(), nullptr);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { run("/bin/rm -rf " + dir); }
  } cleanup{dir};

  FakeCollector fake(fake_exe, dir + "/fake", std::string("--require-token ") + kToken);
  ASSERT_TRUE(fake.ok()) << fake.error();
  const std::string trust = std::string(dosPath(T0W_TRUST_CA_EXE));
  ASSERT_EQ(run(trust + " add " + dosPath(fake.caCert())), 0) << "t0w-trust-ca add failed";
  struct Untrust {
    std::string cmd;
    ~Untrust() { run(cmd); }
  } untrust{trust + " remove " + dosPath(fake.caCert())};

  constexpr int kEvents = 120;
  std::set<std::string> expected;
  {
    std::ofstream xml(dosPath(dir + "/events.xml"), std::ios::binary);
    for (int i = 1; i <= kEvents; ++i) {
      xml << eventXml(i);
      expected.insert("Security|" + std::to_string(i));
    }
  }
  {
    std::ofstream cfg(dosPath(dir + "/agent.yaml"), std::ios::binary);
    // "localhost", not 127.0.0.1: Wine's certificate name check ignores IP subjectAltNames.
    // The Security subscription is switched off: Wine stubs the Event Log API, and a live
    // subscription would keep --exit-when-drained from ever exiting.
    cfg << "agent: {state_dir: \"" << dosPath(dir) << "/state\", log_level: info}\n"
        << "collector: {url: \"https://localhost:" << fake.port() << "\", token: " << kToken
        << ", request_timeout_ms: 20000}\n"
        << "batch: {max_events: 50, max_delay_ms: 0}\n"
        << "retry: {backoff_base_ms: 20, backoff_cap_ms: 500}\n"
        << "windows: {security: false}\n"
        << "sources:\n  - xml: {path: \"" << dosPath(dir) << "/events.xml\"}\n";
  }

  const std::string log = dir + "/agent.log";
  const int code = run(std::string(dosPath(T0W_TIER0WATCH_EXE)) + " run --config " +
                           dosPath(dir + "/agent.yaml") + " --exit-when-drained",
                       log, 240'000);
  ASSERT_EQ(code, 0) << "tier0watch.exe run: " << readFile(log);
  EXPECT_NE(readFile(log).find("starting on Windows"), std::string::npos) << readFile(log);

  // For the CI log: what the agent said about its start and end.
  std::istringstream lines(readFile(log));
  for (std::string line; std::getline(lines, line);) {
    if (line.find("starting on") != std::string::npos ||
        line.find("stopped:") != std::string::npos) {
      std::cout << line << "\n";
    }
  }

  std::multiset<std::string> received;
  std::set<std::string> hostnames;
  for (const auto& request : fake.requests()) {
    ASSERT_FALSE(request.is_discarded());
    ASSERT_EQ(request.at("status").get<int>(), 200) << request.dump();
    const auto batch = nlohmann::json::parse(readFile(request.at("body_file")), nullptr, false);
    ASSERT_FALSE(batch.is_discarded()) << request.dump();
    hostnames.insert(batch.at("agent").at("hostname").get<std::string>());
    for (const auto& record : batch.at("records")) {
      if (record.at("kind") != "event") continue;
      const std::string key = record.at("key");
      received.insert(key.substr(key.find('|') + 1));  // without the agent id
    }
  }
  std::cout << fake.requests().size() << " requests, " << received.size() << " events\n";
  EXPECT_EQ(received.size(), expected.size());  // each event once
  EXPECT_EQ(std::set<std::string>(received.begin(), received.end()), expected);
  // The agent's host name (GetComputerNameExW) starts with the computer name.
  ASSERT_EQ(hostnames.size(), 1u);
  const std::string computer = envOr("COMPUTERNAME");
  const std::string host = *hostnames.begin();
  EXPECT_EQ(_strnicmp(host.c_str(), computer.c_str(), computer.size()), 0) << host;
}

}  // namespace
}  // namespace t0w
