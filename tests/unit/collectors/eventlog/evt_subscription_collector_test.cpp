#include "collectors/eventlog/evt_subscription_collector.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/collectors/eventlog/evt_api_double.h"

namespace t0w {
namespace {

using ::t0w::testing::bookmarkXml;
using ::t0w::testing::eventXml;
using ::t0w::testing::ScriptedEvtApi;

class FixedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1714557600));
  }
  std::chrono::steady_clock::time_point monotonic() const override { return {}; }
};

struct RecordingSink : EventSink {
  std::vector<Event> events;
  std::vector<InputError> errors;
  void onEvent(Event&& event) override { events.push_back(std::move(event)); }
  void onError(const InputError& error) override { errors.push_back(error); }
};

std::string field(const Event& e, std::string_view name) {
  const std::string* v = e.find(name);
  return v ? *v : "<absent>";
}

bool isGap(const Event& e) {
  return e.system.provider_name == kGapProvider && e.system.event_id == kGapEventId;
}

std::vector<uint64_t> recordIds(const std::vector<Event>& events) {
  std::vector<uint64_t> ids;
  for (const Event& e : events) {
    if (!isGap(e)) ids.push_back(e.system.record_id);
  }
  return ids;
}

class EvtSubscriptionTest : public ::testing::Test {
 protected:
  void fill(uint64_t first, uint64_t last, const std::string& channel = "Security") {
    for (uint64_t id = first; id <= last; ++id) api.channels[channel][id] = eventXml(id, channel);
  }

  CollectorSummary run() {
    options.on_checkpoint = [this](const std::string& xml) { checkpoints.push_back(xml); };
    EvtSubscriptionCollector collector(api, clock, options);
    CollectorSummary s = collector.run(sink);
    stats = collector.stats();
    return s;
  }

  ScriptedEvtApi api;
  FixedClock clock;
  EvtSubscriptionOptions options = [] {
    EvtSubscriptionOptions o;
    o.channel = "Security";
    return o;
  }();
  RecordingSink sink;
  std::vector<std::string> checkpoints;
  EvtSubscriptionStats stats;
};

TEST_F(EvtSubscriptionTest, FirstStartReadsFromOldestInBatchesAndCheckpointsEachBatch) {
  fill(10, 14);
  options.batch_size = 2;
  const CollectorSummary s = run();

  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{10, 11, 12, 13, 14}));
  EXPECT_EQ(s.records, 5u);
  EXPECT_EQ(s.errors, 0u);
  ASSERT_EQ(api.subscribe_calls.size(), 1u);
  EXPECT_EQ(api.subscribe_calls[0].flags, EvtApi::kStartAtOldestRecord);
  EXPECT_EQ(api.subscribe_calls[0].query, "*");
  EXPECT_EQ(checkpoints,
            (std::vector<std::string>{bookmarkXml("Security", 11), bookmarkXml("Security", 13),
                                      bookmarkXml("Security", 14)}));
  EXPECT_EQ(stats.batches, 3u);
  EXPECT_EQ(sink.events[0].origin.source, "Security");
  EXPECT_EQ(sink.events[0].origin.position, 10u);
  EXPECT_EQ(sink.events[0].system.channel, "Security");
  EXPECT_EQ(field(sink.events[0], "TargetUserName"), "alice");
  EXPECT_EQ(api.openHandles(), 0u);
  EXPECT_EQ(api.bad_closes, 0);
}

TEST_F(EvtSubscriptionTest, EventsArrivingLaterAreReadAfterTheSignal) {
  fill(1, 2);
  api.waits.push_back([&] { fill(3, 4); });
  api.waits.push_back(nullptr);  // a signal with nothing new
  api.waits.push_back([&] { fill(5, 5); });
  run();
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(checkpoints.back(), bookmarkXml("Security", 5));
  EXPECT_EQ(api.subscribe_calls.size(), 1u);
  EXPECT_EQ(api.openHandles(), 0u);
}

TEST_F(EvtSubscriptionTest, FutureOnlyWithoutBookmarkWhenConfigured) {
  fill(1, 3);
  options.future_only_without_bookmark = true;
  api.waits.push_back([&] { fill(4, 4); });
  run();
  ASSERT_EQ(api.subscribe_calls.size(), 1u);
  EXPECT_EQ(api.subscribe_calls[0].flags, EvtApi::kToFutureEvents);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{4}));
}

