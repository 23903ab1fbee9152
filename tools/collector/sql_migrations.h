// The collector's database schema: the embedded migrations (SQLite or PostgreSQL dialect) and
// how they are applied, so that SqlStorage starts on an up-to-date schema.
#pragma once

#include <functional>

#include "common/core/result.h"
#include "tools/collector/sql_conn.h"

namespace t0w::collector {

// Applies the migrations not yet recorded in schema_migrations, each in its own transaction
// (PostgreSQL: under an advisory lock, for two collectors starting at once), then `then` (when
// given) under the same lock: what start-up sets up from the configuration rather than from a
// migration (the search index, sql_search.h). An error when the database's schema is newer
// than this collector.
Status migrateSchema(SqlConn& c, bool postgres, const std::function<Status()>& then = {});

}  // namespace t0w::collector
