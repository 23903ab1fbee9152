// Config validation, secrets, rate limiting and the syslog message format of the collector.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tools/collector/config.h"
#include "tools/collector/forwarder.h"
#include "tools/collector/rate_limiter.h"
#include "tools/collector/security.h"

namespace t0w::collector {
namespace {

TEST(CollectorConfigTest, DefaultsAreValid) {
  auto c = parseConfig("", "defaults");
  ASSERT_TRUE(c) << c.error().toString();
  EXPECT_EQ(c->storage_driver, "sqlite");
  EXPECT_EQ(c->listen_port, 8443);
  EXPECT_EQ(c->sqliteFile(), "/var/lib/tier0watch-collector/collector.db");
}

TEST(CollectorConfigTest, OverlaysValues) {
  auto c = parseConfig("listen:\n  port: 0\nstate_dir: /tmp/x\nlimits:\n  max_body_bytes: 4096\n",
                       "c.yaml");
  ASSERT_TRUE(c) << c.error().toString();
  EXPECT_EQ(c->listen_port, 0);
  EXPECT_EQ(c->listen_address, "127.0.0.1");  // untouched default
  EXPECT_EQ(c->max_body_bytes, 4096);
  EXPECT_EQ(c->sqliteFile(), "/tmp/x/collector.db");
}

TEST(CollectorConfigTest, UnknownKeysAreErrorsNamingThePath) {
  auto c = parseConfig("limits:\n  max_body: 5\n", "c.yaml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("unknown key limits.max_body"), std::string::npos)
      << c.error().message;
  EXPECT_NE(c.error().message.find("c.yaml"), std::string::npos);
}

TEST(CollectorConfigTest, RejectsBadValues) {
  EXPECT_FALSE(parseConfig("listen: {port: 70000}", "c"));
  EXPECT_FALSE(parseConfig("listen: {port: eighty}", "c"));
  EXPECT_FALSE(parseConfig("storage: {driver: mysql}", "c"));
  EXPECT_FALSE(parseConfig("storage: {driver: postgres}", "c"));  // needs postgres_url
  EXPECT_FALSE(parseConfig("forward: {splunk: {enabled: true}}", "c"));
  EXPECT_FALSE(parseConfig("listen: [1, 2]", "c"));
  EXPECT_FALSE(parseConfig("- a\n- b\n", "c"));
  EXPECT_FALSE(parseConfig("listen: {port: 1\n", "c"));  // YAML syntax error, no throw
  EXPECT_FALSE(parseConfig("tls: {cert_file: a.pem}", "c"));
  EXPECT_FALSE(parseConfig("worker_threads: 0", "c"));
  EXPECT_FALSE(parseConfig("storage: {sqlite_synchronous: off}", "c"));
  EXPECT_FALSE(parseConfig("limits: {max_json_depth: 2}", "c"));
  EXPECT_FALSE(parseConfig("limits: {max_connections_per_ip: 0}", "c"));
  EXPECT_FALSE(parseConfig("limits: {request_timeout_seconds: 0}", "c"));
}

TEST(CollectorConfigTest, HardeningDefaults) {
  auto c = parseConfig("", "defaults");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->sqlite_synchronous, "full");
  EXPECT_EQ(c->max_json_depth, 64);
  EXPECT_EQ(c->max_api_body_bytes, 65536);
  EXPECT_EQ(c->max_connections_per_ip, 64);
  EXPECT_EQ(c->worker_threads, 4);
}

TEST(CollectorSecurityTest, TokensAreRandomAndHashed) {
  auto a = newToken();
  auto b = newToken();
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->size(), 64u);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "abcd"));
}

TEST(CollectorSecurityTest, PasswordsUseSaltedPbkdf2) {
  auto u1 = hashPassword("u", "secret password", 1000, 0);
  auto u2 = hashPassword("u", "secret password", 1000, 0);
  ASSERT_TRUE(u1);
  ASSERT_TRUE(u2);
  EXPECT_NE(u1->salt, u2->salt);
  EXPECT_NE(u1->hash, u2->hash);
  EXPECT_TRUE(verifyPassword(*u1, "secret password"));
  EXPECT_FALSE(verifyPassword(*u1, "secret passwort"));
  UserRecord damaged = *u1;
  damaged.salt = "zz";
  EXPECT_FALSE(verifyPassword(damaged, "secret password"));
  EXPECT_GE(kPbkdf2Iterations, 600000);
}

TEST(CollectorRateLimiterTest, BurstThenRefill) {
  RateLimiter limiter(2.0, 3.0);
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  EXPECT_FALSE(limiter.acquire("a", t0));
  EXPECT_FALSE(limiter.acquire("a", t0));
  EXPECT_FALSE(limiter.acquire("a", t0));
  auto wait = limiter.acquire("a", t0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(wait->count(), 500);
  EXPECT_FALSE(limiter.acquire("b", t0));  // per agent
  EXPECT_FALSE(limiter.acquire("a", t0 + std::chrono::milliseconds(500)));
  EXPECT_TRUE(limiter.acquire("a", t0 + std::chrono::milliseconds(500)));
}

TEST(CollectorSyslogTest, Rfc5424MessageFromPayload) {
  const std::string payload =
      R"({"kind":"alert","key":"a|alert|1","agent":"dc01","host":"DC01.corp","time":1700000000000000,"body":{"level":"high"}})";
  const std::string msg = syslogMessage(payload, "tier0watch");
  // PRI = facility 13 * 8 + severity 3 (high), version 1, RFC 3339 UTC time.
  EXPECT_EQ(msg.rfind("<107>1 2023-11-14T22:13:20.0000000Z DC01.corp tier0watch - alert - {", 0),
            0u)
      << msg;
  EXPECT_NE(msg.find(payload), std::string::npos);
  const std::string bad = syslogMessage(R"({"kind":"event","host":"has space"})", "t w");
  EXPECT_NE(bad.find(" hasspace tw - event - "), std::string::npos) << bad;
}

}  // namespace
}  // namespace t0w::collector
