#include "collectors/eventlog/evt_subscription_collector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/core/time.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_event_sink.h"
#include "tests/fakes/fake_evt_api.h"

namespace t0w {
namespace {

using ::t0w::testing::FakeClock;
using ::t0w::testing::FakeEventSink;

using ::t0w::testing::bookmarkXml;
using ::t0w::testing::eventXml;
using ::t0w::testing::FakeEvtApi;

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
    if (e.system.provider_name != kGapProvider) ids.push_back(e.system.record_id);
  }
  return ids;
}

class EvtSubscriptionTest : public ::testing::Test {
 protected:
  void fill(uint64_t first, uint64_t last, const std::string& channel = "Security") {
    for (uint64_t id = first; id <= last; ++id) api.channels[channel][id] = eventXml(id, channel);
  }

  SourceSummary run() { return runWith(clock); }
  SourceSummary runWith(const Clock& c) {
    options.on_checkpoint = [this](const std::string& xml) { checkpoints.push_back(xml); };
    EvtSubscriptionCollector collector(api, c, options);
    SourceSummary s = collector.run(sink);
    stats = collector.stats();
    return s;
  }

  std::vector<const Event*> notices() const {
    std::vector<const Event*> out;
    for (const Event& e : sink.events) {
      if (e.system.provider_name == kGapProvider && e.system.event_id == kNoticeEventId) {
        out.push_back(&e);
      }
    }
    return out;
  }
  size_t countNotices(const std::string& type) const {
    size_t n = 0;
    for (const Event* e : notices()) n += field(*e, "Type") == type ? 1 : 0;
    return n;
  }
  std::optional<SourceStatus> boardEntry(const std::string& name) const {
    for (const SourceStatus& s : board.snapshot()) {
      if (s.name == name) return s;
    }
    return std::nullopt;
  }
  SourceState boardState(const std::string& name) const {
    auto s = boardEntry(name);
    return s ? s->state : SourceState::kStopped;
  }
  std::string boardDetail(const std::string& name) const {
    auto s = boardEntry(name);
    return s ? s->detail : "";
  }

  FakeEvtApi api;
  FakeClock clock{std::chrono::system_clock::time_point(std::chrono::seconds(1714557600))};
  SourceStatusBoard board{clock};
  EvtSubscriptionOptions options = [] {
    EvtSubscriptionOptions o;
    o.channel = "Security";
    return o;
  }();
  FakeEventSink sink;
  std::vector<std::string> checkpoints;
  EvtSubscriptionStats stats;
};

TEST_F(EvtSubscriptionTest, EmptyChannelAtFirstStartReadsEverythingThatComesInBatches) {
  api.channels["Security"];  // exists, empty: nothing to backfill
  api.waits.push_back([&] { fill(10, 14); });
  options.batch_size = 2;
  const SourceSummary s = run();

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
  EXPECT_TRUE(api.history_queries.empty());
  EXPECT_EQ(sink.events[0].origin.source, "Security");
  EXPECT_EQ(sink.events[0].origin.position, 10u);
  EXPECT_EQ(sink.events[0].system.channel, "Security");
  EXPECT_EQ(field(sink.events[0], "TargetUserName"), "alice");
  EXPECT_EQ(api.openHandles(), 0u);
  EXPECT_EQ(api.bad_closes, 0);
}

TEST_F(EvtSubscriptionTest, EventsArrivingLaterAreReadAfterTheSignal) {
  api.channels["Security"];
  api.waits.push_back([&] { fill(1, 2); });
  api.waits.push_back([&] { fill(3, 4); });
  api.waits.push_back(nullptr);  // a signal with nothing new
  api.waits.push_back([&] { fill(5, 5); });
  run();
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(checkpoints.back(), bookmarkXml("Security", 5));
  EXPECT_EQ(api.subscribe_calls.size(), 1u);
  EXPECT_EQ(api.openHandles(), 0u);
}

TEST_F(EvtSubscriptionTest, BackfillNoneReadsLiveFromAfterTheNewestAndCheckpointsAtOnce) {
  fill(1, 3);
  options.backfill.kind = EvtBackfill::Kind::kNone;
  api.waits.push_back([&] { fill(4, 4); });
  run();
  ASSERT_EQ(api.subscribe_calls.size(), 1u);
  // A bookmark made from the newest record: a restart resumes there, not at "now" again.
  EXPECT_EQ(api.subscribe_calls[0].flags, EvtApi::kStartAfterBookmark | EvtApi::kStrict);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{4}));
  EXPECT_TRUE(api.history_queries.empty());
  ASSERT_GE(checkpoints.size(), 2u);
  EXPECT_EQ(checkpoints[0], bookmarkXml("Security", 3));  // before anything was read
  EXPECT_EQ(checkpoints.back(), bookmarkXml("Security", 4));
}

