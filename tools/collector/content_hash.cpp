#include "tools/collector/content_hash.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "tools/collector/security.h"

namespace t0w::collector {
namespace {

using Json = nlohmann::json;

std::string hashOf(const std::vector<IngestRecord>& records, bool canonical) {
  Sha256 h;
  for (const IngestRecord& r : records) {
    h.update(recordKindName(r.kind)).update("\n").update(r.key).update("\n");
    char time[24];
    const auto end = r.time ? std::to_chars(time, time + sizeof time, *r.time).ptr : time;
    h.update(std::string_view(time, static_cast<size_t>(end - time))).update("\n");
    if (canonical) {
      const Json body = Json::parse(r.body, nullptr, false);
      h.update(body.is_discarded() ? r.body
                                   : body.dump(-1, ' ', false, Json::error_handler_t::replace));
    } else {
      h.update(r.body);
    }
    h.update("\n");
  }
  return h.hexDigest();
}

}  // namespace

std::string contentHash(const std::vector<IngestRecord>& records) { return hashOf(records, false); }

std::string canonicalContentHash(const std::vector<IngestRecord>& records) {
  return hashOf(records, true);
}

bool sameJson(std::string_view a, std::string_view b) {
  if (a == b) return true;
  const Json x = Json::parse(a, nullptr, false);
  const Json y = Json::parse(b, nullptr, false);
  return !x.is_discarded() && !y.is_discarded() && x == y;
}

}  // namespace t0w::collector
