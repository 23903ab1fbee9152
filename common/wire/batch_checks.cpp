#include "common/wire/batch_checks.h"

namespace t0w::batch_checks {

Error batchError(std::string_view what) {
  return makeError(Errc::kParse, "batch: " + std::string(what));
}

int schemaVersion(std::string_view schema) {
  if (schema == kBatchSchemaV3) return 3;
  if (schema == kBatchSchemaV2) return 2;
  if (schema == kBatchSchemaV1) return 1;
  return 0;
}

std::optional<RecordKind> kindByName(std::string_view name) {
  if (name == "event") return RecordKind::kEvent;
  if (name == "alert") return RecordKind::kAlert;
  if (name == "status") return RecordKind::kStatus;
  return std::nullopt;
}

bool isQueueEpoch(std::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::optional<std::string> recordKey(int version, const std::string& prefix, std::string_view key) {
  if (version >= 3) {
    if (key.empty()) return std::nullopt;
    std::string out;
    out.reserve(prefix.size() + key.size());
    out += prefix;
    out += key;
    return out;
  }
  if (key.size() <= prefix.size() || key.substr(0, prefix.size()) != prefix) return std::nullopt;
  return std::string(key);
}

const char* keyExpected(int version) {
  return version >= 3 ? "key must be a non-empty string"
                      : "key must start with the agent id and '|'";
}

}  // namespace t0w::batch_checks
