#include "agent/rules/detection_order.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace t0w {
namespace {

uint32_t matcherCost(const ValueMatcher& m) {
  switch (m.kind()) {
    case ValueMatcher::Kind::kExact:
    case ValueMatcher::Kind::kPrefix:
    case ValueMatcher::Kind::kSuffix:
    case ValueMatcher::Kind::kNull:
      return 1;
    case ValueMatcher::Kind::kContains:
      return 4;
    case ValueMatcher::Kind::kGlob:
    case ValueMatcher::Kind::kCidr:
    case ValueMatcher::Kind::kLt:
    case ValueMatcher::Kind::kLte:
    case ValueMatcher::Kind::kGt:
    case ValueMatcher::Kind::kGte:
    case ValueMatcher::Kind::kBitAnd:
      return 8;
    case ValueMatcher::Kind::kRegex:
      return 40;
  }
  return 8;
}

uint32_t conditionCost(const FieldCondition& c) {
  uint32_t cost = 2;  // the field lookup
  for (const auto& m : c.matchers) cost += matcherCost(m);
  if (c.mode == FieldCondition::Mode::kKeywords) cost *= 16;  // every field of the event
  if (c.mode == FieldCondition::Mode::kFieldRef) cost += 8;
  return cost;
}

uint32_t optimizeSelection(Selection& s) {
  uint32_t total = 0;
  std::vector<uint32_t> alt_cost;
  for (auto& alt : s.alternatives) {
    std::stable_sort(alt.begin(), alt.end(), [](const FieldCondition& a, const FieldCondition& b) {
      return conditionCost(a) < conditionCost(b);
    });
    uint32_t c = 0;
    for (const auto& fc : alt) c += conditionCost(fc);
    total += c;
  }
  return total;
}

uint32_t optimizeExpr(CondExpr& e, const std::vector<uint32_t>& sel_cost) {
  switch (e.kind) {
    case CondExpr::Kind::kSel:
      return sel_cost[e.sel];
    case CondExpr::Kind::kNot:
      return optimizeExpr(e.children[0], sel_cost);
    case CondExpr::Kind::kAnd:
    case CondExpr::Kind::kOr: {
      std::vector<std::pair<uint32_t, CondExpr>> costed;
      uint32_t total = 0;
      for (auto& c : e.children) {
        const uint32_t cost = optimizeExpr(c, sel_cost);
        total += cost;
        costed.emplace_back(cost, std::move(c));
      }
      std::stable_sort(costed.begin(), costed.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      e.children.clear();
      for (auto& [cost, c] : costed) e.children.push_back(std::move(c));
      return total;
    }
  }
  return 0;
}

}  // namespace

void useLiteralSets(Detection& d) {
  // From three literals on, one screened pass beats a search per literal (rules_bench).
  constexpr size_t kMinLiterals = 3;
  for (auto& sel : d.selections) {
    for (auto& alt : sel.alternatives) {
      for (auto& c : alt) {
        if (c.all ||
            (c.mode != FieldCondition::Mode::kValues && c.mode != FieldCondition::Mode::kKeywords))
          continue;
        std::vector<std::string> literals;
        std::vector<uint32_t> others;
        for (uint32_t i = 0; i < c.matchers.size(); ++i) {
          const ValueMatcher& m = c.matchers[i];
          if (m.kind() == ValueMatcher::Kind::kContains && !m.cased() &&
              m.needle().size() >= LiteralSet::kMinLength) {
            literals.push_back(m.needle());
          } else {
            others.push_back(i);
          }
        }
        if (literals.size() < kMinLiterals) continue;
        c.literals = std::make_shared<const LiteralSet>(std::move(literals));
        c.others = std::move(others);
      }
    }
  }
}

void orderDetectionByCost(Detection& d) {
  std::vector<uint32_t> sel_cost;
  for (auto& sel : d.selections) sel_cost.push_back(optimizeSelection(sel));
  optimizeExpr(d.root, sel_cost);
}

}  // namespace t0w
