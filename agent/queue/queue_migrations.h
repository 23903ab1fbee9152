// The queue's schema migrations, embedded at build time from schemas/queue/NNNN_name.sql.
#pragma once

#include <span>

#include "common/sqlite/migrator.h"

namespace t0w {

// In version order.
std::span<const Migration> queueMigrations();
int queueSchemaVersion();  // the newest

}  // namespace t0w