TEST_F(EvtSubscriptionTest, ResumesStrictlyAfterTheCheckpointBookmark) {
  fill(10, 14);
  options.bookmark_xml = bookmarkXml("Security", 12);
  options.backfill.kind = EvtBackfill::Kind::kAll;  // irrelevant once there is a bookmark
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
  const SourceSummary s = run();

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
  EXPECT_EQ(field(gap, "ResumedAt"), "20");
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
  api.channels["Security"];
  api.waits.push_back([&] { fill(10, 11); });
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
  api.channels["Security"];
  api.waits.push_back([&] { fill(10, 11); });
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
  api.channels["Security"];
  api.waits.push_back([&] {
    fill(10, 11);
    fill(15, 15);
  });
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
  api.channels["Security"];
  api.waits.push_back([&] {
    fill(10, 10);
    fill(15, 15);
  });
  options.query = "*[System[(EventID=4624)]]";
  run();
  EXPECT_EQ(api.subscribe_calls[0].query, "*[System[(EventID=4624)]]");
  EXPECT_EQ(stats.gaps, 0u);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{10, 15}));
}

TEST_F(EvtSubscriptionTest, AccessDeniedIsReportedOnceAndRetriedUntilItClears) {
  fill(1, 2);
  options.bookmark_xml = bookmarkXml("Security", 1);
  options.board = &board;
  api.subscribe_errors = {evt_errc::kAccessDenied, evt_errc::kAccessDenied,
                          evt_errc::kAccessDenied};
  api.waits = {nullptr, nullptr, nullptr};  // three retry intervals, then the fourth try works
  api.waits.push_back([&] {
    // Between the retries the board showed access_denied; now subscribed.
    EXPECT_EQ(boardState("Security"), SourceState::kSubscribed);
  });
  const SourceSummary s = run();

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
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{2}));
}

TEST_F(EvtSubscriptionTest, MissingChannelIsConfiguredAbsentOnceAndPickedUpWhenInstalled) {
  const std::string ch = "Microsoft-AzureADPasswordProtection-DCAgent/Admin";
  options.channel = ch;
  options.board = &board;
  options.probe_interval = std::chrono::milliseconds(60000);
  options.retry_interval = std::chrono::milliseconds(30000);
  api.waits = {nullptr, nullptr, [&] {
                 EXPECT_EQ(boardState(ch), SourceState::kAbsent);
                 // The DC agent is installed: its channel appears with a record.
                 api.channels[ch][1] = eventXml(1, ch, 10016);
               }};
  api.waits.push_back(nullptr);
  const SourceSummary s = run();
  EXPECT_TRUE(sink.errors.empty()) << sink.errors[0].error.message;  // absent is not an error
  EXPECT_EQ(s.errors, 0u);
  const std::vector<const Event*> n = notices();
  ASSERT_GE(n.size(), 2u);
  EXPECT_EQ(field(*n[0], "Type"), "eventlog_absent");
  EXPECT_NE(field(*n[0], "Message").find("configured, absent"), std::string::npos);
  EXPECT_EQ(n[0]->origin.source, "notice:" + ch);
  EXPECT_EQ(field(*n[1], "Type"), "eventlog_present");
  EXPECT_EQ(countNotices("eventlog_absent"), 1u);  // once, though probed three times
  // Re-checked at most every 30 s (the retry interval, below the one-minute promise).
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(api.wait_timeouts[i], std::chrono::milliseconds(30000));
  // Installed later: read from its first record (it has no history older than the agent).
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1}));
  EXPECT_EQ(api.openHandles(), 0u);
}

TEST_F(EvtSubscriptionTest, ChannelThatExistsButCannotBeSubscribedYetIsOneAbsenceWithoutSpinning) {
  fill(1, 1);
  api.subscribe_errors = {evt_errc::kChannelNotFound, evt_errc::kChannelNotFound};
  api.waits = {nullptr, nullptr, nullptr};
  run();
  EXPECT_EQ(countNotices("eventlog_absent"), 1u);
  EXPECT_EQ(countNotices("eventlog_present"), 1u);
  EXPECT_EQ(stats.subscribe_attempts, 3u);
  EXPECT_EQ(api.wait_timeouts[0], std::chrono::milliseconds(30000));  // waited, no spin
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(sink.errors.empty());
}

