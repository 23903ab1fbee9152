// Pipeline with eventlog sources: the real EvtSubscriptionCollector over the scripted EvtApi
// double (tests/fakes/fake_evt_api.h) and the real SQLite queue. Portable:
// runs natively and under Wine (the double stands in for wevtapi.dll, which Wine only stubs).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "agent/pipeline/pipeline.h"
#include "collectors/eventlog/evt_subscription_collector.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_evt_api.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

using ::t0w::testing::bookmarkXml;
using ::t0w::testing::eventXml;
using ::t0w::testing::FakeEvtApi;

SourceConfig eventlogSource(const std::string& channel) {
  SourceConfig s;
  s.type = SourceType::kEventlog;
  s.channel = channel;
  return s;
}

struct Stored {
  std::vector<QueueRecord> records;
  std::set<std::string> keys() const {
    std::set<std::string> k;
    for (const auto& r : records) k.insert(r.key);
    return k;
  }
};

class PipelineEventlogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    QueueOptions o;
    o.path = dir_.path() / "queue.db";
    auto q = EventQueue::open(o, clock_);
    ASSERT_TRUE(q) << q.error().toString();
    queue_ = std::move(*q);
  }

  void fill(uint64_t first, uint64_t last, const std::string& channel = "Security") {
    for (uint64_t id = first; id <= last; ++id) api_->channels[channel][id] = eventXml(id, channel);
  }

  // Runs one subscription until the double's scripted waits are used up (it then reports
  // kInterrupted, which ends the collector like stop() does).
  void runSubscription(const std::string& channel, EnqueueListener listener = nullptr,
                       size_t batch_events = 1000,
                       std::optional<BackfillSetting> backfill = std::nullopt) {
    PipelineOptions o;
    o.batch.events = batch_events;
    o.sources.clock = &clock_;
    o.sources.eventlog_batch = 2;
    o.sources.evt_api = [this] { return api_->share(); };
    SourceConfig source = eventlogSource(channel);
    source.backfill = backfill;
    Pipeline p({source}, *queue_, nullptr, metrics_, std::move(listener), o);
    p.start();
    p.join();
    gaps_ += p.gaps();
  }

  Stored drain() {
    Stored out;
    for (;;) {
      auto lease = queue_->reserve(1000, 1 << 30, std::chrono::seconds(60));
      EXPECT_TRUE(lease);
      if (!lease || lease->empty()) break;
      for (auto& r : lease->records) out.records.push_back(r);
      EXPECT_TRUE(queue_->ack(*lease));
    }
    return out;
  }

  std::optional<uint64_t> storedBookmarkId(const std::string& channel = "Security") {
    auto cp = queue_->checkpoint("eventlog:" + channel);
    if (!cp || !*cp) return std::nullopt;
    return bookmarkRecordId(**cp);
  }

  t0w::testing::TempDir dir_;
  t0w::testing::FakeClock clock_;
  std::unique_ptr<EventQueue> queue_;
  AgentMetrics metrics_;
  std::unique_ptr<FakeEvtApi> api_ = std::make_unique<FakeEvtApi>();
  uint64_t gaps_ = 0;
};

TEST_F(PipelineEventlogTest, EachBatchIsStoredWithItsBookmarkInOneEnqueue) {
  api_->channels["Security"];  // empty at the first start: everything that comes is read live
  api_->waits.push_back([this] { fill(1, 5); });
  // Observed after every committed enqueue: the stored bookmark must name exactly the last
  // stored event (ids are 1..n), never one that is not stored yet, never lag behind.
  std::vector<std::pair<uint64_t, std::optional<uint64_t>>> commits;  // (events, bookmark id)
  uint64_t events = 0;
  runSubscription("Security", [&](size_t records, size_t) {
    events += records;
    commits.emplace_back(events, storedBookmarkId());
  });

  ASSERT_EQ(commits.size(), 3u);  // EvtNext batches of 2: {1,2} {3,4} {5}
  for (const auto& [stored, bookmark] : commits) {
    ASSERT_TRUE(bookmark.has_value());
    EXPECT_EQ(*bookmark, stored);
  }
  EXPECT_EQ(*queue_->checkpoint("eventlog:Security"), bookmarkXml("Security", 5));
  const Stored s = drain();
  EXPECT_EQ(s.keys(), (std::set<std::string>{"Security|1", "Security|2", "Security|3", "Security|4",
                                             "Security|5"}));
  EXPECT_EQ(metrics_.source("eventlog:Security").enqueued, 5u);
  // The first start had no bookmark and an empty channel: it read from the oldest record.
  ASSERT_FALSE(api_->subscribe_calls.empty());
  EXPECT_EQ(api_->subscribe_calls.front().flags, uint32_t{EvtApi::kStartAtOldestRecord});
  EXPECT_EQ(api_->openHandles(), 0u);
}