TEST_F(EvtSubscriptionTest, ResumesStrictlyAfterTheCheckpointBookmark) {
  fill(10, 14);
  options.bookmark_xml = bookmarkXml("Security", 12);
  options.future_only_without_bookmark = true;  // irrelevant once there is a bookmark
  run();
  ASSERT_EQ(api.subscribe_calls.size(), 1u);
  EXPECT_EQ(api.subscribe_calls[0].flags, EvtApi::kStartAfterBookmark | EvtApi::kStrict);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{13, 14}));
  EXPECT_EQ(stats.gaps, 0u);
  EXPECT_EQ(checkpoints.back(), bookmarkXml("Security", 14));
}

TEST_F(EvtSubscriptionTest, StaleBookmarkBecomesAGapEventWithTheMissingRange) {
  // The log wrapped while the agent was down: records 13..19 were overwritten.
  fill(20, 22);
  options.bookmark_xml = bookmarkXml("Security", 12);
  const CollectorSummary s = run();

  ASSERT_EQ(api.subscribe_calls.size(), 2u);
  EXPECT_EQ(api.subscribe_calls[0].flags, EvtApi::kStartAfterBookmark | EvtApi::kStrict);
  // Never "future only": what is left of the channel is read from its oldest record.
  EXPECT_EQ(api.subscribe_calls[1].flags, EvtApi::kStartAtOldestRecord);

  ASSERT_EQ(sink.events.size(), 4u);
  const Event& gap = sink.events[0];
  ASSERT_TRUE(isGap(gap));
  EXPECT_EQ(field(gap, "Channel"), "Security");
  EXPECT_EQ(field(gap, "Reason"), "bookmark_not_found");
  EXPECT_EQ(field(gap, "FirstMissingRecordId"), "13");
  EXPECT_EQ(field(gap, "LastMissingRecordId"), "19");
  EXPECT_EQ(field(gap, "MissingCount"), "7");
  EXPECT_EQ(field(gap, "BookmarkRecordId"), "12");
  EXPECT_EQ(field(gap, "OldestRecordId"), "20");
  EXPECT_EQ(gap.system.channel, "");
  EXPECT_EQ(gap.origin.source, "gap:Security");
  EXPECT_EQ(gap.origin.position, 13u);
  EXPECT_EQ(eventKey(gap), "gap:Security@13");
  ASSERT_TRUE(gap.system.time_created.has_value());
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{20, 21, 22}));
  EXPECT_EQ(stats.gaps, 1u);  // no second "jump" gap for the same records
  EXPECT_EQ(s.errors, 0u);
  EXPECT_EQ(api.openHandles(), 0u);
}

TEST_F(EvtSubscriptionTest, ClearedChannelWithoutRecordsGivesAGapWithUnknownEnd) {
  api.channels["Security"];  // exists, empty: cleared
  options.bookmark_xml = bookmarkXml("Security", 500);
  run();
  ASSERT_EQ(sink.events.size(), 1u);
  const Event& gap = sink.events[0];
  EXPECT_EQ(field(gap, "FirstMissingRecordId"), "501");
  EXPECT_EQ(field(gap, "LastMissingRecordId"), "<absent>");
  EXPECT_EQ(field(gap, "MissingCount"), "<absent>");
  EXPECT_NE(field(gap, "Detail").find("empty"), std::string::npos) << field(gap, "Detail");
}

TEST_F(EvtSubscriptionTest, OldestRecordUnknownStillReportsTheGap) {
  fill(40, 41);
  options.bookmark_xml = bookmarkXml("Security", 12);
  api.oldest_error = evt_errc::kAccessDenied;
  run();
  ASSERT_GE(sink.events.size(), 1u);
  const Event& gap = sink.events[0];
  ASSERT_TRUE(isGap(gap));
  EXPECT_EQ(field(gap, "FirstMissingRecordId"), "13");
  EXPECT_EQ(field(gap, "LastMissingRecordId"), "<absent>");
  EXPECT_NE(field(gap, "Detail").find("Access is denied"), std::string::npos);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{40, 41}));
}

TEST_F(EvtSubscriptionTest, LogClearedWhileReadingReopensAfterBookmarkAndReportsTheGap) {
  fill(10, 11);
  api.waits.push_back([&] {
    api.channels["Security"].clear();
    fill(30, 31);
    api.next_errors.push_back(evt_errc::kQueryResultStale);
  });
  run();
  ASSERT_EQ(api.subscribe_calls.size(), 3u);
  EXPECT_EQ(api.subscribe_calls[1].flags, EvtApi::kStartAfterBookmark | EvtApi::kStrict);
  EXPECT_EQ(api.subscribe_calls[2].flags, EvtApi::kStartAtOldestRecord);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{10, 11, 30, 31}));
  ASSERT_EQ(stats.gaps, 1u);
  const Event& gap = sink.events[2];
  ASSERT_TRUE(isGap(gap));
  EXPECT_EQ(field(gap, "FirstMissingRecordId"), "12");
  EXPECT_EQ(field(gap, "LastMissingRecordId"), "29");
  EXPECT_EQ(field(gap, "BookmarkRecordId"), "11");
  EXPECT_EQ(api.openHandles(), 0u);
}