TEST_F(EvtSubscriptionTest, DifferentFailureAfterAnotherIsReportedAgain) {
  fill(1, 1);
  options.bookmark_xml = bookmarkXml("Security", 1);
  fill(2, 2);
  api.subscribe_errors = {evt_errc::kAccessDenied, evt_errc::kInvalidQuery};
  api.waits = {nullptr, nullptr};
  run();
  ASSERT_EQ(sink.errors.size(), 2u);
  EXPECT_EQ(sink.errors[0].error.code, Errc::kIo);
  EXPECT_EQ(sink.errors[1].error.code, Errc::kInvalidArgument);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{2}));
}

TEST_F(EvtSubscriptionTest, EventLogServiceRestartIsReportedAndReadingResumesAfterTheBookmark) {
  for (uint32_t code : {uint32_t{6}, evt_errc::kRpcServerUnavailable}) {
    SCOPED_TRACE(code);
    api = FakeEvtApi();
    sink = FakeEventSink();
    checkpoints.clear();
    options.board = &board;
    api.channels["Security"];
    api.waits.push_back([&] { fill(1, 2); });
    api.waits.push_back([&, code] {
      fill(3, 3);
      api.next_errors.push_back(code);  // the service restarted under the subscription
    });
    api.waits.push_back([&] {
      EXPECT_EQ(boardState("Security"), SourceState::kFailing);
      EXPECT_NE(boardDetail("Security").find("Event Log service unavailable"), std::string::npos);
    });
    run();
    EXPECT_TRUE(sink.errors.empty());
    ASSERT_EQ(api.subscribe_calls.size(), 2u);
    EXPECT_EQ(api.subscribe_calls[1].flags, EvtApi::kStartAfterBookmark | EvtApi::kStrict);
    EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1, 2, 3}));
    EXPECT_EQ(countNotices("eventlog_service_down"), 1u);
    EXPECT_EQ(countNotices("eventlog_service_back"), 1u);
    EXPECT_EQ(stats.gaps, 0u);
    EXPECT_EQ(api.openHandles(), 0u);
  }
}

TEST_F(EvtSubscriptionTest, ResultSetStaleOverAndOverIsAFailureNotASpin) {
  api.channels["Security"];
  api.waits.push_back([&] { fill(1, 1); });
  api.next_errors = {evt_errc::kOk, evt_errc::kQueryResultStale, evt_errc::kQueryResultStale,
                     evt_errc::kQueryResultStale, evt_errc::kQueryResultStale};
  api.waits.push_back(nullptr);
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
  options.backfill.kind = EvtBackfill::Kind::kNone;  // must not skip: the position is unknown
  run();
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].error.code, Errc::kCorrupt);
  EXPECT_NE(sink.errors[0].error.message.find("checkpoint bookmark is unusable"),
            std::string::npos);
  EXPECT_EQ(api.subscribe_calls[0].flags, EvtApi::kStartAtOldestRecord);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{7, 8}));
}

TEST_F(EvtSubscriptionTest, BadEventIsReportedSkippedAndTheBookmarkMovesPastIt) {
  api.channels["Security"];
  api.waits.push_back([&] {
    fill(10, 12);
    api.channels["Security"][11] = "<Event><System><EventID>x</EventID></System>";
  });
  run();
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{10, 12}));
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].source, "Security");
  EXPECT_NE(sink.errors[0].error.message.find("Security: event after record 10"), std::string::npos)
      << sink.errors[0].error.message;
  EXPECT_EQ(checkpoints.back(), bookmarkXml("Security", 12));
}

TEST_F(EvtSubscriptionTest, RenderFailureIsReportedAndSkipped) {
  api.channels["Security"];
  api.waits.push_back([&] { fill(1, 3); });
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
  const SourceSummary s = collector.run(sink);
  EXPECT_EQ(s.records, 0u);
  EXPECT_TRUE(api.subscribe_calls.empty());
  EXPECT_EQ(api.openHandles(), 0u);
  EXPECT_EQ(collector.name(), "eventlog:Security");
}

// ---- first start and backfill -------------------------------------------------------------

// FILETIME text of `hours` before the FakeClock's now.
std::string hoursAgo(const ::t0w::testing::FakeClock& c, int64_t hours) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          c.now().time_since_epoch() - std::chrono::hours(hours))
                          .count();
  return formatFiletime(unixMicrosToFiletime(micros));
}

