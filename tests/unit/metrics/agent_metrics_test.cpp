// AgentMetrics: counters per source and per stage rendered as Prometheus text (HELP/TYPE once per
// metric, escaped labels) and as the periodic log line; queue and shipper parts only when given.
#include "agent/metrics/agent_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace t0w {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(PrometheusLabelTest, EscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(prometheusLabel("Security"), "Security");
  EXPECT_EQ(prometheusLabel("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(prometheusLabel(""), "");
}

TEST(AgentMetricsTest, SourceCountersAreCreatedOnceAndKeptByName) {
  AgentMetrics m;
  SourceMetrics& a = m.source("Security");
  a.events_in += 3;
  EXPECT_EQ(&m.source("Security"), &a);
  EXPECT_EQ(m.source("Security").events_in.load(), 3u);
  EXPECT_NE(&m.source("System"), &a);
}

TEST(AgentMetricsTest, PrometheusTextHasEveryCounterWithHelpAndTypeOnce) {
  AgentMetrics m;
  m.source("Security").events_in = 10;
  m.source("Security").input_errors = 1;
  m.source("Security").enqueued = 9;
  m.source("say \"hi\"").events_in = 2;
  m.alerts = 4;
  m.enqueued_records = 13;
  m.dropped_queue_full = 5;
  m.dropped_too_large = 6;
  m.dropped_invalid = 9;
  m.enqueue_errors = 7;
  m.correlation.state_bytes = 123456;
  m.correlation.budget_evictions = 8;
  const std::string text = m.prometheusText(std::nullopt, nullptr);
  EXPECT_THAT(text, HasSubstr("# HELP t0w_source_events_total Events read by the source.\n"
                              "# TYPE t0w_source_events_total counter\n"));
  EXPECT_THAT(text, HasSubstr("t0w_source_events_total{source=\"Security\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("t0w_source_events_total{source=\"say \\\"hi\\\"\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("t0w_source_input_errors_total{source=\"Security\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("t0w_source_enqueued_total{source=\"Security\"} 9\n"));
  EXPECT_THAT(text, HasSubstr("t0w_alerts_total 4\n"));
  EXPECT_THAT(text, HasSubstr("t0w_enqueued_records_total 13\n"));
  EXPECT_THAT(text, HasSubstr("t0w_dropped_events_total{reason=\"queue_full\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("t0w_dropped_events_total{reason=\"too_large\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("t0w_dropped_events_total{reason=\"invalid\"} 9\n"));
  EXPECT_THAT(text, HasSubstr("t0w_enqueue_errors_total 7\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE t0w_correlation_state_bytes gauge\n"
                              "t0w_correlation_state_bytes 123456\n"));
  EXPECT_THAT(text, HasSubstr("t0w_correlation_budget_evictions_total 8\n"));
  EXPECT_EQ(count(text, "# TYPE t0w_source_events_total "), 1u);
  EXPECT_EQ(count(text, "# TYPE t0w_dropped_events_total "), 1u);
  // Without a shipper or a queue, neither part is rendered.
  EXPECT_THAT(text, Not(HasSubstr("t0w_shipped_records_total")));
  EXPECT_THAT(text, Not(HasSubstr("t0w_queue_records")));
  EXPECT_EQ(text.back(), '\n');
}

TEST(AgentMetricsTest, PrometheusTextCarriesTheShipperAndTheQueueWhenGiven) {
  AgentMetrics m;
  ShipperCounters shipper;
  shipper.records_shipped = 100;
  shipper.batches_sent = 3;
  shipper.retries = 2;
  shipper.splits = 1;
  shipper.auth_pauses = 1;
  QueueStats queue;
  queue.events = 42;
  queue.stored_bytes = 4096;
  queue.oldest_age = std::chrono::milliseconds(61'500);
  queue.dead_letter_chunks = 2;
  queue.drops["Security"].events = 8;
  const std::string text = m.prometheusText(queue, &shipper);
  EXPECT_THAT(text, HasSubstr("t0w_shipped_records_total 100\n"));
  EXPECT_THAT(text, HasSubstr("t0w_upload_requests_total 3\n"));
  EXPECT_THAT(text, HasSubstr("t0w_upload_retries_total 2\n"));
  EXPECT_THAT(text, HasSubstr("t0w_upload_splits_total 1\n"));
  EXPECT_THAT(text, HasSubstr("t0w_upload_auth_pauses_total 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE t0w_queue_records gauge\nt0w_queue_records 42\n"));
  EXPECT_THAT(text, HasSubstr("t0w_queue_bytes 4096\n"));
  EXPECT_THAT(text, HasSubstr("t0w_queue_lag_seconds 61\n"));  // whole seconds
  EXPECT_THAT(text, HasSubstr("t0w_queue_dead_letter_chunks 2\n"));
  EXPECT_THAT(text, HasSubstr("t0w_queue_dropped_events_total{source=\"Security\"} 8\n"));
}

TEST(AgentMetricsTest, AnEmptyQueueHasNoLag) {
  AgentMetrics m;
  const std::string text = m.prometheusText(QueueStats{}, nullptr);
  EXPECT_THAT(text, HasSubstr("t0w_queue_lag_seconds 0\n"));
}

TEST(AgentMetricsTest, LogLineSumsTheSourcesAndAddsShipperAndQueue) {
  AgentMetrics m;
  m.source("Security").events_in = 10;
  m.source("Security").input_errors = 1;
  m.source("System").events_in = 5;
  m.alerts = 2;
  m.enqueued_records = 17;
  m.dropped_queue_full = 3;
  EXPECT_EQ(m.logLine(std::nullopt, nullptr),
            "events in 15 (input errors 1), alerts 2, enqueued 17, dropped 3 (queue full) + 0 "
            "(too large) + 0 (invalid)");
  ShipperCounters shipper;
  shipper.records_shipped = 12;
  shipper.batches_sent = 2;
  QueueStats queue;
  queue.events = 5;
  queue.stored_bytes = 900;
  queue.oldest_age = std::chrono::milliseconds(1500);
  const std::string line = m.logLine(queue, &shipper);
  EXPECT_THAT(line, HasSubstr(", shipped 12, requests 2, retries 0, transport errors 0, dead "
                              "letters 0"));
  EXPECT_THAT(line, HasSubstr(", queue 5 records / 900 bytes, lag 1500 ms"));
}

}  // namespace
}  // namespace t0w
