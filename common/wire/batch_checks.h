// The checks of a batch document that the tree decoder (parseBatchJson) and the one-pass scan
// (scanBatchJson) share, so that both accept the same documents and refuse the others with the
// same messages. Internal to common/wire.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/core/result.h"
#include "common/wire/batch_encoder.h"

namespace t0w::batch_checks {

inline constexpr std::string_view kSchemaExpected =
    "schema is not \"tier0watch.batch/3\", \"tier0watch.batch/2\" or \"tier0watch.batch/1\"";

// An Errc::kParse error "batch: <what>".
Error batchError(std::string_view what);

// 1, 2 or 3; 0 for any other schema string.
int schemaVersion(std::string_view schema);

std::optional<RecordKind> kindByName(std::string_view name);

// 16 lower-case hex digits.
bool isQueueEpoch(std::string_view s);

// The decoded key "<agent id>|<local key>" of a record (`prefix` is "<agent id>|"), or nullopt
// when the wire key is not what its version requires: v1/v2 the prefixed key with a non-empty
// local part, v3 a non-empty local key (prefixed here, whatever it contains: a v3 key naming
// another agent stays in this agent's key space).
std::optional<std::string> recordKey(int version, const std::string& prefix, std::string_view key);

// What recordKey() wants, for the error message.
const char* keyExpected(int version);

}  // namespace t0w::batch_checks
