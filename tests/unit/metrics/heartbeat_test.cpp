#include "agent/metrics/heartbeat.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"

namespace t0w {
namespace {

using std::chrono::seconds;
using testing::FakeClock;

TEST(HeartbeatTest, CarriesEverythingTheCollectorChecks) {
  FakeClock clock;
  SourceStatusBoard board(clock, seconds(10));
  board.add("Security", "eventlog");
  board.setState("Security", SourceState::kSubscribed);
  board.progress("Security", 30, "record:30", clock.now() - seconds(4));
  board.setTimeToWrap("Security", 7200.0);
  board.add("Missing", "eventlog");
  board.setState("Missing", SourceState::kAbsent, "channel not found");
  clock.advance(seconds(10));

  HeartbeatInputs in;
  in.version = "1.2.3";
  in.started = clock.now() - seconds(90);
  in.now = clock.now();
  in.config_digest = configDigest("a=1\n");
  in.config_origin = "file+group_policy";
  in.sources = board.snapshot();
  QueueStats q;
  q.events = 12;
  q.stored_bytes = 4096;
  q.oldest_age = std::chrono::milliseconds(2500);
  q.drops["Security"] = SourceDrops{7, 1};
  q.dead_letter_chunks = 2;
  in.queue = q;
  in.queue_max_bytes = 1 << 20;
  in.gaps = 3;
  in.rules_loaded = 40;
  in.rules_rejected = {"bad.yml: no detection"};
  in.process = ProcessSample{std::chrono::microseconds(1'500'000), 50 << 20, 60 << 20};
  in.load.cpu_percent = 1.25;
  in.clock_offset_ms = -42;
  in.audit = std::vector<RuleBlocker>{{"Kerberoasting", "no auditing"}};
  const auto j = buildHeartbeat(in);

  EXPECT_EQ(j["type"], "agent_status");
  EXPECT_EQ(j["version"], "1.2.3");
  EXPECT_EQ(j["uptime_seconds"], 90);
  EXPECT_EQ(j["config"]["origin"], "file+group_policy");
  EXPECT_EQ(j["config"]["digest"], configDigest("a=1\n"));
  EXPECT_NE(configDigest("a=1\n"), configDigest("a=2\n"));
  ASSERT_EQ(j["sources"].size(), 2u);
  const auto& missing = j["sources"][0];
  EXPECT_EQ(missing["name"], "Missing");
  EXPECT_EQ(missing["state"], "absent");
  EXPECT_EQ(missing["detail"], "channel not found");
  const auto& sec = j["sources"][1];
  EXPECT_EQ(sec["state"], "subscribed");
  EXPECT_EQ(sec["last_position"], "record:30");
  EXPECT_EQ(sec["events"], 30);
  EXPECT_EQ(sec["time_to_wrap_seconds"], 7200.0);
  EXPECT_EQ(sec["lag_seconds"], 14.0);
  EXPECT_EQ(j["queue_depth"], 12);
  EXPECT_EQ(j["queue"]["bytes"], 4096);
  EXPECT_EQ(j["queue"]["max_bytes"], 1 << 20);
  EXPECT_EQ(j["queue"]["oldest_age_seconds"], 2.5);
  EXPECT_EQ(j["drops"]["events"], 7);
  EXPECT_EQ(j["gaps"], 3);
  EXPECT_EQ(j["dead_letters"]["chunks"], 2);
  EXPECT_EQ(j["rules"]["loaded"], 40);
  EXPECT_EQ(j["rules"]["rejected"], 1);
  EXPECT_EQ(j["process"]["cpu_seconds"], 1.5);
  EXPECT_EQ(j["process"]["memory_bytes"], 50 << 20);
  EXPECT_EQ(j["process"]["peak_memory_bytes"], 60 << 20);
  EXPECT_EQ(j["clock_offset_ms"], -42);
  EXPECT_EQ(j["audit"]["rules_cannot_fire"][0]["rule"], "Kerberoasting");

  const QueueRecord r = heartbeatRecord(j, 1700, 5, in.now);
  EXPECT_EQ(r.kind, RecordKind::kStatus);
  EXPECT_EQ(r.key, "status|heartbeat|1700|5");
  EXPECT_TRUE(r.time.has_value());
  EXPECT_EQ(nlohmann::json::parse(r.body)["type"], "agent_status");
}

TEST(HeartbeatTest, UnknownQueueAndProcessAreNull) {
  HeartbeatInputs in;
  const auto j = buildHeartbeat(in);
  EXPECT_TRUE(j["queue_depth"].is_null());
  EXPECT_TRUE(j["process"].is_null());
  EXPECT_TRUE(j["clock_offset_ms"].is_null());
  EXPECT_EQ(j["audit"]["checked"], false);
}

}  // namespace
}  // namespace t0w