TEST_F(EvtSubscriptionTest, FirstStartBackfillsTheLast24HoursOldestFirstBesideLive) {
  ::t0w::testing::FakeClock fake;
  // Records 1..3 are two days old, 4..6 from the last hours; 7 arrives live.
  for (uint64_t id = 1; id <= 6; ++id) {
    api.channels["Security"][id] =
        eventXml(id, "Security", 4624, hoursAgo(fake, id <= 3 ? 48 : 7 - static_cast<int64_t>(id)));
  }
  options.board = &board;
  options.backfill_batch = 2;
  api.waits.push_back([&] { fill(7, 7); });
  api.waits.push_back(nullptr);
  api.waits.push_back(nullptr);
  const SourceSummary s = runWith(fake);

  // Live starts strictly after the newest record at start (6); history is a separate query.
  ASSERT_EQ(api.subscribe_calls.size(), 1u);
  EXPECT_EQ(api.subscribe_calls[0].flags, EvtApi::kStartAfterBookmark | EvtApi::kStrict);
  ASSERT_GE(api.history_queries.size(), 1u);
  EXPECT_EQ(api.history_queries[0].first_record, 1u);
  EXPECT_EQ(api.history_queries[0].last_record, 6u);
  EXPECT_EQ(formatFiletime(api.history_queries[0].from_filetime), hoursAgo(fake, 24));
  // Live first: 7 is read in the round it arrives, history batches in between; nothing twice.
  std::vector<uint64_t> ids = recordIds(sink.events);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<uint64_t>{4, 5, 6, 7}));
  EXPECT_EQ(stats.backfill_events, 3u);
  EXPECT_EQ(s.errors, 0u);
  EXPECT_EQ(countNotices("eventlog_backfill_done"), 1u);
  // The first checkpoint carries the backfill's progress; the last one has none left.
  ASSERT_GE(checkpoints.size(), 2u);
  const EvtCheckpoint first = parseEvtCheckpoint(checkpoints[0]);
  ASSERT_TRUE(first.backfill.has_value());
  EXPECT_EQ(first.backfill->next_record, 1u);
  EXPECT_EQ(first.backfill->last_record, 6u);
  EXPECT_EQ(first.bookmark_xml, bookmarkXml("Security", 6));
  EXPECT_EQ(checkpoints.back(), bookmarkXml("Security", 7));
  EXPECT_EQ(boardState("Security"), SourceState::kStopped);
  EXPECT_EQ(api.openHandles(), 0u);
}

TEST_F(EvtSubscriptionTest, LiveEventsAreReadBeforeTheNextBackfillBatch) {
  fill(1, 6);
  options.backfill.kind = EvtBackfill::Kind::kAll;
  options.backfill_batch = 2;
  api.waits.push_back([&] { fill(7, 7); });
  api.waits.push_back(nullptr);
  api.waits.push_back(nullptr);
  run();
  // Round 1: live (nothing), history 1-2; round 2: live 7, then history 3-4; round 3: 5-6.
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1, 2, 7, 3, 4, 5, 6}));
  EXPECT_EQ(api.history_queries[0].from_filetime, 0);  // all: no time bound
}

TEST_F(EvtSubscriptionTest, BackfillSleepsSoThatItUsesItsShareOfOneCore) {
  fill(1, 6);
  options.backfill.kind = EvtBackfill::Kind::kAll;
  options.backfill_batch = 2;
  options.backfill_cpu_share = 0.25;
  options.wait = std::chrono::milliseconds(1000);
  // Each history batch costs 40 ms of CPU (the thread CPU clock is injected).
  std::chrono::nanoseconds cpu{0};
  options.cpu_time = [&] {
    cpu += std::chrono::milliseconds(20);  // called before and after each batch
    return cpu;
  };
  ::t0w::testing::FakeClock fake;
  api.waits = {[&] { fake.advance(std::chrono::milliseconds(60)); },
               [&] { fake.advance(std::chrono::milliseconds(60)); },
               [&] { fake.advance(std::chrono::milliseconds(60)); }};
  runWith(fake);
  // 20 ms per batch at 25 %: 60 ms of pause after each, waited on the live signal.
  ASSERT_GE(api.wait_timeouts.size(), 2u);
  EXPECT_EQ(api.wait_timeouts[0], std::chrono::milliseconds(60));
  EXPECT_EQ(api.wait_timeouts[1], std::chrono::milliseconds(60));
  EXPECT_EQ(stats.backfill_sleep, std::chrono::milliseconds(180));
  EXPECT_EQ(stats.backfill_events, 6u);
}