TEST_F(PipelineEventlogTest, AnEarlyStoreKeepsThePreviousBookmark) {
  api_->channels["Security"];
  api_->waits.push_back([this] { fill(1, 5); });
  // A store limit of one event: every event is stored on its own, before the collector hands
  // over the bookmark of its EvtNext batch (of 2).
  std::vector<std::pair<uint64_t, std::optional<uint64_t>>> commits;
  uint64_t events = 0;
  runSubscription(
      "Security",
      [&](size_t records, size_t) {
        events += records;
        commits.emplace_back(events, storedBookmarkId());
      },
      1);
  // Each event is stored with the bookmark of the batch before it (never one past what is
  // stored); the batch's own bookmark follows in a store of its own.
  using Commit = std::pair<uint64_t, std::optional<uint64_t>>;
  EXPECT_EQ(commits,
            (std::vector<Commit>{{1, std::nullopt}, {2, std::nullopt}, {3, 2}, {4, 2}, {5, 4}}));
  EXPECT_EQ(storedBookmarkId(), std::optional<uint64_t>(5));
  EXPECT_EQ(drain().keys().size(), 5u);
}

TEST_F(PipelineEventlogTest, RestartResumesAfterTheStoredBookmark) {
  api_->channels["Security"];
  api_->waits.push_back([this] { fill(1, 3); });
  runSubscription("Security");
  EXPECT_EQ(drain().keys().size(), 3u);
  EXPECT_EQ(storedBookmarkId(), std::optional<uint64_t>(3));

  // New events while the agent was down; the next start subscribes after the stored bookmark.
  fill(4, 6);
  auto fresh = std::make_unique<FakeEvtApi>();  // a new process: a new API, same channel
  fresh->channels = api_->channels;
  api_ = std::move(fresh);
  runSubscription("Security");

  ASSERT_FALSE(api_->subscribe_calls.empty());
  EXPECT_EQ(api_->subscribe_calls.front().flags,
            uint32_t{EvtApi::kStartAfterBookmark | EvtApi::kStrict});
  EXPECT_EQ(drain().keys(), (std::set<std::string>{"Security|4", "Security|5", "Security|6"}));
  EXPECT_EQ(storedBookmarkId(), std::optional<uint64_t>(6));
  EXPECT_EQ(gaps_, 0u);
}

TEST_F(PipelineEventlogTest, StaleBookmarkStoresAGapEventAndAGapStatusRecord) {
  // The stored bookmark points at record 10; the log wrapped and now starts at 20.
  ASSERT_TRUE(queue_->enqueue({}, Checkpoint{"eventlog:Security", bookmarkXml("Security", 10)}));
  fill(20, 22);
  runSubscription("Security");

  const Stored s = drain();
  std::map<std::string, const QueueRecord*> by_key;
  for (const auto& r : s.records) by_key[r.key] = &r;
  ASSERT_TRUE(by_key.contains("gap:Security|11"));
  ASSERT_TRUE(by_key.contains("status|gap:Security|11"));
  EXPECT_EQ(by_key["gap:Security|11"]->kind, RecordKind::kEvent);
  const QueueRecord& status = *by_key["status|gap:Security|11"];
  EXPECT_EQ(status.kind, RecordKind::kStatus);
  const auto body = nlohmann::json::parse(status.body);
  // tools/collector counts status records whose type contains "gap".
  EXPECT_EQ(body.at("type"), "eventlog_gap");
  EXPECT_EQ(body.at("Channel"), "Security");
  EXPECT_EQ(body.at("FirstMissingRecordId"), "11");
  EXPECT_EQ(body.at("LastMissingRecordId"), "19");
  EXPECT_EQ(body.at("MissingCount"), "9");
  const auto event = nlohmann::json::parse(by_key["gap:Security|11"]->body);
  EXPECT_EQ(event.at("System").at("Provider").at("Name"), kGapProvider);
  // Reading went on at the oldest record, never "future only".
  for (const char* k : {"Security|20", "Security|21", "Security|22"}) {
    EXPECT_TRUE(by_key.contains(k)) << k;
  }
  EXPECT_EQ(s.records.size(), 5u);
  EXPECT_EQ(gaps_, 1u);
  EXPECT_EQ(storedBookmarkId(), std::optional<uint64_t>(22));
}

