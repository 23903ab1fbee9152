// collectors/registry: every source type planned from its configuration, as `run` and `scan` use
// it.
#include "collectors/registry.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_evt_api.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

SourceConfig config(SourceType type, const std::filesystem::path& path) {
  SourceConfig s;
  s.type = type;
  s.path = path;
  return s;
}

const SourceStatus* find(const SourceStatusBoard& board, const std::string& name,
                         std::vector<SourceStatus>& keep) {
  keep = board.snapshot();
  for (const auto& s : keep) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

TEST(RegistryTest, EvtxFolderIsOneStreamPerFileInNameOrder) {
  t0w::testing::TempDir dir;
  for (const char* f : {"b.evtx", "a.evtx", "notes.txt"}) std::ofstream(dir.path() / f) << "x";
  t0w::testing::FakeClock clock;
  SourceStatusBoard board(clock, std::chrono::seconds(60));
  SourceContext context;
  context.board = &board;
  auto plan = planSource(config(SourceType::kEvtxReplay, dir.path()), context);
  ASSERT_TRUE(plan) << plan.error().toString();
  ASSERT_EQ(plan->streams.size(), 2u);
  EXPECT_EQ(plan->streams[0].name, (dir.path() / "a.evtx").string());
  EXPECT_EQ(plan->streams[1].name, (dir.path() / "b.evtx").string());
  EXPECT_EQ(plan->streams[0].resumption, Resumption::kPosition);
  EXPECT_STREQ(plan->streams[0].position_prefix, "record:");
  ASSERT_TRUE(plan->finished);
  plan->finished();
  std::vector<SourceStatus> keep;
  const SourceStatus* s = find(board, dir.path().string(), keep);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->state, SourceState::kStopped);
}

TEST(RegistryTest, XmlFileOpensAnXmlReaderThatReadsIt) {
  t0w::testing::TempDir dir;
  const auto file = dir.path() / "e.xml";
  std::ofstream(file) << "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"
                         "<System><EventID>4624</EventID><EventRecordID>7</EventRecordID>"
                         "<Channel>Security</Channel></System></Event>\n";
  auto plan = planSource(config(SourceType::kXml, file), {});
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->streams.size(), 1u);
  EXPECT_STREQ(plan->streams[0].position_prefix, "offset:");
  auto opened = plan->streams[0].open({}, {});
  ASSERT_TRUE(opened);
  struct Count final : EventSink {
    int events = 0;
    void onEvent(Event&&) override { ++events; }
    void onError(const InputError&) override {}
  } sink;
  EXPECT_EQ(opened->collector->run(sink).records, 1u);
  EXPECT_EQ(sink.events, 1);
}

TEST(RegistryTest, MissingReplayIsAbsentOnTheBoardAndAnErrorNamingIt) {
  t0w::testing::TempDir dir;
  t0w::testing::FakeClock clock;
  SourceStatusBoard board(clock, std::chrono::seconds(60));
  SourceContext context;
  context.board = &board;
  const auto missing = dir.path() / "nope.xml";
  auto plan = planSource(config(SourceType::kXml, missing), context);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, Errc::kNotFound);
  EXPECT_NE(plan.error().message.find(missing.string()), std::string::npos);
  std::vector<SourceStatus> keep;
  const SourceStatus* s = find(board, missing.string(), keep);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->state, SourceState::kAbsent);
}

TEST(RegistryTest, EventlogNeedsTheEventLogApi) {
  SourceConfig s;
  s.type = SourceType::kEventlog;
  s.channel = "Security";
  auto refused = planSource(s, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnsupported);
  EXPECT_EQ(sourceName(s), "eventlog:Security");

  t0w::testing::FakeEvtApi api;
  SourceContext context;
  context.evt_api = [&api] { return api.share(); };
  auto plan = planSource(s, context);
  ASSERT_TRUE(plan) << plan.error().toString();
  ASSERT_EQ(plan->streams.size(), 1u);
  EXPECT_EQ(plan->streams[0].resumption, Resumption::kHandedOver);
  auto opened = plan->streams[0].open("", [](const std::string&) {});
  ASSERT_TRUE(opened) << opened.error().toString();
  EXPECT_NE(opened->starting.find("first start"), std::string::npos) << opened->starting;
}

TEST(RegistryTest, TracefileIsAHandedOverStreamNamedByItsGlob) {
  const SourceConfig s = config(SourceType::kTracefile, "/var/log/x/trace-*.log");
  EXPECT_EQ(sourceName(s), "tracefile:/var/log/x/trace-*.log");
  auto plan = planSource(s, {});
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->streams.size(), 1u);
  EXPECT_EQ(plan->streams[0].resumption, Resumption::kHandedOver);
  auto opened = plan->streams[0].open("", [](const std::string&) {});
  ASSERT_TRUE(opened);
  EXPECT_NE(opened->starting.find("trace-*.log"), std::string::npos);
}

TEST(RegistryTest, TraitsSayWhatEndsAndWhatNeedsWindows) {
  EXPECT_TRUE(sourceTraits(SourceType::kXml).ends);
  EXPECT_TRUE(sourceTraits(SourceType::kEvtxReplay).ends);
  EXPECT_FALSE(sourceTraits(SourceType::kEventlog).ends);
  EXPECT_FALSE(sourceTraits(SourceType::kTracefile).ends);
  EXPECT_TRUE(sourceTraits(SourceType::kEventlog).windows_only);
  EXPECT_FALSE(sourceTraits(SourceType::kTracefile).windows_only);
}

}  // namespace
}  // namespace t0w