TEST_F(EvtSubscriptionTest, BackfillResumesFromTheCheckpointAfterARestart) {
  fill(1, 10);
  EvtCheckpoint cp;
  cp.bookmark_xml = bookmarkXml("Security", 8);
  cp.backfill = EvtCheckpoint::Backfill{4, 6, 0};
  options.bookmark_xml = formatEvtCheckpoint(cp);
  run();
  ASSERT_EQ(api.history_queries.size(), 1u);
  EXPECT_EQ(api.history_queries[0].first_record, 4u);
  EXPECT_EQ(api.history_queries[0].last_record, 6u);
  std::vector<uint64_t> ids = recordIds(sink.events);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<uint64_t>{4, 5, 6, 9, 10}));
  EXPECT_EQ(checkpoints.back(), bookmarkXml("Security", 10));
}

TEST_F(EvtSubscriptionTest, HistoryOverwrittenBeforeTheBackfillReachedItIsAGap) {
  fill(1, 10);
  options.backfill.kind = EvtBackfill::Kind::kAll;
  options.backfill_batch = 2;
  api.waits.push_back([&] {
    // The log wrapped: 1..6 overwritten while the backfill was at record 3.
    for (uint64_t id = 1; id <= 6; ++id) api.channels["Security"].erase(id);
  });
  api.waits.push_back(nullptr);
  api.waits.push_back(nullptr);
  run();
  const Event* gap = nullptr;
  for (const Event& e : sink.events) {
    if (isGap(e)) gap = &e;
  }
  ASSERT_NE(gap, nullptr);
  EXPECT_EQ(field(*gap, "Reason"), "backfill_overwritten");
  EXPECT_EQ(field(*gap, "FirstMissingRecordId"), "3");
  EXPECT_EQ(field(*gap, "LastMissingRecordId"), "6");
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1, 2, 7, 8, 9, 10}));
}

TEST_F(EvtSubscriptionTest, NoLogInfoAtFirstStartReadsNewEventsOnlyAndSaysSo) {
  fill(1, 3);
  api.log_info_error = evt_errc::kAccessDenied;
  api.waits.push_back([&] { fill(4, 4); });
  run();
  EXPECT_EQ(api.subscribe_calls[0].flags, EvtApi::kToFutureEvents);
  EXPECT_EQ(countNotices("eventlog_no_backfill"), 1u);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{4}));
}

// ---- adaptive EvtNext batches -------------------------------------------------------------

TEST_F(EvtSubscriptionTest, InvalidBoundHalvesTheBatchAndSeeksAfterTheBookmark) {
  fill(1, 1);
  options.bookmark_xml = bookmarkXml("Security", 1);
  api.waits.push_back([&] {
    fill(2, 600);
    api.next_errors = {evt_errc::kRpcInvalidBound, evt_errc::kRpcInvalidBound};
  });
  run();
  EXPECT_EQ(api.next_sizes[0], 256u);
  EXPECT_EQ(api.next_sizes[1], 256u);  // the failing call after the signal
  EXPECT_EQ(api.next_sizes[2], 128u);
  EXPECT_EQ(api.next_sizes[3], 64u);
  EXPECT_EQ(stats.batch_halvings, 2u);
  EXPECT_EQ(stats.seeks, 2u);
  EXPECT_EQ(stats.batch_size, 64u);
  EXPECT_EQ(api.subscribe_calls.size(), 1u);  // the seek repositioned: no reopen
  std::vector<uint64_t> expected;
  for (uint64_t id = 2; id <= 600; ++id) expected.push_back(id);
  EXPECT_EQ(recordIds(sink.events), expected);  // nothing skipped although EvtNext moved on
  EXPECT_TRUE(sink.errors.empty());
}

TEST_F(EvtSubscriptionTest, InvalidBoundWithAFailingSeekReopensAfterTheBookmark) {
  fill(1, 1);
  options.bookmark_xml = bookmarkXml("Security", 1);
  api.waits.push_back([&] {
    fill(2, 50);
    api.next_errors = {evt_errc::kRpcInvalidBound};
    api.seek_errors = {evt_errc::kCallNotImplemented};
  });
  run();
  EXPECT_EQ(stats.batch_halvings, 1u);
  EXPECT_EQ(stats.seeks, 0u);
  ASSERT_EQ(api.subscribe_calls.size(), 2u);
  EXPECT_EQ(api.subscribe_calls[1].flags, EvtApi::kStartAfterBookmark | EvtApi::kStrict);
  EXPECT_EQ(api.next_sizes.back(), 128u);  // the halved size survives the reopen
  EXPECT_EQ(recordIds(sink.events).size(), 49u);
  EXPECT_EQ(recordIds(sink.events).front(), 2u);
  EXPECT_EQ(stats.gaps, 0u);
}