TEST_F(EvtSubscriptionTest, StaleResultWhoseBookmarkSurvivedLosesNothing) {
  fill(10, 11);
  api.waits.push_back([&] {
    fill(12, 13);
    api.next_errors.push_back(evt_errc::kQueryResultStale);
  });
  run();
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{10, 11, 12, 13}));
  EXPECT_EQ(stats.gaps, 0u);
  EXPECT_TRUE(sink.errors.empty());
}

TEST_F(EvtSubscriptionTest, RecordIdJumpIsAGapForTheUnfilteredQueryOnly) {
  fill(10, 11);
  fill(15, 15);
  run();
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{10, 11, 15}));
  ASSERT_EQ(sink.events.size(), 4u);
  const Event& gap = sink.events[2];
  ASSERT_TRUE(isGap(gap));
  EXPECT_EQ(field(gap, "Reason"), "record_id_jump");
  EXPECT_EQ(field(gap, "FirstMissingRecordId"), "12");
  EXPECT_EQ(field(gap, "LastMissingRecordId"), "14");
  EXPECT_EQ(field(gap, "MissingCount"), "3");
}

TEST_F(EvtSubscriptionTest, FilteredQueryRecordsAreSparseByDesign) {
  fill(10, 10);
  fill(15, 15);
  options.query = "*[System[(EventID=4624)]]";
  run();
  EXPECT_EQ(api.subscribe_calls[0].query, "*[System[(EventID=4624)]]");
  EXPECT_EQ(stats.gaps, 0u);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{10, 15}));
}

TEST_F(EvtSubscriptionTest, AccessDeniedIsReportedOnceAndRetriedUntilItClears) {
  fill(1, 2);
  api.subscribe_errors = {evt_errc::kAccessDenied, evt_errc::kAccessDenied,
                          evt_errc::kAccessDenied};
  api.waits = {nullptr, nullptr, nullptr};  // three retry intervals, then the fourth try works
  const CollectorSummary s = run();

  ASSERT_EQ(sink.errors.size(), 1u);
  const std::string& m = sink.errors[0].error.message;
  EXPECT_EQ(sink.errors[0].source, "Security");
  EXPECT_EQ(sink.errors[0].error.code, Errc::kIo);
  EXPECT_NE(m.find("Security: EvtSubscribe: Access is denied. (Win32 error 5)"), std::string::npos)
      << m;
  EXPECT_NE(m.find("Event Log Readers"), std::string::npos) << m;
  EXPECT_NE(m.find("retrying every 30 s"), std::string::npos) << m;
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(stats.repeated_failures, 2u);
  EXPECT_EQ(stats.subscribe_attempts, 4u);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1, 2}));
}

TEST_F(EvtSubscriptionTest, MissingChannelIsReportedClearlyAndRetriedUntilStopped) {
  options.channel = "Microsoft-Windows-DNSServer/Audit";
  api.waits = {nullptr, nullptr};
  const CollectorSummary s = run();
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].error.code, Errc::kNotFound);
  EXPECT_NE(sink.errors[0].error.message.find("Microsoft-Windows-DNSServer/Audit: EvtSubscribe: "
                                              "The specified channel could not be found"),
            std::string::npos)
      << sink.errors[0].error.message;
  EXPECT_NE(sink.errors[0].error.message.find("does not exist on this machine"), std::string::npos);
  EXPECT_EQ(stats.subscribe_attempts, 3u);
  EXPECT_EQ(s.records, 0u);
  EXPECT_EQ(api.openHandles(), 0u);
}

TEST_F(EvtSubscriptionTest, DifferentFailureAfterAnotherIsReportedAgain) {
  fill(1, 1);
  api.subscribe_errors = {evt_errc::kAccessDenied, evt_errc::kChannelNotFound};
  api.waits = {nullptr, nullptr};
  run();
  ASSERT_EQ(sink.errors.size(), 2u);
  EXPECT_EQ(sink.errors[0].error.code, Errc::kIo);
  EXPECT_EQ(sink.errors[1].error.code, Errc::kNotFound);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1}));
}

