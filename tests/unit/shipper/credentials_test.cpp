// Credentials: a configured credential is sent as it is; a site enrolment secret is exchanged
// once for the agent's own credential, stored, and read again before each upload. A scripted
// Transport stands in for the collector; nothing sleeps.
#include "agent/shipper/credentials.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/fakes/fake_transport.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

// Answers the enrolment with a credential.
testing::FakeTransport enrolTransport() {
  testing::FakeTransport t;
  t.answer = HttpResponse{
      200,
      {{"Tier0Watch-Collector", "2"}},
      R"({"agent":"dc01","agent_id":"a1","credential":")" + std::string(64, 'c') + "\"}"};
  return t;
}

class CredentialsTest : public ::testing::Test {
 protected:
  CredentialOptions options(const std::string& configured) {
    CredentialOptions o;
    o.configured = configured;
    o.credential_file = dir_.path() / "agent.credential";
    o.agent = AgentIdentity{"a1", "DC01", "0.1.0"};
    return o;
  }
  const std::chrono::system_clock::time_point now_{std::chrono::seconds(1767323045)};
  testing::TempDir dir_;
  testing::FakeTransport transport_ = enrolTransport();
};

TEST_F(CredentialsTest, AConfiguredCredentialIsSentAsItIs) {
  Credentials c(options("plain-agent-token"), transport_);
  EXPECT_FALSE(c.usesSiteSecret());
  auto t = c.token(now_);
  ASSERT_TRUE(std::holds_alternative<std::string>(t));
  EXPECT_EQ(std::get<std::string>(t), "plain-agent-token");
  EXPECT_TRUE(transport_.sent.empty());
}

TEST_F(CredentialsTest, ASiteSecretIsExchangedOnceAndTheCredentialKept) {
  const std::string secret = "t0wsite_" + std::string(64, 's');
  Credentials c(options(secret), transport_);
  EXPECT_TRUE(c.usesSiteSecret());
  auto t = c.token(now_);
  ASSERT_TRUE(std::holds_alternative<std::string>(t));
  EXPECT_EQ(std::get<std::string>(t), std::string(64, 'c'));
  ASSERT_EQ(transport_.sent.size(), 1u);
  EXPECT_EQ(transport_.sent[0].path, "/api/v1/enroll");
  EXPECT_EQ(transport_.sent[0].bearer_token, secret);
  const auto body = nlohmann::json::parse(transport_.sent[0].body);
  EXPECT_EQ(body["agent_id"], "a1");
  EXPECT_EQ(body["hostname"], "DC01");
  EXPECT_EQ(*readCredentialFile(dir_.path() / "agent.credential"), std::string(64, 'c'));
#ifndef _WIN32
  const auto perms = std::filesystem::status(dir_.path() / "agent.credential").permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
#endif

  // From then on the stored credential, without asking again; a rotated one written to the
  // file is picked up at the next upload.
  EXPECT_EQ(std::get<std::string>(c.token(now_)), std::string(64, 'c'));
  ASSERT_TRUE(writeCredentialFile(dir_.path() / "agent.credential", std::string(64, 'r')));
  EXPECT_EQ(std::get<std::string>(Credentials(options(secret), transport_).token(now_)),
            std::string(64, 'r'));
  EXPECT_EQ(transport_.sent.size(), 1u);
}

TEST_F(CredentialsTest, RefusalsPauseAndFailuresRetryWithoutStoringAnything) {
  const std::string secret = "t0wsite_" + std::string(64, 's');
  Credentials c(options(secret), transport_);
  for (int status : {401, 403, 409}) {
    transport_.answer =
        HttpResponse{status, {{"Tier0Watch-Collector", "2"}}, R"({"error":"secret_exhausted"})"};
    auto t = c.token(now_);
    ASSERT_TRUE(std::holds_alternative<Outcome>(t)) << status;
    EXPECT_EQ(std::get<Outcome>(t).kind, OutcomeKind::kPauseAuth) << status;
    EXPECT_NE(std::get<Outcome>(t).detail.find("enrolment"), std::string::npos);
    EXPECT_EQ(std::get<Outcome>(t).detail.find(secret), std::string::npos) << "never the secret";
  }
  transport_.answer = TransportError{TransportErrorKind::kConnectRefused, "refused"};
  auto t = c.token(now_);
  ASSERT_TRUE(std::holds_alternative<Outcome>(t));
  EXPECT_EQ(std::get<Outcome>(t).kind, OutcomeKind::kRetry);
  transport_.answer = HttpResponse{200, {{"Tier0Watch-Collector", "2"}}, R"({"agent":"x"})"};
  t = c.token(now_);
  ASSERT_TRUE(std::holds_alternative<Outcome>(t));
  EXPECT_EQ(std::get<Outcome>(t).kind, OutcomeKind::kPauseConfig);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "agent.credential"));
}

}  // namespace
}  // namespace t0w
