#include "agent/service/service_spec.h"

#include <gtest/gtest.h>

namespace t0w {
namespace {

TEST(ServiceSpec, ArgumentsAreQuotedTheWayCommandLineToArgvWSplitsThem) {
  EXPECT_EQ(quoteWindowsArgument("plain"), "plain");
  EXPECT_EQ(quoteWindowsArgument(""), "\"\"");
  EXPECT_EQ(quoteWindowsArgument("C:\\Program Files\\x"), "\"C:\\Program Files\\x\"");
  // Trailing backslashes are doubled before the closing quote, or they would escape it.
  EXPECT_EQ(quoteWindowsArgument("C:\\a b\\"), "\"C:\\a b\\\\\"");
  EXPECT_EQ(quoteWindowsArgument("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(quoteWindowsArgument("a\\\"b"), "\"a\\\\\\\"b\"");
}

TEST(ServiceSpec, ImagePathIsAlwaysQuoted) {
  ServiceSpec s;
  s.executable = "C:\\Program Files\\Tier0Watch\\tier0watch.exe";
  s.config = "C:\\ProgramData\\Tier0Watch\\agent.yaml";
  EXPECT_EQ(serviceCommandLine(s),
            "\"C:\\Program Files\\Tier0Watch\\tier0watch.exe\" service run --config "
            "C:\\ProgramData\\Tier0Watch\\agent.yaml");
  s.executable = "C:\\t0w\\tier0watch.exe";  // no space: still quoted
  s.config = "C:\\Data Dir\\agent.yaml";
  EXPECT_EQ(serviceCommandLine(s),
            "\"C:\\t0w\\tier0watch.exe\" service run --config \"C:\\Data Dir\\agent.yaml\"");
}

TEST(ServiceSpec, DefaultsAreTheDocumentedChoices) {
  const ServiceSpec s;
  EXPECT_EQ(s.name, "Tier0Watch");
  EXPECT_EQ(s.account, "LocalSystem");
  EXPECT_EQ(s.sid_type, ServiceSidType::kUnrestricted);
  EXPECT_TRUE(s.delayed_auto_start);
  EXPECT_EQ(s.restart_delays.size(), 3u);
  EXPECT_TRUE(s.failure_actions_on_non_crash);
  EXPECT_GT(s.preshutdown_timeout, std::chrono::milliseconds(10'000))
      << "longer than Windows' 10 s default, or PRESHUTDOWN gains nothing";
}

}  // namespace
}  // namespace t0w
