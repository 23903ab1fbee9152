#include "common/http/url.h"

#include <gtest/gtest.h>

namespace t0w {
namespace {

TEST(UrlTest, HttpsWithDefaultPort) {
  auto url = parseUrl("https://Collector.Example.com");
  ASSERT_TRUE(url) << url.error().toString();
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "collector.example.com");
  EXPECT_EQ(url->port, "443");
  EXPECT_EQ(url->path, "");
  EXPECT_FALSE(url->hostIsIpLiteral());
  EXPECT_EQ(url->authority(), "collector.example.com:443");
}

TEST(UrlTest, ExplicitPortAndPathPrefix) {
  auto url = parseUrl("HTTPS://127.0.0.1:8443/ingest/");
  ASSERT_TRUE(url) << url.error().toString();
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "8443");
  EXPECT_EQ(url->path, "/ingest");
  EXPECT_TRUE(url->hostIsIpLiteral());
}

TEST(UrlTest, Ipv6Literal) {
  auto url = parseUrl("http://[::1]:3128");
  ASSERT_TRUE(url) << url.error().toString();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "3128");
  EXPECT_TRUE(url->hostIsIpLiteral());
  EXPECT_EQ(url->authority(), "[::1]:3128");
}

TEST(UrlTest, UserInfoIsPercentDecoded) {
  auto url = parseUrl("http://svc%40corp:p%3Ass@proxy.corp:8080");
  ASSERT_TRUE(url) << url.error().toString();
  EXPECT_EQ(url->username, "svc@corp");
  EXPECT_EQ(url->password, "p:ss");
  EXPECT_EQ(url->host, "proxy.corp");
  EXPECT_EQ(url->port, "8080");
}

TEST(UrlTest, RejectsBadInputWithoutEchoingSecrets) {
  for (const char* text :
       {"collector:443", "ftp://host", "https://", "https://host:0", "https://host:65536",
        "https://host:44x3", "https://[::1", "https://host/x?y=1", "https://host#frag",
        "http://user:hunter2@host:99999"}) {
    auto url = parseUrl(text);
    ASSERT_FALSE(url) << text;
    EXPECT_EQ(url.error().code, Errc::kInvalidArgument);
    EXPECT_EQ(url.error().message.find("hunter2"), std::string::npos);
  }
}

// Found by fuzz_url: a host that printed back as another host.
TEST(UrlTest, HostsWithColonsOutsideBracketsOrBracketsInsideAreRefused) {
  EXPECT_FALSE(parseUrl("http://:u:[1]13://x"));
  EXPECT_FALSE(parseUrl("https://a:b:443"));
  EXPECT_FALSE(parseUrl("https://[fe80::1]]:443"));
  EXPECT_FALSE(parseUrl("https://host\x05name:443"));
  EXPECT_FALSE(parseUrl("http://use@[A]:/h5us"));  // brackets hold an IPv6 literal only
  auto v6 = parseUrl("https://[fe80::1]:8443");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->authority(), "[fe80::1]:8443");
}

}  // namespace
}  // namespace t0w
