#include "agent/shipper/outcome.h"

#include <gtest/gtest.h>

#include "common/wire/wire_protocol.h"

namespace t0w {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;
using namespace std::chrono_literals;

// 2026-11-26 12:00:00 UTC, a fixed "now" instead of the wall clock.
system_clock::time_point fixedNow() {
  using namespace std::chrono;
  return system_clock::time_point(sys_days(year(2026) / 11 / 26)) + hours(12);
}

// An answer of the collector (it carries the protocol header).
TransportResult response(int status, HttpHeaders headers = {}) {
  HttpResponse r;
  r.status = status;
  r.headers = std::move(headers);
  r.headers.emplace_back(std::string(kCollectorHeader), std::string(kCollectorHeaderValue));
  return r;
}

// An answer of something else: a proxy, a load balancer, a web server behind a wrong URL.
TransportResult foreign(int status, std::string body = "<html>Not Found</html>") {
  HttpResponse r;
  r.status = status;
  r.headers = {{"Content-Type", "text/html"}};
  r.body = std::move(body);
  return r;
}

TEST(OutcomeTest, TwoHundredsAck) {
  for (int status : {200, 201, 202, 204, 299}) {
    const Outcome out = classifyOutcome(response(status), fixedNow());
    EXPECT_EQ(out.kind, OutcomeKind::kAck) << status;
    EXPECT_EQ(out.status, status);
  }
}

TEST(OutcomeTest, RetryableStatusesRetryAndSpendBudget) {
  for (int status : {408, 429, 500, 502, 503, 504, 599}) {
    const Outcome out = classifyOutcome(response(status), fixedNow());
    EXPECT_EQ(out.kind, OutcomeKind::kRetry) << status;
    EXPECT_TRUE(out.spends_retry_budget) << status;
    EXPECT_FALSE(out.retry_after.has_value()) << status;
  }
}

TEST(OutcomeTest, RetryAfterSecondsIsParsed) {
  const Outcome out = classifyOutcome(response(429, {{"Retry-After", "120"}}), fixedNow());
  EXPECT_EQ(out.kind, OutcomeKind::kRetry);
  ASSERT_TRUE(out.retry_after.has_value());
  EXPECT_EQ(*out.retry_after, seconds(120));
}

TEST(OutcomeTest, RetryAfterHttpDateIsParsed) {
  // fixedNow() + 90 s, header name in another case.
  const Outcome out = classifyOutcome(
      response(503, {{"retry-after", "Thu, 26 Nov 2026 12:01:30 GMT"}}), fixedNow());
  EXPECT_EQ(out.kind, OutcomeKind::kRetry);
  ASSERT_TRUE(out.retry_after.has_value());
  EXPECT_EQ(*out.retry_after, seconds(90));
}

TEST(OutcomeTest, RetryAfterInThePastMeansNoWait) {
  const Outcome out = classifyOutcome(
      response(503, {{"Retry-After", "Thu, 26 Nov 2026 11:00:00 GMT"}}), fixedNow());
  ASSERT_TRUE(out.retry_after.has_value());
  EXPECT_EQ(*out.retry_after, milliseconds(0));
}

TEST(OutcomeTest, GarbageRetryAfterIsIgnored) {
  for (const char* value : {"soon", "-5", "1.5", "", "Thu, 31 Nov 2026 12:00:00 GMT"}) {
    const Outcome out = classifyOutcome(response(429, {{"Retry-After", value}}), fixedNow());
    EXPECT_EQ(out.kind, OutcomeKind::kRetry) << value;
    EXPECT_FALSE(out.retry_after.has_value()) << value;
  }
}

TEST(OutcomeTest, RetryAfterOnNonRetryableStatusIsIgnored) {
  const Outcome out = classifyOutcome(response(413, {{"Retry-After", "30"}}), fixedNow());
  EXPECT_EQ(out.kind, OutcomeKind::kSplit);
  EXPECT_FALSE(out.retry_after.has_value());
}

TEST(OutcomeTest, TransportErrorsRetryWithoutSpendingBudget) {
  for (auto kind :
       {TransportErrorKind::kConnectRefused, TransportErrorKind::kDns,
        TransportErrorKind::kTlsVerification, TransportErrorKind::kTls,
        TransportErrorKind::kTimeout, TransportErrorKind::kReset, TransportErrorKind::kProxy,
        TransportErrorKind::kProtocol, TransportErrorKind::kOther}) {
    const Outcome out =
        classifyOutcome(TransportError{kind, "connecting to collector:443: boom"}, fixedNow());
    EXPECT_EQ(out.kind, OutcomeKind::kRetry) << transportErrorKindName(kind);
    EXPECT_FALSE(out.spends_retry_budget) << transportErrorKindName(kind);
    EXPECT_EQ(out.status, 0);
    EXPECT_NE(out.detail.find(transportErrorKindName(kind)), std::string::npos) << out.detail;
  }
}

TEST(OutcomeTest, PayloadTooLargeSplits) {
  const Outcome out = classifyOutcome(response(413), fixedNow());
  EXPECT_EQ(out.kind, OutcomeKind::kSplit);
  EXPECT_FALSE(out.spends_retry_budget);
}

TEST(OutcomeTest, AuthFailuresPause) {
  EXPECT_EQ(classifyOutcome(response(401), fixedNow()).kind, OutcomeKind::kPauseAuth);
  EXPECT_EQ(classifyOutcome(response(403), fixedNow()).kind, OutcomeKind::kPauseAuth);
}

TEST(OutcomeTest, OnlyTheCollectorsBatchRefusalDeadLetters) {
  for (int status : {400, 409, 422}) {
    const Outcome out =
        classifyOutcome(response(status, {{"Tier0Watch-Refusal", "batch"}}), fixedNow());
    EXPECT_EQ(out.kind, OutcomeKind::kDeadLetter) << status;
    EXPECT_FALSE(out.not_collector);
  }
}

TEST(OutcomeTest, CollectorClientErrorsAboutTheRequestPause) {
  // The collector's own 404 (wrong path), 405, 415: the configuration is wrong, not the batch.
  for (int status : {400, 404, 405, 409, 410, 415, 422, 451, 499}) {
    EXPECT_EQ(classifyOutcome(response(status), fixedNow()).kind, OutcomeKind::kPauseConfig)
        << status;
  }
}

TEST(OutcomeTest, AnswersWithoutTheCollectorHeaderAreTransportFailures) {
  // Issue 10: a proxy answering 404/405 dead-lettered whole batches.
  for (int status : {200, 201, 204, 400, 404, 405, 409, 410, 415, 422, 451, 499}) {
    const Outcome out = classifyOutcome(foreign(status), fixedNow(), "agent1:e:7");
    EXPECT_EQ(out.kind, OutcomeKind::kRetry) << status;
    EXPECT_FALSE(out.spends_retry_budget) << status;
    EXPECT_TRUE(out.not_collector) << status;
    EXPECT_NE(out.detail.find("not from the collector"), std::string::npos) << out.detail;
  }
  // A refusal header without the collector header is not the collector's refusal either.
  HttpResponse forged{400, {{"Tier0Watch-Refusal", "batch"}}, "{\"error\":\"malformed_batch\"}"};
  EXPECT_EQ(classifyOutcome(forged, fixedNow()).kind, OutcomeKind::kRetry);
}

TEST(OutcomeTest, ProxyServerErrorsDoNotSpendTheBatchsBudget) {
  const Outcome out = classifyOutcome(foreign(502), fixedNow());
  EXPECT_EQ(out.kind, OutcomeKind::kRetry);
  EXPECT_FALSE(out.spends_retry_budget);
  EXPECT_TRUE(out.not_collector);
}

TEST(OutcomeTest, AnAckNamingTheBatchIsTheCollectorsWithoutTheHeader) {
  // A collector from before the header acknowledges with the batch id in its body.
  const std::string body = R"({"batch_id":"agent1:e:7","status":"stored","stored":3})";
  EXPECT_EQ(classifyOutcome(foreign(200, body), fixedNow(), "agent1:e:7").kind, OutcomeKind::kAck);
  EXPECT_EQ(classifyOutcome(foreign(200, body), fixedNow(), "agent1:e:8").kind,
            OutcomeKind::kRetry);
  EXPECT_EQ(classifyOutcome(foreign(404, body), fixedNow(), "agent1:e:7").kind,
            OutcomeKind::kRetry);
}

TEST(OutcomeTest, UnexpectedStatusesPauseAsMisconfiguration) {
  // A redirect means the URL is wrong; dead-lettering would throw good events away.
  for (int status : {100, 301, 302, 307, 308, 0, 600, 999}) {
    EXPECT_EQ(classifyOutcome(response(status), fixedNow()).kind, OutcomeKind::kPauseConfig)
        << status;
  }
}

TEST(HttpDateTest, ThreeFormsGiveTheSameInstant) {
  const auto now = fixedNow();
  const auto imf = parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", now);
  const auto rfc850 = parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", now);
  const auto asctime = parseHttpDate("Sun Nov  6 08:49:37 1994", now);
  ASSERT_TRUE(imf && rfc850 && asctime);
  EXPECT_EQ(*imf, *rfc850);
  EXPECT_EQ(*imf, *asctime);
  EXPECT_EQ(std::chrono::duration_cast<seconds>(imf->time_since_epoch()).count(), 784111777);
}

TEST(HttpDateTest, Rfc850TwoDigitYearResolvesAgainstNow) {
  // From 2026, "30" is 2030 (not more than 50 years ahead) and "94" is 1994.
  const auto y30 = parseHttpDate("Tuesday, 01-Jan-30 00:00:00 GMT", fixedNow());
  ASSERT_TRUE(y30.has_value());
  EXPECT_EQ(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(*y30)).year(),
            std::chrono::year(2030));
  const auto y94 = parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", fixedNow());
  ASSERT_TRUE(y94.has_value());
  EXPECT_EQ(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(*y94)).year(),
            std::chrono::year(1994));
}