TEST_F(EvtSubscriptionTest, InvalidBoundAtOneEventPerCallIsAFailure) {
  fill(1, 2);
  options.bookmark_xml = bookmarkXml("Security", 1);
  options.batch_size = 1;
  api.next_errors = {evt_errc::kRpcInvalidBound};
  api.waits = {nullptr};
  run();
  ASSERT_GE(sink.errors.size(), 1u);
  EXPECT_NE(sink.errors[0].error.message.find("EvtNext (one event per call)"), std::string::npos);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{2}));
}

// ---- gaps ----------------------------------------------------------------------------------

TEST_F(EvtSubscriptionTest, SecurityLogClearedIsAGapWithTheRecordsNotReadBefore) {
  api.channels["Security"];
  api.waits.push_back([&] { fill(1, 2); });
  api.waits.push_back([&] {
    // Cleared after record 5 was written; 3..5 were never read. 1102 comes next.
    api.channels["Security"].clear();
    api.channels["Security"][6] =
        eventXml(6, "Security", 1102, "2024-05-01T10:00:01.0000000Z", "Microsoft-Windows-Eventlog");
  });
  options.query = "*[System[(EventID=4624 or EventID=1102)]]";  // filtered: no jump gaps
  run();
  ASSERT_EQ(stats.gaps, 1u);
  const Event& gap = sink.events[2];
  ASSERT_TRUE(isGap(gap));
  EXPECT_EQ(field(gap, "Reason"), "log_cleared");
  EXPECT_EQ(field(gap, "FirstMissingRecordId"), "3");
  EXPECT_EQ(field(gap, "LastMissingRecordId"), "5");
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1, 2, 6}));
}

TEST_F(EvtSubscriptionTest, FilteredBookmarkBehindTheOldestRecordIsAGapNamedSo) {
  fill(50, 52);
  options.query = "*[System[(EventID=4624)]]";
  options.bookmark_xml = bookmarkXml("Security", 12);
  run();
  ASSERT_TRUE(isGap(sink.events[0]));
  EXPECT_EQ(field(sink.events[0], "Reason"), "filtered_bookmark_behind_oldest");
  EXPECT_EQ(field(sink.events[0], "FirstMissingRecordId"), "13");
  EXPECT_EQ(field(sink.events[0], "LastMissingRecordId"), "49");
  EXPECT_NE(field(sink.events[0], "Detail").find("filter"), std::string::npos);
  // Never "future only": the subscription restarted at the oldest record.
  EXPECT_EQ(api.subscribe_calls.back().flags, EvtApi::kStartAtOldestRecord);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{50, 51, 52}));
}

TEST_F(EvtSubscriptionTest, GapsWithAnUnknownFirstRecordHaveDistinctKeys) {
  // The bookmark moved past events that could not be read, so no record id is known; then the
  // log is cleared twice and the oldest record cannot be read: no first missing record either.
  api.channels["Security"];
  api.oldest_error = evt_errc::kAccessDenied;
  auto& ch = api.channels["Security"];
  api.waits.push_back([&] {
    ch[20] = eventXml(20);
    api.render_errors = {15027};
  });
  api.waits.push_back([&] {
    ch.clear();
    ch[30] = eventXml(30);
    api.render_errors = {15027};
    api.next_errors.push_back(evt_errc::kQueryResultStale);
  });
  api.waits.push_back([&] {
    ch.clear();
    ch[40] = eventXml(40);
    api.next_errors.push_back(evt_errc::kQueryResultStale);
  });
  run();
  std::set<std::string> keys;
  size_t gaps = 0;
  for (const Event& e : sink.events) {
    if (!isGap(e)) continue;
    ++gaps;
    EXPECT_EQ(field(e, "FirstMissingRecordId"), "<absent>");
    keys.insert(eventKey(e));
  }
  EXPECT_EQ(gaps, 2u);
  EXPECT_EQ(keys.size(), 2u);  // "gap:Security#<time>.<n>": never the same key
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{40}));
}

// ---- probe: disabled channel, time to wrap, stall -------------------------------------------