TEST_F(PipelineEventlogTest, MissingChannelIsAStatusRecordNotAnErrorAndIsReadOnceInstalled) {
  const std::string channel = "Microsoft-AzureADPasswordProtection-DCAgent/Admin";
  // Two probes without the channel, then the DC agent gets installed.
  api_->waits.push_back(nullptr);
  api_->waits.push_back([this, channel] { fill(1, 2, channel); });
  api_->waits.push_back(nullptr);
  runSubscription(channel, nullptr, 1000, BackfillSetting{BackfillSetting::Kind::kAll, 0});

  EXPECT_EQ(metrics_.source("eventlog:" + channel).input_errors, 0u);  // not an error
  EXPECT_EQ(api_->subscribe_calls.size(), 1u);
  const Stored s = drain();
  std::vector<std::string> types;
  std::set<std::string> events;
  for (const auto& r : s.records) {
    if (r.kind == RecordKind::kStatus) {
      types.push_back(nlohmann::json::parse(r.body).at("type"));
      EXPECT_EQ(r.key.rfind("status|notice:" + channel + "|", 0), 0u) << r.key;
    } else {
      events.insert(r.key);
    }
  }
  // Once "configured, absent" although probed twice; "present" once subscribed; the agent's
  // history is read by the backfill; the backfill's end is reported too.
  EXPECT_EQ(types, (std::vector<std::string>{"eventlog_absent", "eventlog_present",
                                             "eventlog_backfill_done"}));
  EXPECT_EQ(events, (std::set<std::string>{channel + "|1", channel + "|2"}));
}

TEST_F(PipelineEventlogTest, FirstStartStoresTheBackfillProgressWithTheBookmark) {
  fill(1, 5);
  std::vector<std::string> checkpoints;
  runSubscription(
      "Security",
      [&](size_t, size_t) { checkpoints.push_back(**queue_->checkpoint("eventlog:Security")); },
      1000, BackfillSetting{BackfillSetting::Kind::kAll, 0});
  ASSERT_GE(checkpoints.size(), 2u);
  // Stored with the history batch: live after 5 (the newest record at the first start), the
  // backfill's progress beside it; a restart here would resume both.
  const EvtCheckpoint first = parseEvtCheckpoint(checkpoints.front());
  ASSERT_TRUE(first.backfill.has_value()) << checkpoints.front();
  EXPECT_EQ(first.backfill->next_record, 6u);
  EXPECT_EQ(first.backfill->last_record, 5u);
  EXPECT_EQ(bookmarkRecordId(first.bookmark_xml), 5u);
  EXPECT_FALSE(parseEvtCheckpoint(**queue_->checkpoint("eventlog:Security")).backfill);
  std::set<std::string> keys;
  for (const auto& r : drain().records) {
    if (r.kind == RecordKind::kEvent) keys.insert(r.key);
  }
  EXPECT_EQ(keys, (std::set<std::string>{"Security|1", "Security|2", "Security|3", "Security|4",
                                         "Security|5"}));
}

TEST(PipelineSourcesTest, EventlogIsRefusedOnLinuxWithAClearError) {
  const std::vector<SourceConfig> sources = {eventlogSource("Security")};
  const Status linux_result = checkSources(sources, HostPlatform::kLinux);
  ASSERT_FALSE(linux_result);
  EXPECT_EQ(linux_result.error().code, Errc::kUnsupported);
  EXPECT_NE(linux_result.error().message.find("sources[0] eventlog \"Security\""),
            std::string::npos)
      << linux_result.error().message;
  EXPECT_NE(linux_result.error().message.find("Windows only"), std::string::npos);
  EXPECT_TRUE(checkSources(sources, HostPlatform::kWindows));
}