TEST(HttpDateTest, RejectsMalformedDates) {
  for (const char* value : {"Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Foo 1994 08:49:37 GMT",
                            "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                            "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
                            "Sun Nov  6 08:49 1994", "yesterday", ""}) {
    EXPECT_FALSE(parseHttpDate(value, fixedNow()).has_value()) << value;
  }
}

TEST(RetryAfterTest, SecondsFormSaturatesInsteadOfOverflowing) {
  const auto value = parseRetryAfter("99999999999999999999999999", fixedNow());
  ASSERT_TRUE(value.has_value());
  EXPECT_GT(*value, std::chrono::hours(24 * 365));
}

TEST(RetryAfterTest, SurroundingWhitespaceIsAccepted) {
  EXPECT_EQ(parseRetryAfter(" 5 ", fixedNow()), std::optional<milliseconds>(seconds(5)));
  EXPECT_EQ(parseRetryAfter("0", fixedNow()), std::optional<milliseconds>(milliseconds(0)));
}

// The collector's refusal code reaches the log ("HTTP 401 revoked"), free text does not.
TEST(ClassifyOutcome, DetailNamesTheCollectorsErrorCode) {
  const auto now = std::chrono::system_clock::now();
  auto with = [&](int status, std::string body) {
    return classifyOutcome(TransportResult(HttpResponse{
                               status, {{"Tier0Watch-Collector", "2"}}, std::move(body)}),
                           now)
        .detail;
  };
  EXPECT_EQ(with(401, R"({"error":"revoked","detail":"x"})"), "HTTP 401 revoked");
  EXPECT_EQ(with(403, R"({"error":"secret_exhausted"})"), "HTTP 403 secret_exhausted");
  EXPECT_EQ(with(401, R"({"error":"Bearer abc123"})"), "HTTP 401");
  EXPECT_EQ(with(500, "<html>oops</html>"), "HTTP 500");
  EXPECT_EQ(with(200, R"({"error":"none"})"), "HTTP 200");
}

}  // namespace
}  // namespace t0w
