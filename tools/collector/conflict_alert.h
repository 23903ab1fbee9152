// The alert the collector raises itself when an agent sends a batch id or record key again with
// other content than is stored under it: a queue rolled back (VM snapshot), a record id reused
// after a log was restored, or tampering. One alert per batch, however many records conflict.
#pragma once

#include <string_view>
#include <vector>

#include "tools/collector/storage.h"

namespace t0w::collector {

inline constexpr std::string_view kConflictRuleId = "tier0watch.collector.conflict";

IngestRecord conflictAlert(const IngestBatch& batch, const std::vector<ConflictRecord>& conflicts);

}  // namespace t0w::collector