TEST(PipelineSourcesTest, EveryMissionChannelIsOnByDefaultWithItsFilter) {
  AgentConfig c;  // the defaults
  std::map<std::string, std::string> query;
  std::map<std::string, bool> formatted;
  for (const SourceConfig& s : agentSources(c, HostPlatform::kWindows)) {
    query[s.channel] = s.query;
    formatted[s.channel] = s.format_messages;
  }
  for (const char* ch : {"Security", "Microsoft-AzureADConnect-AuthenticationAgent/Admin",
                         "Microsoft-AadApplicationProxy-Connector/Admin",
                         "Microsoft-Microsoft Entra private network-Connector/Admin",
                         "Microsoft-AzureADPasswordProtection-DCAgent/Admin",
                         "Microsoft-AzureADPasswordProtection-DCAgent/Operational", "Application",
                         "Microsoft-Windows-PowerShell/Operational", "System"}) {
    EXPECT_EQ(query.count(ch), 1u) << ch;
  }
  EXPECT_EQ(query["Security"], "*");
  EXPECT_FALSE(formatted["Security"]);
  EXPECT_TRUE(formatted["Microsoft-AzureADPasswordProtection-DCAgent/Admin"]);
  EXPECT_EQ(query["Microsoft-Windows-PowerShell/Operational"], "*[System[EventID=4104]]");
  for (const char* source :
       {"'ADSync'", "'Directory Synchronization'", "'Azure AD Connect Upgrade'",
        "'Microsoft Entra Connect Upgrade'", "'Entra Connect Admin Actions'"}) {
    EXPECT_NE(query["Application"].find(source), std::string::npos) << source;
  }
  EXPECT_NE(query["System"].find("EventID=7045"), std::string::npos);
  EXPECT_NE(query["System"].find("EventID=104"), std::string::npos);
}

TEST(PipelineSourcesTest, BackfillComesFromTheSourceItsStartOrTheWindowsSetting) {
  AgentConfig c;
  c.backfill = *parseBackfill("7d");
  c.backfill_cpu_percent = 25;
  SourceConfig future = eventlogSource("A");
  future.start = EventlogStart::kFuture;
  SourceConfig oldest = eventlogSource("B");
  oldest.start = EventlogStart::kOldest;
  SourceConfig own = eventlogSource("C");
  own.backfill = *parseBackfill("90m");
  c.sources = {future, oldest, own, eventlogSource("D")};
  const auto s = agentSources(c, HostPlatform::kWindows);
  EXPECT_EQ(s[0].backfill->kind, BackfillSetting::Kind::kNone);
  EXPECT_EQ(s[1].backfill->kind, BackfillSetting::Kind::kAll);
  EXPECT_EQ(s[2].backfill->seconds, 90 * 60);
  EXPECT_EQ(s[3].backfill->seconds, 7 * 86400);
  EXPECT_DOUBLE_EQ(s[3].backfill_cpu_share, 0.25);
  EXPECT_FALSE(parseBackfill("24x"));
  EXPECT_FALSE(parseBackfill("0h"));
  EXPECT_FALSE(parseBackfill(""));
  EXPECT_EQ(backfillName(*parseBackfill("none")), "none");
}

TEST(PipelineSourcesTest, OneSubscriptionPerChannel) {
  const Status s = checkSources({eventlogSource("Security"), eventlogSource("security")},
                                HostPlatform::kWindows);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("sources[1]"), std::string::npos) << s.error().message;
}

TEST(PipelineSourcesTest, WindowsAddsTheConfiguredChannelsNotListedAlready) {
  AgentConfig c;
  c.security_channel = true;
  c.password_protection_admin = true;
  c.pta_agent_admin = c.private_network_connector_admin = false;
  c.password_protection_operational = c.entra_connect_application = false;
  c.powershell_script_block = c.system_service_and_clear = false;
  c.entra_connect_trace = false;
  SourceConfig explicit_security = eventlogSource("SECURITY");
  explicit_security.query = "*[System[EventID=4624]]";
  c.sources = {explicit_security};

  const auto win = agentSources(c, HostPlatform::kWindows);
  ASSERT_EQ(win.size(), 2u);
  EXPECT_EQ(win[0].query, "*[System[EventID=4624]]");  // the explicit source wins
  EXPECT_EQ(win[1].type, SourceType::kEventlog);
  EXPECT_EQ(win[1].channel, "Microsoft-AzureADPasswordProtection-DCAgent/Admin");
  EXPECT_TRUE(win[1].format_messages);   // an Entra channel: message text
  EXPECT_FALSE(win[0].format_messages);  // never Security
  ASSERT_TRUE(win[1].backfill.has_value());
  EXPECT_EQ(*win[1].backfill, BackfillSetting{});  // the last 24 hours
  EXPECT_DOUBLE_EQ(win[1].backfill_cpu_share, 0.1);
  EXPECT_TRUE(checkSources(win, HostPlatform::kWindows));
  // Linux runs what `sources` lists (the windows section is for Windows).
  EXPECT_EQ(agentSources(c, HostPlatform::kLinux).size(), 1u);
}

}  // namespace
}  // namespace t0w
