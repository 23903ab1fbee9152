#include "agent/queue/queue_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "agent/queue/event_queue.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/queue_records.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

using namespace std::chrono_literals;
using testing::eventBatch;
using testing::FakeClock;
using testing::TempDir;
namespace fs = std::filesystem;

class QueueFileTest : public ::testing::Test {
 protected:
  fs::path dbPath() const { return dir_.path() / "queue.db"; }
  std::vector<fs::path> quarantined() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      if (e.path().filename().string().find("queue.db.corrupt-") == 0) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // Opens a queue at dbPath(), expects it to be usable, and returns its incident.
  std::optional<QueueIncident> openAndUse() {
    QueueOptions o;
    o.path = dbPath();
    auto q = EventQueue::open(o, clock_);
    EXPECT_TRUE(q.ok()) << (q.ok() ? "" : q.error().toString());
    if (!q.ok()) return std::nullopt;
    auto r = (*q)->enqueue(eventBatch("Security", 1, 3), {"Security", "bm"});
    EXPECT_TRUE(r.ok() && r->stored());
    auto lease = (*q)->reserve(10, 1 << 20, 30s);
    EXPECT_GE(lease->records.size(), 3u);
    return (*q)->incident();
  }
  static void writeFile(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
  }
  static std::string readFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  TempDir dir_;
  FakeClock clock_;
};

TEST_F(QueueFileTest, RandomBytesAreQuarantinedAndReplaced) {
  const std::string garbage = testing::noise(8192, 7);
  writeFile(dbPath(), garbage);
  auto incident = openAndUse();
  ASSERT_TRUE(incident.has_value());
  const auto moved = quarantined();
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].filename(), "queue.db.corrupt-20260102T030405Z");
  EXPECT_EQ(readFile(moved[0]), garbage) << "the damaged file is kept for inspection";
  EXPECT_EQ(incident->quarantined_to, moved[0].string());
  EXPECT_EQ(incident->path, dbPath().string());
  EXPECT_NE(incident->reason.find("corrupt"), std::string::npos) << incident->reason;

  const QueueRecord rec = incident->toRecord();
  EXPECT_EQ(rec.kind, RecordKind::kStatus);
  auto body = nlohmann::json::parse(rec.body);
  EXPECT_EQ(body["type"], "queue_quarantined");
  EXPECT_EQ(body["quarantined_to"], moved[0].string());
  EXPECT_NE(incident->message().find("moved to"), std::string::npos);
}

TEST_F(QueueFileTest, TruncatedDatabaseIsQuarantined) {
  {
    QueueOptions o;
    o.path = dbPath();
    o.max_chunk_records = 5;
    auto q = EventQueue::open(o, clock_);
    ASSERT_TRUE(q.ok());
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE(
          (*q)->enqueue(eventBatch("Security", i * 50 + 1, 50, 300), {"Security", "x"}).ok());
    }
  }
  ASSERT_FALSE(fs::exists(dbPath().string() + "-wal")) << "closed cleanly: WAL folded in";
  const auto size = fs::file_size(dbPath());
  ASSERT_GT(size, 64u * 1024);
  fs::resize_file(dbPath(), size / 2);
  auto incident = openAndUse();
  ASSERT_TRUE(incident.has_value());
  EXPECT_EQ(quarantined().size(), 1u);
}

TEST_F(QueueFileTest, DirectoryInTheWayIsMovedAside) {
  fs::create_directories(dbPath() / "inner");
  auto incident = openAndUse();
  ASSERT_TRUE(incident.has_value());
  const auto moved = quarantined();
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_TRUE(fs::is_directory(moved[0] / "inner"));
  EXPECT_TRUE(fs::is_regular_file(dbPath()));
}

TEST_F(QueueFileTest, RepeatedIncidentsInOneSecondGetDistinctNames) {
  writeFile(dbPath(), testing::noise(4096, 1));
  ASSERT_TRUE(openAndUse().has_value());
  writeFile(dbPath(), testing::noise(4096, 2));
  // The fresh database's WAL companions must not be mistaken for the new garbage's.
  fs::remove(dbPath().string() + "-wal");
  fs::remove(dbPath().string() + "-shm");
  ASSERT_TRUE(openAndUse().has_value());
  const auto moved = quarantined();
  ASSERT_EQ(moved.size(), 2u);
  EXPECT_EQ(moved[0].filename(), "queue.db.corrupt-20260102T030405Z");
  EXPECT_EQ(moved[1].filename(), "queue.db.corrupt-20260102T030405Z-1");
}

TEST_F(QueueFileTest, HealthyDatabaseHasNoIncident) {
  ASSERT_FALSE(openAndUse().has_value());
  ASSERT_FALSE(openAndUse().has_value());
  EXPECT_TRUE(quarantined().empty());
  QueueOptions o;
  o.path = dbPath();
  auto q = EventQueue::open(o, clock_);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)->stats()->events, 6u) << "both sessions' records kept (never acked)";
}

TEST_F(QueueFileTest, MissingDirectoryIsAnIoErrorNotAQuarantine) {
  QueueOptions o;
  o.path = dir_.path() / "no" / "such" / "dir" / "queue.db";
  auto q = EventQueue::open(o, clock_);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().code, Errc::kIo);
  EXPECT_NE(q.error().message.find("open"), std::string::npos) << q.error().message;
}

TEST(CompactUtcTimestamp, FormatsUtc) {
  EXPECT_EQ(compactUtcTimestamp(std::chrono::system_clock::time_point(std::chrono::seconds(0))),
            "19700101T000000Z");
  EXPECT_EQ(
      compactUtcTimestamp(std::chrono::system_clock::time_point(std::chrono::seconds(1767323045))),
      "20260102T030405Z");
}

}  // namespace
}  // namespace t0w
