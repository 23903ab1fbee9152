#include "collectors/evtx/evtx_query_collector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/fakes/fake_event_sink.h"
#include "tests/fakes/fake_evt_api.h"

namespace t0w {
namespace {

using ::t0w::testing::FakeEventSink;

using ::t0w::testing::eventXml;
using ::t0w::testing::FakeEvtApi;

class EvtxQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint64_t id = 100; id < 105; ++id) api.files["logs/Security.evtx"].push_back(eventXml(id));
  }
  FakeEvtApi api;
  FakeEventSink sink;
};

TEST_F(EvtxQueryTest, ReadsEveryRecordInOrderWithItsIndexAsPosition) {
  EvtxQueryOptions options;
  options.batch_size = 2;
  EvtxQueryCollector c(api, "logs/Security.evtx", options);
  const SourceSummary s = c.run(sink);
  ASSERT_EQ(sink.events.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(sink.events[i].system.record_id, 100 + i);
    EXPECT_EQ(sink.events[i].origin.source, "logs/Security.evtx");  // the path as given
    EXPECT_EQ(sink.events[i].origin.position, i);
  }
  EXPECT_EQ(s.records, 5u);
  EXPECT_EQ(s.errors, 0u);
  // EvtQuery needs a full path.
  ASSERT_EQ(api.queried_paths.size(), 1u);
  EXPECT_TRUE(std::filesystem::path(api.queried_paths[0]).is_absolute()) << api.queried_paths[0];
  EXPECT_EQ(api.openHandles(), 0u);
  EXPECT_EQ(api.bad_closes, 0);
}

TEST_F(EvtxQueryTest, MissingFileIsOneErrorNamingTheFile) {
  EvtxQueryCollector c(api, "logs/nope.evtx");
  const SourceSummary s = c.run(sink);
  EXPECT_TRUE(sink.events.empty());
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].source, "logs/nope.evtx");
  EXPECT_EQ(sink.errors[0].error.code, Errc::kNotFound);
  EXPECT_EQ(sink.errors[0].error.message,
            "logs/nope.evtx: cannot open as EVTX: EvtQuery: Win32 error 2");
  EXPECT_EQ(s.errors, 1u);
}

TEST_F(EvtxQueryTest, BadRecordIsReportedAndTheNextOnesAreRead) {
  api.files["logs/Security.evtx"][1] = "<Event><System><EventRecordID>zz";
  api.render_errors = {evt_errc::kOk, evt_errc::kOk, 15027};  // record 2 fails to render
  EvtxQueryCollector c(api, "logs/Security.evtx");
  const SourceSummary s = c.run(sink);
  ASSERT_EQ(sink.events.size(), 3u);
  EXPECT_EQ(sink.events[0].origin.position, 0u);
  EXPECT_EQ(sink.events[1].origin.position, 3u);
  EXPECT_EQ(sink.events[2].origin.position, 4u);
  ASSERT_EQ(sink.errors.size(), 2u);
  EXPECT_EQ(sink.errors[0].position, 1u);
  EXPECT_EQ(sink.errors[0].error.message.rfind("logs/Security.evtx: record 1: ", 0), 0u)
      << sink.errors[0].error.message;
  EXPECT_EQ(sink.errors[1].position, 2u);
  EXPECT_EQ(sink.errors[1].error.message,
            "logs/Security.evtx: record 2: EvtRender: Win32 error 15027");
  EXPECT_EQ(s.records, 3u);
  EXPECT_EQ(s.errors, 2u);
  EXPECT_EQ(api.openHandles(), 0u);
}

TEST_F(EvtxQueryTest, EvtNextFailureEndsTheFileWithAnErrorSayingWhatWasRead) {
  api.next_errors = {evt_errc::kOk, 1392};  // ERROR_FILE_CORRUPT after the first batch
  EvtxQueryOptions options;
  options.batch_size = 2;
  EvtxQueryCollector c(api, "logs/Security.evtx", options);
  const SourceSummary s = c.run(sink);
  EXPECT_EQ(sink.events.size(), 2u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].error.code, Errc::kCorrupt);
  EXPECT_EQ(sink.errors[0].position, 2u);
  EXPECT_EQ(sink.errors[0].error.message,
            "logs/Security.evtx: record 2: EvtNext: Win32 error 1392; 2 records read, others may "
            "be missing");
  EXPECT_EQ(s.records, 2u);
  EXPECT_EQ(api.openHandles(), 0u);
}

TEST_F(EvtxQueryTest, StopFlagEndsTheReadAndClosesEveryHandle) {
  std::atomic<bool> outer_stop{true};
  EvtxQueryOptions options;
  options.stop_flag = &outer_stop;
  EvtxQueryCollector c(api, "logs/Security.evtx", options);
  const SourceSummary s = c.run(sink);
  EXPECT_EQ(s.records, 0u);
  EXPECT_EQ(api.openHandles(), 0u);
}

}  // namespace
}  // namespace t0w
