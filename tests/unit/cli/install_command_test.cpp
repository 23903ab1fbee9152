#include "agent/cli/install_command.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "agent/cli/cli.h"
#include "agent/config/agent_config.h"
#include "tests/unit/cli/temp_dir.h"

namespace t0w::cli {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const fs::path kDefaultConfig = fs::path(T0W_SOURCE_DIR) / "installer/config/tier0watch.yaml";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Lines of `a` that `b` lacks, and the other way round, joined: what an edit changed.
std::string changedLines(const std::string& a, const std::string& b) {
  std::istringstream ia(a), ib(b);
  std::string la, lb, out;
  while (true) {
    bool ga = static_cast<bool>(std::getline(ia, la));
    bool gb = static_cast<bool>(std::getline(ib, lb));
    if (!ga && !gb) break;
    if (la != lb || ga != gb) out += "-" + (ga ? la : "") + "\n+" + (gb ? lb : "") + "\n";
    if (!ga) la.clear();
    if (!gb) lb.clear();
  }
  return out;
}

TEST(InstallDefaultConfig, IsAValidConfigurationWithTheTokenFileInTheDataDirectory) {
  auto config = loadConfigFile(kDefaultConfig);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->url, "https://collector.invalid/");
  EXPECT_EQ(config->token_file, kDefaultConfig.parent_path() / "collector.token");
  EXPECT_EQ(config->state_dir, kDefaultConfig.parent_path() / "state");
}

TEST(WithCollectorUrl, ReplacesOnlyTheUrlLineOfTheDefaultConfig) {
  std::string text = slurp(kDefaultConfig);
  auto out = withCollectorUrl(text, "https://dc-collector.corp.example:8443/t0w", "/base");
  ASSERT_TRUE(out) << out.error().toString();
  EXPECT_EQ(changedLines(text, *out),
            "-  url: \"https://collector.invalid/\"\n"
            "+  url: \"https://dc-collector.corp.example:8443/t0w\"\n");
  auto config = parseConfig(*out, "out", "/base");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->url, "https://dc-collector.corp.example:8443/t0w");
}

TEST(WithCollectorUrl, QuotesCharactersThatYamlWouldInterpret) {
  const std::string url = "https://h/p#frag?a=\"b\"&c=\\d: e";
  auto out = withCollectorUrl("collector:\n  url: x\n", "https://h/p#x?a=\"b\"&c=\\d", "/b");
  ASSERT_TRUE(out) << out.error().toString();
  auto config = parseConfig(*out, "out", "/b");
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->url, "https://h/p#x?a=\"b\"&c=\\d");
  // Spaces never belong in a URL: refused rather than quoted.
  EXPECT_FALSE(withCollectorUrl("collector:\n  url: x\n", url, "/b"));
}

TEST(WithCollectorUrl, InsertsTheKeyOrTheSectionWhenMissing) {
  auto inserted = withCollectorUrl(
      "agent:\n  log_level: info\ncollector:\n    token: abc # t\nqueue: {}\n", "https://c/", "/b");
  ASSERT_TRUE(inserted) << inserted.error().toString();
  EXPECT_EQ(*inserted,
            "agent:\n  log_level: info\ncollector:\n    url: \"https://c/\"\n    token: abc # "
            "t\nqueue: {}\n");
  auto appended = withCollectorUrl("agent:\n  log_level: info\n", "https://c/", "/b");
  ASSERT_TRUE(appended) << appended.error().toString();
  EXPECT_EQ(*appended, "agent:\n  log_level: info\ncollector:\n  url: \"https://c/\"\n");
}

TEST(WithCollectorUrl, KeepsCrLfLineEndsAndIgnoresNestedUrlKeys) {
  auto out = withCollectorUrl(
      "collector:\r\n  # url: commented\r\n  url: old\r\nmetrics:\r\n  listen: "
      "127.0.0.1:0\r\n",
      "https://n/", "/b");
  ASSERT_TRUE(out) << out.error().toString();
  EXPECT_EQ(*out,
            "collector:\r\n  # url: commented\r\n  url: \"https://n/\"\r\nmetrics:\r\n  listen: "
            "127.0.0.1:0\r\n");
}

