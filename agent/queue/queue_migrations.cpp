#include "agent/queue/queue_migrations.h"

#include <iterator>

namespace t0w {
namespace {

constexpr Migration kMigrations[] = {
#include "queue_migrations.inc"
};

}  // namespace

std::span<const Migration> queueMigrations() { return kMigrations; }

int queueSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

}  // namespace t0w
