// A tracefile source through the real Pipeline and queue: entries and the tail's checkpoint are
// stored together, a restart resumes after what was stored, the Windows defaults add the Entra
// Connect globs. Waits are bounded waits on the pipeline's enqueue listener (no sleeping).
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "agent/pipeline/pipeline.h"
#include "agent/queue/chunk_codec.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

std::string entry(int i) {
  char buf[80];
  std::snprintf(buf, sizeof(buf), "[10:00:%02d.000] [  1] [INFO ] entry %d\n", i % 60, i);
  return buf;
}

class PipelineTracefileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() / "AADConnect");
    trace_ = dir_.path() / "AADConnect" / "trace-20240101-000000.log";
    glob_ = (dir_.path() / "AADConnect" / "trace-*.log").string();
    QueueOptions o;
    o.path = dir_.path() / "queue.db";
    auto q = EventQueue::open(o, clock_);
    ASSERT_TRUE(q) << q.error().toString();
    queue_ = std::move(*q);
  }

  void append(int first, int last) {
    std::ofstream out(trace_, std::ios::binary | std::ios::app);
    for (int i = first; i <= last; ++i) out << entry(i);
  }

  // Runs the pipeline until `events` more event records were committed, then stops it.
  size_t runUntil(size_t events) {
    SourceConfig s;
    s.type = SourceType::kTracefile;
    s.path = glob_;
    PipelineOptions o;
    o.batch.events = 4;  // the tail hands over a checkpoint every 2 entries
    o.sources.tracefile_poll = std::chrono::milliseconds(5);
    o.sources.tracefile_entry_idle = std::chrono::milliseconds(0);
    o.sources.clock = &clock_;
    std::mutex mu;
    std::condition_variable cv;
    size_t stored = 0;
    Pipeline p(
        {s}, *queue_, nullptr, metrics_,
        [&](size_t n, size_t) {
          std::lock_guard lock(mu);
          stored += n;
          cv.notify_all();
        },
        o);
    p.start();
    {
      std::unique_lock lock(mu);
      EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return stored >= events; }));
    }
    p.stop();
    p.join();
    return stored;
  }

  std::vector<QueueRecord> drain() {
    std::vector<QueueRecord> out;
    for (;;) {
      auto lease = queue_->reserve(1000, 1 << 30, std::chrono::seconds(60));
      EXPECT_TRUE(lease);
      if (!lease || lease->empty()) break;
      for (auto& r : lease->records) out.push_back(r);
      EXPECT_TRUE(queue_->ack(*lease));
    }
    return out;
  }

  uint64_t storedOffset() {
    auto cp = queue_->checkpoint("tracefile:" + glob_);
    EXPECT_TRUE(cp && *cp);
    if (!cp || !*cp) return 0;
    return nlohmann::json::parse(**cp)["files"][0]["offset"].get<uint64_t>();
  }

  t0w::testing::TempDir dir_;
  t0w::testing::FakeClock clock_;
  AgentMetrics metrics_;
  std::filesystem::path trace_;
  std::string glob_;
  std::unique_ptr<EventQueue> queue_;
};

TEST_F(PipelineTracefileTest, StoresEntriesWithTheirCheckpointAndResumesAfterThem) {
  append(1, 10);
  EXPECT_EQ(runUntil(10), 10u);
  EXPECT_EQ(storedOffset(), std::filesystem::file_size(trace_));
  auto records = drain();
  std::set<std::string> keys;
  for (const auto& r : records) {
    keys.insert(r.key);
    EXPECT_TRUE(r.key.starts_with("tracefile:")) << r.key;
    const auto body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["System"]["Provider"]["Name"], "AADConnect-Trace") << r.body;
  }
  EXPECT_EQ(keys.size(), 10u);
  // A restart: only what was appended since.
  append(11, 13);
  EXPECT_EQ(runUntil(3), 3u);
  records = drain();
  ASSERT_EQ(records.size(), 3u);
  for (const auto& r : records) EXPECT_FALSE(keys.contains(r.key)) << r.key;
  EXPECT_NE(records[0].body.find("entry 11"), std::string::npos) << records[0].body;
  EXPECT_EQ(storedOffset(), std::filesystem::file_size(trace_));
}

TEST(PipelineTracefileSourcesTest, EntraConnectTraceAddsTheStandardGlobsOnWindows) {
  AgentConfig c;
  c.security_channel = c.password_protection_admin = false;
  c.pta_agent_admin = c.private_network_connector_admin = false;
  c.password_protection_operational = c.entra_connect_application = false;
  c.powershell_script_block = c.system_service_and_clear = false;
  c.entra_connect_trace = true;
  const auto win = agentSources(c, HostPlatform::kWindows);
  ASSERT_EQ(win.size(), 2u);
  EXPECT_EQ(win[0].type, SourceType::kTracefile);
  EXPECT_EQ(win[0].path.string(), "%ProgramData%\\AADConnect\\trace-*.log");
  EXPECT_EQ(win[1].path.string(),
            "%SystemDrive%\\Users\\*\\AppData\\Local\\AADConnect\\trace-*.log");
  EXPECT_TRUE(checkSources(win, HostPlatform::kWindows));
  EXPECT_TRUE(agentSources(c, HostPlatform::kLinux).empty());
  // The same glob twice would share one checkpoint: refused, naming the source.
  const Status twice = checkSources({win[0], win[0]}, HostPlatform::kWindows);
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("sources[1] tracefile"), std::string::npos)
      << twice.error().message;
  // Listed explicitly already: not added a second time.
  c.sources = {win[0]};
  EXPECT_EQ(agentSources(c, HostPlatform::kWindows).size(), 2u);
}

}  // namespace
}  // namespace t0w
