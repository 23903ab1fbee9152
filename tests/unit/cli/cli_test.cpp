#include "agent/cli/cli.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/unit/cli/temp_dir.h"

namespace t0w::cli {
namespace {

using testing::TempDir;

constexpr const char* kEventXml =
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
    "<Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4794</EventID>"
    "<TimeCreated SystemTime='2024-05-14T08:46:00.0000000Z'/><EventRecordID>7</EventRecordID>"
    "<Channel>Security</Channel><Computer>DC01</Computer></System><EventData>"
    "<Data Name='SubjectUserName'>Administrator</Data><Data Name='Status'>0x0</Data>"
    "</EventData></Event>\n";

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CliRun cli(const std::vector<std::string>& args, bool terminal = false) {
  std::ostringstream out, err;
  CliRun r;
  r.exit_code = runCli(args, CliIo{out, err, terminal});
  r.out = out.str();
  r.err = err.str();
  return r;
}

TEST(Cli, VersionAndUsageErrors) {
  CliRun v = cli({"--version"});
  EXPECT_EQ(v.exit_code, kExitOk);
  EXPECT_EQ(v.out.rfind("tier0watch ", 0), 0u);
  EXPECT_EQ(cli({}).exit_code, kExitUsage);
  EXPECT_EQ(cli({"scan"}).exit_code, kExitUsage);
  EXPECT_EQ(cli({"nope"}).exit_code, kExitUsage);
  CliRun missing = cli({"scan", "/nonexistent/file.evtx"});
  EXPECT_EQ(missing.exit_code, kExitUsage);
  EXPECT_NE(missing.err.find("/nonexistent/file.evtx"), std::string::npos);
  TempDir dir;
  EXPECT_EQ(cli({"scan", "--format", "csv", dir.path().string()}).exit_code, kExitUsage);
  EXPECT_EQ(cli({"scan", "--help"}).exit_code, kExitOk);
}

TEST(Cli, ScanPrintsEventsAsJsonLinesAndASummary) {
  TempDir dir;
  const auto file = dir.write("one.xml", std::string(kEventXml) + kEventXml);
  CliRun r = cli({"scan", "--events", file.string()});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["System"]["EventID"], 4794);
    EXPECT_EQ(j["Origin"]["Source"], file.string());
    ++n;
  }
  EXPECT_EQ(n, 2);
  EXPECT_EQ(r.err.rfind("scan: 1 files, 2 records, 0 errors, ", 0), 0u) << r.err;
}

TEST(Cli, ScanWithoutEventsPrintsOnlyTheSummary) {
  TempDir dir;
  const auto file = dir.write("one.xml", kEventXml);
  CliRun r = cli({"scan", file.string()});
  EXPECT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(r.out, "");
}

TEST(Cli, ScanTableFormatAndOutputFile) {
  TempDir dir;
  const auto file = dir.write("one.xml", kEventXml);
  const auto out = dir.path() / "out.txt";
  CliRun r = cli({"scan", "--events", "--format", "table", "-o", out.string(), file.string()});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "");
  std::ifstream in(out);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  EXPECT_EQ(header.rfind("TIME (UTC)", 0), 0u);
  EXPECT_NE(row.find("4794"), std::string::npos);
  EXPECT_NE(row.find("SubjectUserName=Administrator"), std::string::npos);
}

TEST(Cli, BadInputIsNamedTheRestIsReadAndExitIsOne) {
  TempDir dir;
  const auto good = dir.write("a_good.xml", kEventXml);
  const auto bad = dir.write("b_bad.evtx", "definitely not an evtx file");
  CliRun r = cli({"scan", "--events", dir.path().string()});
  EXPECT_EQ(r.exit_code, kExitInputErrors);
  EXPECT_NE(r.err.find("error: " + bad.string() + ": "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("scan: 2 files, 1 records, 1 errors"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find(good.string()), std::string::npos);
}

TEST(Cli, ProgressOnlyOnATerminal) {
  TempDir dir;
  const auto file = dir.write("one.xml", kEventXml);
  CliRun quiet = cli({"scan", file.string()}, false);
  EXPECT_EQ(quiet.err.find('\r'), std::string::npos);
  CliRun tty = cli({"scan", file.string()}, true);
  EXPECT_NE(tty.err.find("\r"), std::string::npos);
  EXPECT_NE(tty.err.find("1/1 files"), std::string::npos) << tty.err;
  // The progress line is cleared before the summary.
  EXPECT_NE(tty.err.find("\r\x1b[Kscan: 1 files"), std::string::npos);
}

}  // namespace
}  // namespace t0w::cli