TEST(WithCollectorUrl, RefusesWhatItCannotEditSafely) {
  EXPECT_EQ(withCollectorUrl("collector: {url: x}\n", "https://c/", "/b").error().code,
            Errc::kUnsupported);
  EXPECT_EQ(withCollectorUrl("collector:\n  url: x\n", "ftp://c/", "/b").error().code,
            Errc::kInvalidArgument);
  EXPECT_EQ(withCollectorUrl("collector:\n  url: x\n", "https://c/\nqueue: 1", "/b").error().code,
            Errc::kInvalidArgument);
  EXPECT_FALSE(withCollectorUrl("collector:\n  url: x\n", "", "/b"));
  // The result must stay a valid configuration: an unknown key elsewhere fails the edit.
  auto invalid = withCollectorUrl("collector:\n  url: x\nbogus: 1\n", "https://c/", "/b");
  ASSERT_FALSE(invalid);
  EXPECT_NE(invalid.error().message.find("bogus"), std::string::npos) << invalid.error().message;
}

TEST(WithWindowsSwitch, EditsOneLineOfTheDefaultConfigAndKeepsItsComment) {
  std::string text = slurp(kDefaultConfig);
  auto out = withWindowsSwitch(text, "pta_agent_admin", false, "/base");
  ASSERT_TRUE(out) << out.error().toString();
  const std::string changed = changedLines(text, *out);
  EXPECT_EQ(changed.substr(0, changed.find('\n')).find("-  pta_agent_admin: true"), 0u) << changed;
  EXPECT_NE(changed.find("+  pta_agent_admin: false  "), std::string::npos) << changed;
  EXPECT_EQ(std::count(changed.begin(), changed.end(), '\n'), 2) << changed;
  auto config = parseConfig(*out, "out", "/base");
  ASSERT_TRUE(config);
  EXPECT_FALSE(config->pta_agent_admin);
  EXPECT_TRUE(config->security_channel);
}

TEST(WithWindowsSwitch, InsertsTheKeyOrTheSectionWhenMissing) {
  auto inserted = withWindowsSwitch("collector:\n  url: x\nwindows:\n  security: true\n",
                                    "powershell_script_block", false, "/b");
  ASSERT_TRUE(inserted) << inserted.error().toString();
  EXPECT_EQ(*inserted,
            "collector:\n  url: x\nwindows:\n  powershell_script_block: false\n  security: true\n");
  auto appended = withWindowsSwitch("collector:\n  url: x\n", "security", false, "/b");
  ASSERT_TRUE(appended) << appended.error().toString();
  EXPECT_EQ(*appended, "collector:\n  url: x\nwindows:\n  security: false\n");
}