TEST_F(EvtSubscriptionTest, DisabledChannelIsReportedOnceAndReadWhenEnabled) {
  const std::string ch = "Microsoft-AzureADConnect-AuthenticationAgent/Admin";
  options.channel = ch;
  options.board = &board;
  options.probe_interval = std::chrono::milliseconds(60000);
  api.channels[ch];
  EvtChannelConfig off;
  off.enabled = false;
  off.max_size = 1 << 20;
  api.configs[ch] = off;
  ::t0w::testing::FakeClock fake;
  api.waits = {[&] {
                 EXPECT_EQ(boardState(ch), SourceState::kFailing);
                 EXPECT_NE(boardDetail(ch).find("disabled"), std::string::npos);
                 fake.advance(std::chrono::minutes(1));
               },
               [&] { fake.advance(std::chrono::minutes(1)); },
               [&] {
                 api.configs[ch].enabled = true;
                 api.channels[ch][1] = eventXml(1, ch, 12008);
                 fake.advance(std::chrono::minutes(1));
               },
               nullptr};
  runWith(fake);
  EXPECT_EQ(countNotices("eventlog_disabled"), 1u);
  EXPECT_EQ(countNotices("eventlog_enabled"), 1u);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(sink.errors.empty());
}

TEST_F(EvtSubscriptionTest, TimeToWrapIsForecastFromSizeRetentionAndObservedRate) {
  options.board = &board;
  options.probe_interval = std::chrono::milliseconds(60000);
  options.wrap_warning = std::chrono::seconds(3600);
  fill(1, 100);
  options.bookmark_xml = bookmarkXml("Security", 100);
  EvtChannelConfig cfg;
  cfg.max_size = 1000 * 1000;  // 1000 records of 1000 bytes
  api.configs["Security"] = cfg;
  ::t0w::testing::FakeClock fake;
  api.waits = {[&] {
                 fill(101, 160);  // 60 records in a minute: 1 record/s
                 fake.advance(std::chrono::minutes(1));
               },
               nullptr};
  runWith(fake);
  auto st = boardEntry("Security");
  ASSERT_TRUE(st.has_value());
  ASSERT_TRUE(st->time_to_wrap_seconds.has_value());
  // Circular: 1000 records of room, nothing unread after the drain... at probe time 60 unread.
  EXPECT_NEAR(*st->time_to_wrap_seconds, 940.0, 1.0);
  EXPECT_EQ(countNotices("eventlog_wrap_risk"), 1u);  // below the hour: raised once
  const std::vector<const Event*> n = notices();
  EXPECT_NE(field(*n.back(), "Message").find("circular"), std::string::npos);
}

TEST_F(EvtSubscriptionTest, LogThatArchivesWhenFullHasNoWrapForecast) {
  options.board = &board;
  fill(1, 100);
  options.bookmark_xml = bookmarkXml("Security", 100);
  EvtChannelConfig cfg;
  cfg.max_size = 1000 * 1000;
  cfg.retention = true;
  cfg.auto_backup = true;
  api.configs["Security"] = cfg;
  ::t0w::testing::FakeClock fake;
  api.waits = {[&] {
                 fill(101, 160);
                 fake.advance(std::chrono::minutes(1));
               },
               nullptr};
  runWith(fake);
  EXPECT_FALSE(boardEntry("Security")->time_to_wrap_seconds.has_value());
  EXPECT_EQ(countNotices("eventlog_wrap_risk"), 0u);
}

TEST_F(EvtSubscriptionTest, SubscriptionThatStopsDeliveringWhileTheLogGrowsIsReopened) {
  fill(1, 1);
  options.bookmark_xml = bookmarkXml("Security", 1);
  ::t0w::testing::FakeClock fake;
  // The subscription is dead: EvtNext says "no more items" although 2..3 were written.
  api.waits = {[&] {
                 fill(2, 3);
                 api.next_errors = {evt_errc::kNoMoreItems, evt_errc::kNoMoreItems};
                 fake.advance(std::chrono::minutes(1));
               },
               [&] { fake.advance(std::chrono::minutes(1)); }, nullptr};
  runWith(fake);
  EXPECT_EQ(countNotices("eventlog_stalled"), 1u);
  EXPECT_EQ(api.subscribe_calls.size(), 2u);
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{2, 3}));
}

// ---- EvtFormatMessage ------------------------------------------------------------------------

