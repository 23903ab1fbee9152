// The Migrator on its own: a failing step stops the upgrade at the last good version. The queue's
// own migrations: tests/unit/queue/queue_migrations_test.cpp.
#include "common/sqlite/migrator.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

using testing::TempDir;

TEST(Migrator, FailingMigrationLeavesTheVersionUnchanged) {
  TempDir dir;
  auto db = SqliteDb::open(dir.path() / "queue.db");
  ASSERT_TRUE(db.ok());
  const Migration broken[] = {{1, "0001_ok.sql", "CREATE TABLE a(x);"},
                              {2, "0002_bad.sql", "CREATE TABLE b(x); CREATE TABLE a(y);"}};
  Status s = Migrator(broken).migrate(*db);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("0002_bad.sql"), std::string::npos) << s.error().message;
  EXPECT_EQ(*db->queryInt("PRAGMA user_version", "v"), 1);
  EXPECT_EQ(*db->queryInt("SELECT count(*) FROM sqlite_master WHERE name = 'b'", "q"), 0);
}

}  // namespace
}  // namespace t0w
