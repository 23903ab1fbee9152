// The registry adapter and watcher on a real registry (Windows, or Wine's): values written by
// reg.exe ("reg add", as an administrator would) are read with their types, and the watcher
// reports a change made while it runs — a bounded wait on its notification, no sleeping.
#include <gtest/gtest.h>
#include <windows.h>

#include <string>

#include "agent/config/policy_overlay.h"
#include "agent/platform/windows/registry_policy_source.h"
#include "agent/platform/windows/utf.h"

namespace t0w::win {
namespace {

using std::chrono::seconds;

// Runs reg.exe with `args` and returns its exit code.
DWORD reg(const std::string& args) {
  std::wstring cmd = *toWide("reg.exe " + args);
  STARTUPINFOW si{};
  si.cb = sizeof(si);
  PROCESS_INFORMATION pi{};
  if (!CreateProcessW(nullptr, cmd.data(), nullptr, nullptr, FALSE, CREATE_NO_WINDOW, nullptr,
                      nullptr, &si, &pi)) {
    ADD_FAILURE() << "CreateProcess(reg.exe): " << GetLastError();
    return 9999;
  }
  WaitForSingleObject(pi.hProcess, 60'000);
  DWORD code = 9999;
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  return code;
}

class RegistryPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = "SOFTWARE\\Policies\\Tier0WatchTest" + std::to_string(GetCurrentProcessId());
    reg("delete HKLM\\" + path_ + " /f");
  }
  void TearDown() override { reg("delete HKLM\\" + path_ + " /f"); }
  std::string key(const std::string& sub = "") const {
    return "HKLM\\" + path_ + (sub.empty() ? "" : "\\" + sub);
  }
  std::string path_;
};

TEST_F(RegistryPolicyTest, MissingKeyIsAnEmptySnapshot) {
  RegistryPolicySource source(path_);
  auto snap = source.read();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_TRUE(snap->empty());
  EXPECT_EQ(source.describe(), "HKLM\\" + path_);
}

TEST_F(RegistryPolicyTest, ReadsValuesWrittenByRegAddWithTheirTypes) {
  ASSERT_EQ(reg("add " + key() + " /v CollectorUrl /t REG_SZ /d https://gpo.example:8443 /f"), 0u);
  ASSERT_EQ(reg("add " + key() + " /v QueueMaxMB /t REG_DWORD /d 256 /f"), 0u);
  ASSERT_EQ(reg("add " + key("Channels") + " /v Security /t REG_DWORD /d 0 /f"), 0u);
  ASSERT_EQ(reg("add \"" + key("ExtraChannels") +
                "\" /v \"Directory Service\" /t REG_SZ /d \"*[System[(EventID=2889)]]\" /f"),
            0u);
  ASSERT_EQ(reg("add " + key() + " /v UseExtraChannels /t REG_DWORD /d 1 /f"), 0u);
  RegistryPolicySource source(path_);
  auto snap = source.read();
  ASSERT_TRUE(snap) << snap.error().message;
  const PolicyValue* url = snap->find("", "collectorurl");
  ASSERT_NE(url, nullptr);
  EXPECT_EQ(url->type, PolicyValue::Type::kString);
  EXPECT_EQ(url->text, "https://gpo.example:8443");
  const PolicyValue* mb = snap->find("", "QueueMaxMB");
  ASSERT_NE(mb, nullptr);
  EXPECT_EQ(mb->type, PolicyValue::Type::kDword);
  EXPECT_EQ(mb->number, 256u);
  ASSERT_NE(snap->find("Channels", "Security"), nullptr);
  EXPECT_EQ(snap->find("Channels", "Security")->number, 0u);

  // Through the overlay, as the service sees it.
  AgentConfig file;
  file.url = "https://file.example";
  auto r = applyPolicy(file, {}, *snap);
  EXPECT_TRUE(r.issues.empty()) << r.issues.front();
  EXPECT_EQ(r.config.url, "https://gpo.example:8443");
  EXPECT_EQ(r.config.queue_max_bytes, int64_t{256} << 20);
  EXPECT_FALSE(r.config.security_channel);
  ASSERT_EQ(r.config.extra_channels.size(), 1u);
  EXPECT_EQ(r.config.extra_channels[0].channel, "Directory Service");
  EXPECT_EQ(r.config.extra_channels[0].query, "*[System[(EventID=2889)]]");
}

TEST_F(RegistryPolicyTest, WatcherSeesTheKeyCreatedChangedAndDeleted) {
  std::atomic<int> calls{0};
  auto watcher = RegistryWatcher::start(path_, [&calls] { ++calls; });
  ASSERT_TRUE(watcher) << watcher.error().message;
  RegistryWatcher& w = **watcher;
  ASSERT_TRUE(w.waitArmed(seconds(30)));

  // The key does not exist yet: its creation (a GPO applied for the first time) is seen.
  ASSERT_EQ(reg("add " + key() + " /v LogLevel /t REG_SZ /d debug /f"), 0u);
  ASSERT_TRUE(w.waitForChange(0, seconds(30))) << "no notification for the key's creation";
  RegistryPolicySource source(path_);
  const uint64_t after_create = w.changes();

  // A value changed while the watcher runs.
  ASSERT_EQ(reg("add " + key() + " /v LogLevel /t REG_SZ /d warn /f"), 0u);
  ASSERT_TRUE(w.waitForChange(after_create, seconds(30))) << "no notification for a value";
  auto snap = source.read();
  ASSERT_TRUE(snap);
  ASSERT_NE(snap->find("", "LogLevel"), nullptr);
  EXPECT_EQ(snap->find("", "LogLevel")->text, "warn");

  // A value in a subkey (subtree watch).
  const uint64_t before_sub = w.changes();
  ASSERT_EQ(reg("add " + key("Channels") + " /v Security /t REG_DWORD /d 1 /f"), 0u);
  ASSERT_TRUE(w.waitForChange(before_sub, seconds(30))) << "no notification for a subkey value";

  // The policy removed (GPO unlinked): seen, and the key reads empty.
  const uint64_t before_delete = w.changes();
  ASSERT_EQ(reg("delete " + key() + " /f"), 0u);
  ASSERT_TRUE(w.waitForChange(before_delete, seconds(30))) << "no notification for deletion";
  auto gone = source.read();
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->empty());
  EXPECT_EQ(calls.load(), static_cast<int>(w.changes()));
}

}  // namespace
}  // namespace t0w::win
