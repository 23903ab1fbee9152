// Queue rows as an older agent wrote them, straight into the file (the queue's migration and
// status tests).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "agent/queue/chunk_codec.h"
#include "agent/queue/queue_migrations.h"
#include "common/sqlite/migrator.h"
#include "common/sqlite/sqlite_db.h"
#include "common/wire/queue_record.h"

namespace t0w::testing {

// A queue file as version `version` of the agent left it: created and migrated up to there only.
inline Result<SqliteDb> queueFileAtVersion(const std::filesystem::path& path, int version) {
  auto db = SqliteDb::open(path);
  if (!db) return db.error();
  if (Status s = Migrator(queueMigrations()).migrate(*db, version); !s) return s.error();
  return db;
}

// Runs `sql` with ?1 bound to the batch's raw size and ?2 to its encoded chunk.
inline void insertChunks(SqliteDb& db, const std::vector<QueueRecord>& batch, const char* sql) {
  auto chunk = encodeChunk(batch, 6);
  ASSERT_TRUE(chunk.ok());
  auto ins = db.prepare(sql, "insert");
  ASSERT_TRUE(ins.ok());
  ins->bind(1, static_cast<int64_t>(chunk->raw_bytes)).bindBlob(2, chunk->payload);
  ASSERT_TRUE(ins->run().ok());
}

}  // namespace t0w::testing