TEST_F(EvtSubscriptionTest, MessagesAreFormattedWithOnePublisherHandleAndAnExplicitLocale) {
  const std::string ch = "Microsoft-AzureADPasswordProtection-DCAgent/Admin";
  options.channel = ch;
  options.format_messages = true;
  options.message_locale = 1033;
  api.channels[ch];
  api.messages["Microsoft-AzureADPasswordProtection-DCAgent"] = "The password was rejected.";
  api.waits.push_back([&] {
    for (uint64_t id = 1; id <= 3; ++id) {
      api.channels[ch][id] = eventXml(id, ch, 10017, "2024-05-01T10:00:00.0000000Z",
                                      "Microsoft-AzureADPasswordProtection-DCAgent");
    }
  });
  run();
  ASSERT_EQ(recordIds(sink.events).size(), 3u);
  ASSERT_TRUE(sink.events[0].rendering.has_value());
  EXPECT_EQ(sink.events[0].rendering->message, "The password was rejected.");
  EXPECT_EQ(sink.events[0].rendering->culture, "en-US");
  ASSERT_EQ(api.publisher_opens.size(), 1u);  // cached per publisher
  EXPECT_EQ(api.publisher_opens[0].second, 1033u);
  EXPECT_EQ(api.format_calls, 3);
  EXPECT_EQ(stats.messages_formatted, 3u);
  EXPECT_EQ(api.openHandles(), 0u);  // the metadata handle is closed at the end
}

TEST_F(EvtSubscriptionTest, SecurityIsNeverFormatted) {
  api.channels["Security"];
  api.messages["Microsoft-Windows-Security-Auditing"] = "An account was logged on.";
  api.waits.push_back([&] { fill(1, 2); });
  run();  // format_messages defaults to false
  EXPECT_EQ(api.format_calls, 0);
  EXPECT_TRUE(api.publisher_opens.empty());
  EXPECT_FALSE(sink.events[0].rendering.has_value());
}

TEST_F(EvtSubscriptionTest, DisabledPublisherIsOneNoticeAndEventsStillFlow) {
  const std::string ch = "Microsoft-AzureADConnect-AuthenticationAgent/Admin";
  options.channel = ch;
  options.format_messages = true;
  api.channels[ch];
  api.publisher_errors["Microsoft-AzureADConnect-AuthenticationAgent"] =
      evt_errc::kPublisherDisabled;
  api.waits.push_back([&] {
    for (uint64_t id = 1; id <= 2; ++id) {
      api.channels[ch][id] = eventXml(id, ch, 12000, "2024-05-01T10:00:00.0000000Z",
                                      "Microsoft-AzureADConnect-AuthenticationAgent");
    }
  });
  run();
  EXPECT_EQ(recordIds(sink.events), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(countNotices("eventlog_publisher_disabled"), 1u);
  EXPECT_EQ(api.publisher_opens.size(), 1u);  // the failure is cached too
  EXPECT_TRUE(sink.errors.empty());
}

// ---- checkpoint text and history query -------------------------------------------------------

TEST(EvtCheckpointTest, BookmarkAloneIsWrittenAsItIsAndBackfillRoundTrips) {
  EvtCheckpoint c;
  c.bookmark_xml = bookmarkXml("Security", 9);
  EXPECT_EQ(formatEvtCheckpoint(c), bookmarkXml("Security", 9));
  EXPECT_FALSE(parseEvtCheckpoint(bookmarkXml("Security", 9)).backfill.has_value());
  c.backfill = EvtCheckpoint::Backfill{3, 9, 133000000000000000};
  const std::string text = formatEvtCheckpoint(c);
  const EvtCheckpoint back = parseEvtCheckpoint(text);
  EXPECT_EQ(back.bookmark_xml, c.bookmark_xml);
  ASSERT_TRUE(back.backfill.has_value());
  EXPECT_EQ(*back.backfill, *c.backfill);
  EXPECT_EQ(bookmarkRecordId(back.bookmark_xml), 9u);
  // A damaged backfill line drops the backfill, never the bookmark.
  const EvtCheckpoint bad = parseEvtCheckpoint("t0w-backfill next=x\n" + bookmarkXml("S", 4));
  EXPECT_FALSE(bad.backfill.has_value());
  EXPECT_EQ(bad.bookmark_xml, bookmarkXml("S", 4));
}

TEST(EvtHistoryQueryTest, SuppressKeepsTheConfiguredXPathAndEscapesIt) {
  const std::string q = historyQueryXml("Application", "*[System[Provider[@Name='ADSync']]]",
                                        EvtHistoryRange{5, 90, 133590312001234567});
  EXPECT_EQ(q,
            "<QueryList><Query Id=\"0\" Path=\"Application\"><Select Path=\"Application\">"
            "*[System[Provider[@Name=&apos;ADSync&apos;]]]</Select><Suppress "
            "Path=\"Application\">*[System[EventRecordID &lt; 5 or EventRecordID &gt; 90 or "
            "TimeCreated[@SystemTime &lt; '2024-05-01T10:00:00.123Z']]]</Suppress></Query>"
            "</QueryList>");
  EXPECT_EQ(makeBookmarkXml("Security", 42), bookmarkXml("Security", 42));
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
