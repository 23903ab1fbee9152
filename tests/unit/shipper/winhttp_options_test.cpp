#include "agent/shipper/winhttp_options.h"

#include <gtest/gtest.h>

namespace t0w {
namespace {

WinHttpTransportOptions withUrl(std::string url) {
  WinHttpTransportOptions options;
  options.url = std::move(url);
  return options;
}

TEST(WinHttpOptionsTest, HttpsWithSystemProxyByDefault) {
  auto target = validateWinHttpOptions(withUrl("https://collector.corp.example:8443/ingest"));
  ASSERT_TRUE(target) << target.error().toString();
  EXPECT_EQ(target->url.host, "collector.corp.example");
  EXPECT_EQ(target->url.port, "8443");
  EXPECT_EQ(target->url.path, "/ingest");
  EXPECT_EQ(target->proxy_mode, ProxyMode::kSystem);
  EXPECT_FALSE(target->proxy);
}

TEST(WinHttpOptionsTest, PlainHttpNeedsAllowInsecure) {
  auto options = withUrl("http://collector:8080");
  auto refused = validateWinHttpOptions(options);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("allow_insecure"), std::string::npos);
  options.allow_insecure = true;
  EXPECT_TRUE(validateWinHttpOptions(options));
}

TEST(WinHttpOptionsTest, RefusesCredentialsInCollectorUrlWithoutEchoingThem) {
  auto result = validateWinHttpOptions(withUrl("https://user:s3cr3t@collector"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message.find("s3cr3t"), std::string::npos);
}

TEST(WinHttpOptionsTest, RefusesMalformedUrl) {
  auto result = validateWinHttpOptions(withUrl("ftp://collector"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(validateWinHttpOptions(withUrl("")));
}

TEST(WinHttpOptionsTest, ProxyModes) {
  auto options = withUrl("https://collector");
  options.proxy_url = "direct";
  auto direct = validateWinHttpOptions(options);
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->proxy_mode, ProxyMode::kDirect);

  options.proxy_url = "http://svc%40corp:p%3Ass@proxy.corp.example:3128";
  auto named = validateWinHttpOptions(options);
  ASSERT_TRUE(named) << named.error().toString();
  EXPECT_EQ(named->proxy_mode, ProxyMode::kNamed);
  ASSERT_TRUE(named->proxy);
  EXPECT_EQ(named->proxy->authority(), "proxy.corp.example:3128");
  EXPECT_EQ(named->proxy->username, "svc@corp");
  EXPECT_EQ(named->proxy->password, "p:ss");

  options.proxy_url = "https://proxy:3128";
  EXPECT_FALSE(validateWinHttpOptions(options));
  options.proxy_url = "http://proxy:3128/path";
  EXPECT_FALSE(validateWinHttpOptions(options));
  options.proxy_url = "not a url";
  EXPECT_FALSE(validateWinHttpOptions(options));
}

TEST(WinHttpOptionsTest, LimitsAndHeaders) {
  auto options = withUrl("https://collector");
  options.max_response_bytes = 0;
  EXPECT_FALSE(validateWinHttpOptions(options));
  options.max_response_bytes = 1;
  options.user_agent = "Tier0Watch\r\nX-Injected: 1";
  EXPECT_FALSE(validateWinHttpOptions(options));
  options.user_agent = "Tier0Watch/1.0";
  options.client_cert.match = ClientCertMatch::kSubject;
  options.client_cert.value = "dc01";
  options.client_cert_store = "";
  EXPECT_FALSE(validateWinHttpOptions(options));
  options.client_cert_store = "My";
  EXPECT_TRUE(validateWinHttpOptions(options));
}

}  // namespace
}  // namespace t0w
