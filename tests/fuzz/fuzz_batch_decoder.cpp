// libFuzzer target for the collector's batch decoder (common/wire/batch_decoder.h): every
// input is decoded as a JSON document and as a gzip and a zstd body (concatenated frames), under
// the collector's limits; v1, v2 and v3 documents are in the seeds.
// Besides "no crash, no sanitizer report, no stack exhaustion" (deep and wide inputs are the
// point of the bounded parser), it checks:
// - the bounded parser agrees with nlohmann's own: a document it accepts parses to the same
//   value, one it calls malformed nlohmann rejects too;
// - a decoded batch keeps its promises: every key starts with the agent id and '|' (v3 sends
//   agent-local keys; the decoder prefixes them), the id
//   follows the agent-id rule, and every body can be written out again (what the collector
//   stores) without throwing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/core/agent_id.h"
#include "common/wire/batch_decoder.h"
#include "common/wire/bounded_json.h"

namespace {

void checkBatch(const t0w::Result<t0w::DecodedBatch>& batch) {
  if (!batch.ok()) {
    if (batch.error().message.empty()) std::abort();  // errors must say what went wrong
    return;
  }
  if (!t0w::isValidAgentId(batch->agent.id)) std::abort();
  if (batch->version < 1 || batch->version > 3) std::abort();
  const std::string prefix = batch->agent.id + "|";
  for (const auto& r : batch->records) {
    if (r.key.rfind(prefix, 0) != 0 || r.key.size() == prefix.size()) std::abort();
    if (!r.body.is_object()) std::abort();
    (void)r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  t0w::JsonLimits limits;
  limits.max_depth = 64;
  limits.max_values = 100'000;

  auto bounded = t0w::parseBoundedJson(in, limits);
  if (bounded.ok()) {
    const auto reference = nlohmann::json::parse(in, nullptr, false);
    if (reference.is_discarded() || reference != *bounded) std::abort();
  } else if (bounded.error().code == t0w::Errc::kParse) {
    if (!nlohmann::json::parse(in, nullptr, false).is_discarded()) std::abort();
  }

  checkBatch(t0w::parseBatchJson(in, limits));
  checkBatch(t0w::decodeBatch(in, 1 << 20, limits));  // the input as a gzip body
  checkBatch(t0w::decodeBatch(in, t0w::WireEncoding::kZstd, 1 << 20, limits));
  return 0;
}
