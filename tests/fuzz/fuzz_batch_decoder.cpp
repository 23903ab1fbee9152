// libFuzzer target for the collector's batch decoder (common/wire/batch_decoder.h): every
// input is decoded as a JSON document and as a gzip and a zstd body (concatenated frames), under
// the collector's limits; v1, v2 and v3 documents are in the seeds.
// Besides "no crash, no sanitizer report, no stack exhaustion" (deep and wide inputs are the
// point of the bounded parser), it checks:
// - the bounded parser agrees with nlohmann's own: a document it accepts parses to the same
//   value, one it calls malformed nlohmann rejects too;
// - a decoded batch keeps its promises: every key starts with the agent id and '|' (v3 sends
//   agent-local keys; the decoder prefixes them), the id follows the agent-id rule, and every
//   body can be written out again without throwing;
// - the collector's one-pass scan (scanBatchJson: its own reader, no tree; and the same scan
//   over nlohmann's lexer) agrees with the tree decoder: the
//   same acceptance and error, the same envelope, keys, kinds, times and indexed fields, and
//   each body's text is a '{'...'}' slice of the document that parses to the tree's body.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "common/core/agent_id.h"
#include "common/wire/batch_decoder.h"
#include "common/wire/bounded_json.h"

namespace {

using Json = nlohmann::json;

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
    (void)r.body.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

const std::vector<t0w::BodyPath> kPaths = {{"System", "Channel"},
                                           {"System", "EventID"},
                                           {"rule_id"},
                                           {"type"},
                                           {"event", "System", "Channel"},
                                           {"a", "b"}};

void checkScan(std::string_view in, const t0w::JsonLimits& limits, bool own_reader) {
  auto scan = own_reader ? t0w::scanBatchJson(std::string(in), limits, kPaths)
                         : t0w::scanBatchJsonNlohmann(std::string(in), limits, kPaths);
  auto tree = t0w::scanBatchJsonWithTree(std::string(in), limits, kPaths);
  if (scan.ok() != tree.ok()) std::abort();
  if (!scan.ok()) {
    if (scan.error().code != tree.error().code) std::abort();
    if (scan.error().message != tree.error().message) std::abort();
    return;
  }
  if (scan->tree_fallback) std::abort();  // the spans must always hold
  if (scan->version != tree->version || scan->agent.id != tree->agent.id ||
      scan->agent.hostname != tree->agent.hostname || scan->agent.version != tree->agent.version ||
      scan->queue_epoch != tree->queue_epoch || scan->batch_id != tree->batch_id ||
      scan->sequence != tree->sequence || scan->records.size() != tree->records.size()) {
    std::abort();
  }
  for (size_t i = 0; i < scan->records.size(); ++i) {
    const auto& a = scan->records[i];
    const auto& b = tree->records[i];
    if (a.kind != b.kind || a.key != b.key || a.time != b.time ||
        !std::equal(a.fields.begin(), a.fields.end(), b.fields.begin(), b.fields.end())) {
      std::abort();
    }
    if (a.body.size() < 2 || a.body.front() != '{' || a.body.back() != '}') std::abort();
    if (a.body.data() < scan->document.data() ||
        a.body.data() + a.body.size() > scan->document.data() + scan->document.size()) {
      std::abort();
    }
    const Json x = Json::parse(a.body, nullptr, false);
    if (x.is_discarded() || x != Json::parse(b.body, nullptr, false)) std::abort();
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
    const auto reference = Json::parse(in, nullptr, false);
    if (reference.is_discarded() || reference != *bounded) std::abort();
  } else if (bounded.error().code == t0w::Errc::kParse) {
    if (!Json::parse(in, nullptr, false).is_discarded()) std::abort();
  }

  checkBatch(t0w::parseBatchJson(in, limits));
  checkBatch(t0w::decodeBatch(in, 1 << 20, limits));  // the input as a gzip body
  checkBatch(t0w::decodeBatch(in, t0w::WireEncoding::kZstd, 1 << 20, limits));
  checkScan(in, limits, true);
  checkScan(in, limits, false);
  // The input as a zstd body, through the collector's path.
  if (auto json = t0w::decodeWireBody(in, t0w::WireEncoding::kZstd, 1 << 20); json.ok()) {
    checkScan(*json, limits, true);
  }
  return 0;
}