TEST_F(EvtSubscriptionTest, EvtNextFailureResubscribesAfterTheBookmark) {
  fill(1, 2);
  api.waits.push_back([&] {
    fill(3, 3);
    api.next_errors.push_back(6);  // ERROR_INVALID_HANDLE: the service restarted
  });
  api.waits.push_back(nullptr);  // retry interval
  run();
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_NE(sink.errors[0].error.message.find("Security: EvtNext: Win32 error 6"),
            std::string::npos)
      << sink.errors[0].error.message;
  ASSERT_EQ(api.subscribe_calls.size(), 2u);
  EXPECT_EQ(api.subscribe_calls[1].flags, EvtApi::kStartAfterBookmark | EvtApi::kStrict);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(EvtSubscriptionTest, ResultSetStaleOverAndOverIsAFailureNotASpin) {
  fill(1, 1);
  api.next_errors = {evt_errc::kOk, evt_errc::kQueryResultStale, evt_errc::kQueryResultStale,
                     evt_errc::kQueryResultStale, evt_errc::kQueryResultStale};
  api.waits = {nullptr};
  run();
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1}));
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_NE(sink.errors[0].error.message.find("EvtNext: Win32 error 15011"), std::string::npos);
  EXPECT_LE(stats.subscribe_attempts, 6u);
}

TEST_F(EvtSubscriptionTest, UnusableCheckpointBookmarkReadsFromTheOldestRecord) {
  fill(7, 8);
  options.bookmark_xml = "<BookmarkList><Bookmark Channel='Security' RecordId='5'";
  api.create_bookmark_error = 15008;
  options.future_only_without_bookmark = true;  // must not skip: the position is unknown
  run();
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].error.code, Errc::kCorrupt);
  EXPECT_NE(sink.errors[0].error.message.find("checkpoint bookmark is unusable"),
            std::string::npos);
  EXPECT_EQ(api.subscribe_calls[0].flags, EvtApi::kStartAtOldestRecord);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{7, 8}));
}

TEST_F(EvtSubscriptionTest, BadEventIsReportedSkippedAndTheBookmarkMovesPastIt) {
  fill(10, 12);
  api.channels["Security"][11] = "<Event><System><EventID>x</EventID></System>";
  run();
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{10, 12}));
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].source, "Security");
  EXPECT_NE(sink.errors[0].error.message.find("Security: event after record 10"), std::string::npos)
      << sink.errors[0].error.message;
  EXPECT_EQ(checkpoints.back(), bookmarkXml("Security", 12));
}

TEST_F(EvtSubscriptionTest, RenderFailureIsReportedAndSkipped) {
  fill(1, 3);
  api.render_errors = {evt_errc::kOk, 15027};  // ERROR_EVT_MESSAGE_NOT_FOUND-like failure
  run();
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1, 3}));
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_NE(sink.errors[0].error.message.find("EvtRender"), std::string::npos);
  EXPECT_EQ(stats.render_errors, 1u);
  EXPECT_EQ(api.openHandles(), 0u);
}

TEST_F(EvtSubscriptionTest, StopBeforeRunReturnsWithoutReading) {
  fill(1, 3);
  options.on_checkpoint = nullptr;
  EvtSubscriptionCollector collector(api, clock, options);
  collector.stop();
  const CollectorSummary s = collector.run(sink);
  EXPECT_EQ(s.records, 0u);
  EXPECT_TRUE(api.subscribe_calls.empty());
  EXPECT_EQ(api.openHandles(), 0u);
  EXPECT_EQ(collector.name(), "eventlog:Security");
}

TEST(BookmarkRecordIdTest, ReadsTheRecordIdOfRenderedBookmarks) {
  EXPECT_EQ(bookmarkRecordId(bookmarkXml("Security", 123456789012)), 123456789012u);
  EXPECT_EQ(bookmarkRecordId("<BookmarkList><Bookmark Channel=\"System\" RecordId=\"7\" "
                             "IsCurrent=\"true\"/></BookmarkList>"),
            7u);
  EXPECT_FALSE(bookmarkRecordId("<BookmarkList>\r\n</BookmarkList>").has_value());
  EXPECT_FALSE(bookmarkRecordId("<BookmarkList><Bookmark RecordId='-1'/></BookmarkList>"));
  EXPECT_FALSE(
      bookmarkRecordId("<BookmarkList><Bookmark RecordId='99999999999999999999'/></BookmarkList>"));
  EXPECT_FALSE(bookmarkRecordId("not xml <"));
  EXPECT_FALSE(bookmarkRecordId(""));
}

}  // namespace
}  // namespace t0w
