// What tells a re-sent batch or record from one with other content. Bodies are stored as the
// agent sent them (one-pass ingest); collectors before that stored nlohmann's re-serialisation
// (members sorted, numbers and escapes normalised). A batch or record stored by such a collector
// and re-sent after the upgrade has the same content in another text: the canonical forms below
// tell it apart from a real conflict, on the (rare) path where the texts differ.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tools/collector/storage.h"

namespace t0w::collector {

// SHA-256 over the records as stored (kind, key, time, body text): the same records give the
// same hash however often they are sent; the agent member (version, host name) is left out,
// since a retry after an upgrade or rename is still the same batch.
std::string contentHash(const std::vector<IngestRecord>& records);

// contentHash() over canonical bodies (what collectors before the one-pass ingest stored and
// hashed). Parses every body: only for a batch whose contentHash() did not match.
std::string canonicalContentHash(const std::vector<IngestRecord>& records);

// The same JSON value (members in any order, numbers and escapes written any way). Texts that
// are not JSON are the same only when equal.
bool sameJson(std::string_view a, std::string_view b);

}  // namespace t0w::collector