namespace t0w::cli {
namespace {

// `--pack NAME` finds the built-in pack (here: the source tree's, as a build does) and raises
// its alerts; the DSRM event above is one of them.
TEST(CliPacks, ScanAndCheckWithTheBuiltInPack) {
  TempDir dir;
  const auto file = dir.write("dsrm.xml", kEventXml);
  CliRun r = cli({"scan", "--pack", "tier0", file.string()});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  const auto alert = nlohmann::json::parse(r.out);
  EXPECT_EQ(alert["rule_title"], "Directory Services Restore Mode password set");
  EXPECT_NE(r.err.find(" 0 rejected"), std::string::npos) << r.err;
  CliRun check = cli({"rules", "check", "--pack", "tier0"});
  EXPECT_EQ(check.exit_code, kExitOk) << check.out;
  EXPECT_NE(check.out.find("pack tier0: "), std::string::npos);
}

// --rule-cache: the second scan takes the pack's rules from the cache and alerts the same; a
// damaged cache is a warning, not a failure.
TEST(CliPacks, ScanWithARuleCache) {
  TempDir dir;
  const auto file = dir.write("dsrm.xml", kEventXml);
  const std::string cache = (dir.path() / "cache" / "rules.bin").string();
  CliRun cold = cli({"scan", "--pack", "tier0", "--rule-cache", cache, file.string()});
  EXPECT_EQ(cold.exit_code, kExitOk) << cold.err;
  ASSERT_TRUE(std::filesystem::exists(cache));
  CliRun warm = cli({"scan", "--pack", "tier0", "--rule-cache", cache, file.string()});
  EXPECT_EQ(warm.exit_code, kExitOk) << warm.err;
  EXPECT_EQ(warm.out, cold.out);
  EXPECT_EQ(warm.err.find("rule cache"), std::string::npos) << warm.err;
  dir.write("cache/rules.bin", "not a cache");
  CliRun damaged = cli({"scan", "--pack", "tier0", "--rule-cache", cache, file.string()});
  EXPECT_EQ(damaged.exit_code, kExitOk) << damaged.err;
  EXPECT_EQ(damaged.out, cold.out);
  EXPECT_NE(damaged.err.find("warning: rule cache: "), std::string::npos) << damaged.err;
}

// `run --pack` switches packs on over the configuration (here checked with --check-config, which
// prints the configuration the agent would start with).
TEST(CliPacks, RunPackSwitchesPacksOnOverTheConfiguration) {
  TempDir dir;
  const auto config = dir.write("agent.yaml",
                                "collector: {url: \"https://collector.example/\"}\n"
                                "rules: {packs: {tier0: false}}\n");
  CliRun off = cli({"run", "--config", config.string(), "--check-config"});
  EXPECT_EQ(off.exit_code, kExitOk) << off.err;
  EXPECT_NE(off.out.find("packs <none>"), std::string::npos) << off.out;
  CliRun on = cli(
      {"run", "--config", config.string(), "--check-config", "--pack", "tier0", "--pack", "extra"});
  EXPECT_EQ(on.exit_code, kExitOk) << on.err;
  EXPECT_NE(on.out.find("packs tier0,extra"), std::string::npos) << on.out;
}

TEST(CliPacks, UnknownPackAndBadPlaceholderAreUsageErrors) {
  TempDir dir;
  const auto file = dir.write("dsrm.xml", kEventXml);
  CliRun r = cli({"scan", "--pack", "no-such-pack", file.string()});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_NE(r.err.find("rule pack 'no-such-pack' not found"), std::string::npos) << r.err;
  EXPECT_EQ(cli({"scan", "--pack", "tier0", "--placeholder", "x", file.string()}).exit_code,
            kExitUsage);
  EXPECT_EQ(cli({"rules", "check"}).exit_code, kExitUsage);
  EXPECT_EQ(cli({"rules", "test", "--pack", "tier0", dir.path().string()}).exit_code, kExitUsage);
}

}  // namespace
}  // namespace t0w::cli
