// The collector's database schema: the embedded migrations (SQLite or PostgreSQL dialect) and
// how they are applied, so that SqlStorage starts on an up-to-date schema.
#pragma once

#include "common/core/result.h"
#include "tools/collector/sql_conn.h"

namespace t0w::collector {

// Applies the migrations not yet recorded in schema_migrations, each in its own transaction
// (PostgreSQL: under an advisory lock, for two collectors starting at once). An error when the
// database's schema is newer than this collector.
Status migrateSchema(SqlConn& c, bool postgres);

}  // namespace t0w::collector