TEST(PrepareDataDir, SourcePropertiesSwitchChannelsAndEmptyOnesChangeNothing) {
  TempDir tmp;
  const fs::path data = tmp.path() / "Tier0Watch";
  auto done = prepareDataDir({data,
                              kDefaultConfig,
                              "https://c/",
                              "",
                              {"pta_agent_admin=0", "security=", "system_service_and_clear=0",
                               "powershell_script_block=1"}});
  ASSERT_TRUE(done) << done.error().toString();
  auto config = loadConfigFile(data / kConfigFileName);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_FALSE(config->pta_agent_admin);
  EXPECT_FALSE(config->system_service_and_clear);
  EXPECT_TRUE(config->powershell_script_block);
  EXPECT_TRUE(config->security_channel);  // "security=": the property was not given
  EXPECT_NE(done->find("windows.pta_agent_admin=false windows.system_service_and_clear=false"),
            std::string::npos)
      << *done;
  // Every switch the MSI passes is a key of the configuration.
  for (const SourceSwitch& s : sourceSwitches()) {
    auto out = withWindowsSwitch(slurp(kDefaultConfig), s.key, false, "/b");
    EXPECT_TRUE(out) << s.property << ": " << out.error().toString();
  }
  auto unknown = prepareDataDir({data, kDefaultConfig, "", "", {"bogus=0"}});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("--source bogus=0"), std::string::npos);
  auto bad = prepareDataDir({data, kDefaultConfig, "", "", {"security=2"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("0 (off) or 1 (on)"), std::string::npos);
}

TEST(PrepareDataDir, FirstInstallCreatesTheSecuredLayoutConfigAndToken) {
  TempDir tmp;
  const fs::path data = tmp.path() / "ProgramData" / "Tier0Watch";
  auto done =
      prepareDataDir({data, kDefaultConfig, "https://collector.corp:8443/", " s3cret\n", {}});
  ASSERT_TRUE(done) << done.error().toString();
  EXPECT_TRUE(fs::is_directory(data / "state"));
  EXPECT_TRUE(fs::is_directory(data / "logs"));
  auto acl = verifySecuredDirectory(data);
  ASSERT_TRUE(acl) << acl.error().toString();
  EXPECT_EQ(*acl, "700");
  EXPECT_EQ(slurp(data / kTokenFileName), "s3cret\n");
  EXPECT_EQ(fs::status(data / kTokenFileName).permissions() & fs::perms::mask,
            fs::perms::owner_read | fs::perms::owner_write);

  auto config = loadConfigFile(data / kConfigFileName);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->url, "https://collector.corp:8443/");
  auto token = resolveToken(*config);
  ASSERT_TRUE(token) << token.error().toString();
  EXPECT_EQ(*token, "s3cret");
  EXPECT_EQ(config->queuePath(), data / "state" / "queue.db");
  // The log names what was done, never the token.
  EXPECT_NE(done->find("created from"), std::string::npos) << *done;
  EXPECT_EQ(done->find("s3cret"), std::string::npos) << *done;
}

TEST(PrepareDataDir, UpgradeKeepsTheQueueConfigAndTokenUnlessNewValuesAreGiven) {
  TempDir tmp;
  const fs::path data = tmp.path() / "Tier0Watch";
  ASSERT_TRUE(prepareDataDir({data, kDefaultConfig, "https://first/", "tok1", {}}));
  // The administrator's own edit and a queue with events in it.
  {
    std::ofstream(data / kConfigFileName, std::ios::app) << "# edited by the administrator\n";
    std::ofstream(data / "state" / "queue.db", std::ios::binary) << "queued events";
  }
  const std::string edited = slurp(data / kConfigFileName);

  // Upgrade without properties (GPO, repair): nothing changes.
  auto again = prepareDataDir({data, kDefaultConfig, "", "", {}});
  ASSERT_TRUE(again) << again.error().toString();
  EXPECT_NE(again->find("kept as it is"), std::string::npos) << *again;
  EXPECT_EQ(slurp(data / kConfigFileName), edited);
  EXPECT_EQ(slurp(data / kTokenFileName), "tok1\n");
  EXPECT_EQ(slurp(data / "state" / "queue.db"), "queued events");

  // Upgrade with the same URL: still nothing; with a new URL and token: exactly those change.
  ASSERT_TRUE(prepareDataDir({data, kDefaultConfig, "https://first/", "", {}}));
  EXPECT_EQ(slurp(data / kConfigFileName), edited);
  ASSERT_TRUE(prepareDataDir({data, kDefaultConfig, "https://second/", "tok2", {}}));
  EXPECT_EQ(changedLines(edited, slurp(data / kConfigFileName)),
            "-  url: \"https://first/\"\n+  url: \"https://second/\"\n");
  EXPECT_EQ(slurp(data / kTokenFileName), "tok2\n");
  EXPECT_EQ(slurp(data / "state" / "queue.db"), "queued events");
}

TEST(PrepareDataDir, ReSecuresADirectoryLeftOpen) {
  TempDir tmp;
  const fs::path data = tmp.path() / "open";
  fs::create_directories(data);
  fs::permissions(data, fs::perms::all);
  auto open = verifySecuredDirectory(data);
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().message.find("777"), std::string::npos) << open.error().message;
  ASSERT_TRUE(prepareDataDir({data, kDefaultConfig, "", "", {}}));
  EXPECT_TRUE(verifySecuredDirectory(data));
}

