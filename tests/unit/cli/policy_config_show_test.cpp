// `tier0watch config show`: every setting with its value and source, secrets redacted, through
// the command line (file only here) and through the renderer with a Group Policy overlay.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "agent/cli/cli.h"
#include "agent/cli/config_command.h"

namespace t0w {
namespace {

class ConfigShowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("t0w-config-show-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    file_ = dir_ / "agent.yaml";
    std::ofstream(file_) << "agent: {log_level: warn}\n"
                         << "collector:\n  url: https://file.example\n  token: s3cr3t-token\n"
                         << "  proxy: \"http://user:pw@proxy:3128\"\n";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_, file_;
};

TEST_F(ConfigShowTest, JsonListsEverySettingWithItsSourceAndNoSecret) {
  std::ostringstream out, err;
  const int rc =
      cli::runCli({"config", "show", "--config", file_.string(), "--json"}, cli::CliIo{out, err});
  ASSERT_EQ(rc, cli::kExitOk) << err.str();
  EXPECT_EQ(out.str().find("s3cr3t"), std::string::npos);
  EXPECT_EQ(out.str().find("pw@"), std::string::npos);
  const auto j = nlohmann::json::parse(out.str());
  std::map<std::string, nlohmann::json> by_key;
  for (const auto& s : j.at("settings")) by_key[s.at("key")] = s;
  EXPECT_EQ(by_key.at("collector.url").at("value"), "https://file.example");
  EXPECT_EQ(by_key.at("collector.url").at("source"), "file:" + file_.string() + ":3");
  EXPECT_EQ(by_key.at("collector.token").at("value"), "<set>");
  EXPECT_EQ(by_key.at("collector.token").at("secret"), true);
  EXPECT_EQ(by_key.at("collector.proxy").at("value"), "<set>");
  EXPECT_EQ(by_key.at("agent.log_level").at("source"), "file:" + file_.string() + ":1");
  EXPECT_EQ(by_key.at("batch.max_events").at("source"), "default");
  EXPECT_EQ(by_key.at("windows.security").at("value"), true);
#ifdef _WIN32
  EXPECT_EQ(j.at("policy"), "HKLM\\SOFTWARE\\Policies\\Tier0Watch");
#else
  EXPECT_TRUE(j.at("policy").is_null()) << "no registry on this platform";
#endif
}

TEST_F(ConfigShowTest, TextShowsPolicySourcesAndIssues) {
  MemoryPolicySource policy;
  policy.set("", "CollectorUrl", PolicyValue::string("https://gpo.example"));
  policy.set("", "LogLevel", PolicyValue::string("loud"));
  auto e = loadEffectiveConfig(file_, &policy);
  ASSERT_TRUE(e) << e.error().toString();
  const std::string text =
      cli::renderEffectiveConfig(*e, "HKLM\\SOFTWARE\\Policies\\Tier0Watch", false);
  std::istringstream lines(text);
  std::string line;
  bool url = false, level = false, warning = false;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string key, value, source;
    words >> key >> value >> source;
    if (key == "collector.url") {
      url = value == "https://gpo.example" && source == "policy:CollectorUrl";
    }
    if (key == "agent.log_level") level = value == "warn" && source.starts_with("file:");
    if (line.starts_with("warning: policy LogLevel: \"loud\"")) warning = true;
  }
  EXPECT_TRUE(url) << text;
  EXPECT_TRUE(level) << text;
  EXPECT_TRUE(warning) << text;
  EXPECT_EQ(text.find("s3cr3t"), std::string::npos);
}

TEST_F(ConfigShowTest, MissingFileIsAUsageErrorNamingIt) {
  std::ostringstream out, err;
  const int rc = cli::runCli({"config", "show", "--config", (dir_ / "nope.yaml").string()},
                             cli::CliIo{out, err});
  EXPECT_EQ(rc, cli::kExitUsage);
  EXPECT_NE(err.str().find("nope.yaml: cannot read the configuration file"), std::string::npos)
      << err.str();
}

}  // namespace
}  // namespace t0w
