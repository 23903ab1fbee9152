// Transport settings per platform (agent/shipper/transport_factory.h): both rule sets are
// checked on every build; makeTransport builds this platform's transport.
#include "agent/shipper/transport_factory.h"

#include <gtest/gtest.h>

namespace t0w {
namespace {

AgentConfig base() {
  AgentConfig c;
  c.config_file = "agent.yaml";
  c.url = "https://collector.example:8443/";
  return c;
}

void expectRefused(const AgentConfig& c, HostPlatform p, const std::string& setting,
                   const std::string& hint) {
  const Status s = validateTransportConfig(c, p);
  ASSERT_FALSE(s) << setting;
  EXPECT_EQ(s.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(s.error().message.rfind("agent.yaml: " + setting, 0), 0u) << s.error().message;
  EXPECT_NE(s.error().message.find(hint), std::string::npos) << s.error().message;
}

TEST(TransportFactoryTest, PemFilesAreLinuxOnly) {
  AgentConfig c = base();
  c.ca_bundle = "ca.pem";
  EXPECT_TRUE(validateTransportConfig(c, HostPlatform::kLinux));
  expectRefused(c, HostPlatform::kWindows, "collector.ca_bundle", "LocalMachine\\Root");

  c = base();
  c.client_cert = "client.pem";
  c.client_key = "client.key";
  EXPECT_TRUE(validateTransportConfig(c, HostPlatform::kLinux));
  expectRefused(c, HostPlatform::kWindows, "collector.client_cert", "client_certificate");
}

TEST(TransportFactoryTest, CertificateStoreSelectorIsWindowsOnly) {
  AgentConfig c = base();
  c.client_certificate = "template:Tier0WatchAgent";
  EXPECT_TRUE(validateTransportConfig(c, HostPlatform::kWindows));
  expectRefused(c, HostPlatform::kLinux, "collector.client_certificate", "client_cert");

  c.client_certificate = "thumbprint:not-hex";
  expectRefused(c, HostPlatform::kWindows, "collector.client_certificate", "");
}

TEST(TransportFactoryTest, DirectProxyIsWindowsOnly) {
  AgentConfig c = base();
  c.proxy = "direct";
  EXPECT_TRUE(validateTransportConfig(c, HostPlatform::kWindows));
  expectRefused(c, HostPlatform::kLinux, "collector.proxy", "Windows only");
  c.proxy = "http://proxy.example:3128";
  EXPECT_TRUE(validateTransportConfig(c, HostPlatform::kLinux));
  EXPECT_TRUE(validateTransportConfig(c, HostPlatform::kWindows));
}

TEST(TransportFactoryTest, BuildsThisPlatformsTransport) {
  auto t = makeTransport(base(), "Tier0Watch/test");
  ASSERT_TRUE(t) << t.error().toString();
  EXPECT_NE(*t, nullptr);

  AgentConfig other = base();
#ifdef _WIN32
  other.ca_bundle = "ca.pem";
#else
  other.client_certificate = "subject:dc01";
#endif
  auto refused = makeTransport(other, "Tier0Watch/test");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kInvalidArgument);

  AgentConfig bad_url = base();
  bad_url.url = "ftp://collector.example/";
  EXPECT_FALSE(makeTransport(bad_url, "Tier0Watch/test"));
}

}  // namespace
}  // namespace t0w
