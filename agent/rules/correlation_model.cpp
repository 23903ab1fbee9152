// Methods of the correlation rule model (correlation.h), shared by the parser
// (correlation_parser.cpp) and the engine (correlation_engine.cpp).
#include "agent/rules/correlation.h"

namespace t0w {

const char* correlationTypeName(CorrelationType type) {
  switch (type) {
    case CorrelationType::kEventCount:
      return "event_count";
    case CorrelationType::kValueCount:
      return "value_count";
    case CorrelationType::kTemporal:
      return "temporal";
    case CorrelationType::kTemporalOrdered:
      return "temporal_ordered";
  }
  return "?";
}

bool CorrelationCondition::holds(uint64_t count) const {
  if (gt && !(count > *gt)) return false;
  if (gte && !(count >= *gte)) return false;
  if (lt && !(count < *lt)) return false;
  if (lte && !(count <= *lte)) return false;
  if (eq && count != *eq) return false;
  return true;
}

std::optional<uint64_t> CorrelationCondition::upperBound() const {
  std::optional<uint64_t> bound;
  auto tighten = [&bound](uint64_t v) {
    if (!bound || v < *bound) bound = v;
  };
  if (lt) tighten(*lt == 0 ? 0 : *lt - 1);
  if (lte) tighten(*lte);
  if (eq) tighten(*eq);
  return bound;
}

std::string CorrelationCondition::toString() const {
  std::string out;
  auto add = [&out](const char* op, const std::optional<uint64_t>& v) {
    if (!v) return;
    if (!out.empty()) out += " and ";
    out += op;
    out += ' ';
    out += std::to_string(*v);
  };
  add("gt", gt);
  add("gte", gte);
  add("lt", lt);
  add("lte", lte);
  add("eq", eq);
  return out;
}

const std::string& CorrelationRule::alertId() const {
  if (!id.empty()) return id;
  if (!name.empty()) return name;
  return title;
}

}  // namespace t0w
