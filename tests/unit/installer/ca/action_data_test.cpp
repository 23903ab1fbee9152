#include "installer/ca/action_data.h"

#include <gtest/gtest.h>

#ifdef _WIN32
#include <windows.h>
// clang-format off: shellapi.h needs windows.h first
#include <shellapi.h>
// clang-format on
#endif

namespace t0w::installer {
namespace {

TEST(PrepareActionData, SplitsFourFieldsAndKeepsTheRestAsToken) {
  auto d = parsePrepareActionData(
      "C:\\Program Files\\Tier0Watch\\tier0watch.exe|C:\\ProgramData\\Tier0Watch|C:\\Program "
      "Files\\Tier0Watch\\tier0watch.default.yaml|https://collector:8443/"
      "|security=0;pta_agent_admin=;system_service_and_clear=1|site:abc|def");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->exe, "C:\\Program Files\\Tier0Watch\\tier0watch.exe");
  EXPECT_EQ(d->data_dir, "C:\\ProgramData\\Tier0Watch");
  EXPECT_EQ(d->default_config, "C:\\Program Files\\Tier0Watch\\tier0watch.default.yaml");
  EXPECT_EQ(d->collector_url, "https://collector:8443/");
  EXPECT_EQ(d->token, "site:abc|def");
  // An empty SOURCE_* property leaves that source alone: no switch for it.
  EXPECT_EQ(d->sources, (std::vector<std::string>{"security=0", "system_service_and_clear=1"}));
}

TEST(PrepareActionData, RejectsMissingFields) {
  EXPECT_FALSE(parsePrepareActionData(""));
  EXPECT_FALSE(parsePrepareActionData("a|b|c"));                         // no URL field
  EXPECT_FALSE(parsePrepareActionData("C:\\t.exe|C:\\d|C:\\c.yaml||"));  // no sources field
  EXPECT_FALSE(parsePrepareActionData("|C:\\d|C:\\c.yaml|||"));          // no exe
  EXPECT_FALSE(parsePrepareActionData("C:\\t.exe||C:\\c.yaml|||"));
  auto bare = parsePrepareActionData("C:\\t.exe|C:\\d|C:\\c.yaml|||");
  ASSERT_TRUE(bare);
  EXPECT_TRUE(bare->collector_url.empty());
  EXPECT_TRUE(bare->token.empty());
  EXPECT_TRUE(bare->sources.empty());
}

TEST(PrepareActionData, TheTokenIsNeverOnTheCommandLine) {
  PrepareActionData d{"C:\\Program Files\\Tier0Watch\\tier0watch.exe",
                      "C:\\ProgramData\\Tier0Watch",
                      "C:\\x.yaml",
                      "https://c/",
                      {"security=0", "powershell_script_block=0"},
                      "s3cr3t"};
  const std::string cmd = prepareCommandLine(d);
  EXPECT_EQ(cmd,
            "\"C:\\Program Files\\Tier0Watch\\tier0watch.exe\" install prepare --data-dir "
            "C:\\ProgramData\\Tier0Watch --default-config C:\\x.yaml --collector-url https://c/ "
            "--source security=0 --source powershell_script_block=0 --token-stdin");
  EXPECT_EQ(cmd.find("s3cr3t"), std::string::npos);
  d.token.clear();
  d.collector_url.clear();
  d.sources.clear();
  EXPECT_EQ(prepareCommandLine(d).find("--token-stdin"), std::string::npos);
  EXPECT_EQ(prepareCommandLine(d).find("--collector-url"), std::string::npos);
  EXPECT_EQ(prepareCommandLine(d).find("--source"), std::string::npos);
}

TEST(PrepareActionData, QuotesLikeCommandLineToArgvW) {
  EXPECT_EQ(quoteWindowsArgument("plain"), "plain");
  EXPECT_EQ(quoteWindowsArgument(""), "\"\"");
  EXPECT_EQ(quoteWindowsArgument("a b"), "\"a b\"");
  EXPECT_EQ(quoteWindowsArgument("C:\\dir with space\\"), "\"C:\\dir with space\\\\\"");
  EXPECT_EQ(quoteWindowsArgument("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(quoteWindowsArgument("a\\\\\"b c"), "\"a\\\\\\\\\\\"b c\"");
#ifdef _WIN32
  // Round trip through Windows' own parser (under Wine in CI).
  for (const char* arg : {"C:\\dir with space\\", "say \"hi\"", "a\\\\\"b c", "x\\y z", "\"\""}) {
    std::string cmd = "prog.exe " + quoteWindowsArgument(arg);
    std::wstring wide(cmd.begin(), cmd.end());
    int argc = 0;
    LPWSTR* argv = CommandLineToArgvW(wide.c_str(), &argc);
    ASSERT_NE(argv, nullptr);
    ASSERT_EQ(argc, 2) << cmd;
    std::wstring got(argv[1]);
    LocalFree(argv);
    EXPECT_EQ(std::string(got.begin(), got.end()), arg) << cmd;
  }
#endif
}

}  // namespace
}  // namespace t0w::installer