TEST(PrepareDataDir, ReportsBadInputByName) {
  TempDir tmp;
  auto relative = prepareDataDir({"relative/dir", kDefaultConfig, "", "", {}});
  ASSERT_FALSE(relative);
  EXPECT_NE(relative.error().message.find("not absolute"), std::string::npos);

  auto missing = prepareDataDir({tmp.path() / "d", tmp.path() / "nope.yaml", "", "", {}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope.yaml"), std::string::npos);

  auto bad_token = prepareDataDir({tmp.path() / "d", kDefaultConfig, "", "a\x01z", {}});
  ASSERT_FALSE(bad_token);
  EXPECT_FALSE(fs::exists(tmp.path() / "d" / kTokenFileName));
}

TEST(InstallCommand, TheTokenIsNeverACommandLineArgument) {
  TempDir tmp;
  const fs::path data = tmp.path() / "Tier0Watch";
  std::ostringstream out, err;
  EXPECT_EQ(runCli({"install", "prepare", "--data-dir", data.string(), "--default-config",
                    kDefaultConfig.string(), "--token", "t"},
                   CliIo{out, err}),
            kExitUsage);
  EXPECT_FALSE(fs::exists(data / kTokenFileName));

  std::istringstream huge(std::string(5000, 'x'));
  std::ostringstream hout, herr;
  EXPECT_EQ(runCli({"install", "prepare", "--data-dir", data.string(), "--default-config",
                    kDefaultConfig.string(), "--token-stdin"},
                   CliIo{hout, herr, false, &huge}),
            kExitInputErrors);
  EXPECT_NE(herr.str().find("longer than 4096"), std::string::npos) << herr.str();
  EXPECT_FALSE(fs::exists(data / kTokenFileName));

  // An empty first line leaves the token file as it is.
  std::istringstream empty("\n");
  std::ostringstream eout, eerr;
  EXPECT_EQ(runCli({"install", "prepare", "--data-dir", data.string(), "--default-config",
                    kDefaultConfig.string(), "--token-stdin"},
                   CliIo{eout, eerr, false, &empty}),
            kExitOk)
      << eerr.str();
  EXPECT_FALSE(fs::exists(data / kTokenFileName));
}

TEST(InstallCommand, PrepareAndVerifyFromTheCommandLineWriteTheInstallLog) {
  TempDir tmp;
  const fs::path data = tmp.path() / "Tier0Watch";
  std::ostringstream out, err;
  std::istringstream in("s3cr3t-token\r\nignored\n");
  int rc = runCli({"install", "prepare", "--data-dir", data.string(), "--default-config",
                   kDefaultConfig.string(), "--collector-url", "https://c:1/", "--token-stdin"},
                  CliIo{out, err, false, &in});
  EXPECT_EQ(rc, kExitOk) << err.str();
  std::string log = slurp(data / "logs" / "install.log");
  EXPECT_NE(log.find("collector.url https://c:1/"), std::string::npos) << log;
  EXPECT_EQ(slurp(data / kTokenFileName), "s3cr3t-token\n");
  // The token is a secret: neither the output nor the install log repeat it.
  EXPECT_EQ(out.str().find("s3cr3t"), std::string::npos) << out.str();
  EXPECT_EQ(log.find("s3cr3t"), std::string::npos) << log;

  std::ostringstream vout, verr;
  EXPECT_EQ(runCli({"install", "verify", "--data-dir", data.string()}, CliIo{vout, verr}), kExitOk)
      << verr.str();
  EXPECT_NE(vout.str().find("restricted to SYSTEM and Administrators (700)"), std::string::npos);

  std::ostringstream bout, berr;
  EXPECT_EQ(runCli({"install", "prepare", "--data-dir", data.string(), "--default-config",
                    kDefaultConfig.string(), "--collector-url", "gopher://x/"},
                   CliIo{bout, berr}),
            kExitInputErrors);
  EXPECT_NE(berr.str().find("gopher://x/"), std::string::npos) << berr.str();
  EXPECT_NE(slurp(data / "logs" / "install.log").find("gopher://x/"), std::string::npos);
}

}  // namespace
}  // namespace t0w::cli
