// Opening the queue database: pragmas, integrity check, migrations; a file that is corrupt or
// unreadable as a database is moved aside (renamed with a timestamp suffix) and replaced by a
// fresh one, and the incident is returned for the caller to report. The agent keeps running.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/core/clock.h"
#include "common/core/result.h"
#include "common/sqlite/sqlite_db.h"
#include "common/wire/queue_record.h"

namespace t0w {

enum class SyncMode { kNormal, kFull };

struct QueueIncident {
  int64_t time_ms = 0;         // unix milliseconds
  std::string path;            // the database that could not be used
  std::string quarantined_to;  // where it was moved
  std::string reason;          // the error that triggered the quarantine

  std::string message() const;
  // A status record for the priority lane, so that the incident reaches the collector.
  QueueRecord toRecord() const;
};

struct QueueFile {
  SqliteDb db;
  std::optional<QueueIncident> incident;
};

Result<QueueFile> openQueueFile(const std::filesystem::path& path, SyncMode sync,
                                const Clock& clock);

// "20261126T203617Z": safe in file names on Windows and Linux.
std::string compactUtcTimestamp(std::chrono::system_clock::time_point tp);

}  // namespace t0w
