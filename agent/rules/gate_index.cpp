#include "agent/rules/gate_index.h"

#include <deque>
#include <unordered_map>

namespace t0w {
namespace {

using Gate = std::vector<GateLiteral>;

// The longest literal run of a string matcher (lowercased): it occurs in every value it matches.
std::optional<std::string> literalOf(const ValueMatcher& m) {
  std::string lit;
  switch (m.kind()) {
    case ValueMatcher::Kind::kExact:
    case ValueMatcher::Kind::kPrefix:
    case ValueMatcher::Kind::kSuffix:
    case ValueMatcher::Kind::kContains:
      lit = m.needle();
      break;
    case ValueMatcher::Kind::kGlob: {
      const std::string& n = m.needle();
      const auto& w = m.wild();
      size_t i = 0;
      while (i < n.size()) {
        if (w[i]) {
          ++i;
          continue;
        }
        size_t j = i;
        while (j < n.size() && !w[j]) ++j;
        if (j - i > lit.size()) lit = n.substr(i, j - i);
        i = j;
      }
      break;
    }
    default:
      return std::nullopt;
  }
  if (lit.empty()) return std::nullopt;
  return lowerAscii(lit);
}

std::optional<Gate> conditionGate(const FieldCondition& c) {
  if (c.mode != FieldCondition::Mode::kValues || c.matchers.empty()) return std::nullopt;
  // The index already splits candidates by EventID: within a list its literal is in every
  // event, so it would never exclude a rule (and, being long, it would win over the literals
  // that do).
  if (c.field.system && *c.field.system == SystemField::kEventId) return std::nullopt;
  auto literalsOf = [&](uint32_t begin, uint32_t end) -> std::optional<Gate> {
    Gate g;
    for (uint32_t i = begin; i < end; ++i) {
      if (c.matchers[i].matchesAbsent()) return std::nullopt;
      auto lit = literalOf(c.matchers[i]);
      if (!lit) return std::nullopt;
      g.push_back({c.field, std::move(*lit)});
    }
    return g;
  };
  if (!c.all) return literalsOf(0, static_cast<uint32_t>(c.matchers.size()));
  // `all`: every group must match, so any one group is a gate; take the one with the longest
  // shortest literal.
  std::optional<Gate> best;
  size_t best_score = 0;
  uint32_t begin = 0;
  for (uint32_t end : c.group_ends) {
    auto g = literalsOf(begin, end);
    begin = end;
    if (!g || g->empty()) continue;
    size_t score = SIZE_MAX;
    for (const auto& l : *g) score = std::min(score, l.lower.size());
    if (!best || score > best_score) {
      best = std::move(g);
      best_score = score;
    }
  }
  return best;
}

size_t score(const Gate& g) {
  size_t s = SIZE_MAX;
  for (const auto& l : g) s = std::min(s, l.lower.size());
  return g.empty() ? 0 : s;
}

// Picks the better of two alternative gates (either alone is necessary).
void keepBetter(std::optional<Gate>& best, std::optional<Gate> g) {
  if (!g) return;
  if (!best || score(*g) > score(*best) || (score(*g) == score(*best) && g->size() < best->size()))
    best = std::move(g);
}

std::optional<Gate> selectionGate(const Selection& s) {
  Gate all;
  for (const auto& alt : s.alternatives) {
    std::optional<Gate> best;
    for (const auto& c : alt) keepBetter(best, conditionGate(c));
    if (!best) return std::nullopt;  // this alternative can match without any literal
    all.insert(all.end(), best->begin(), best->end());
  }
  return all;
}

std::optional<Gate> exprGate(const Detection& d, const CondExpr& e) {
  switch (e.kind) {
    case CondExpr::Kind::kSel:
      return selectionGate(d.selections[e.sel]);
    case CondExpr::Kind::kNot:
      return std::nullopt;
    case CondExpr::Kind::kAnd: {
      std::optional<Gate> best;
      for (const auto& c : e.children) keepBetter(best, exprGate(d, c));
      return best;
    }
    case CondExpr::Kind::kOr: {
      Gate all;
      for (const auto& c : e.children) {
        auto g = exprGate(d, c);
        if (!g) return std::nullopt;
        all.insert(all.end(), g->begin(), g->end());
      }
      return all;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<GateLiteral>> detectionGate(const Detection& detection) {
  auto g = exprGate(detection, detection.root);
  if (!g || g->empty()) return std::nullopt;
  return g;
}

uint32_t AhoCorasick::add(const std::string& lower) {
  int32_t s = 0;
  for (char ch : lower) {
    const uint8_t c = static_cast<uint8_t>(ch);
    int32_t next = step(s, c);
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      if (s == 0)
        root_[c] = next;
      else
        nodes_[s].next.emplace_back(c, next);
    }
    s = next;
  }
  const uint32_t id = static_cast<uint32_t>(patterns_++);
  nodes_[s].out.push_back(id);
  return id;
}

void AhoCorasick::build() {
  std::deque<int32_t> queue;
  for (int c = 0; c < 256; ++c) {
    if (root_[c] > 0) {
      nodes_[root_[c]].fail = 0;
      nodes_[root_[c]].dict = 0;
      queue.push_back(root_[c]);
    }
  }
  while (!queue.empty()) {
    const int32_t s = queue.front();
    queue.pop_front();
    for (const auto& [c, child] : nodes_[s].next) {
      int32_t f = nodes_[s].fail;
      int32_t target = -1;
      while (true) {
        target = step(f, c);
        if (target >= 0 || f == 0) break;
        f = nodes_[f].fail;
      }
      nodes_[child].fail = target >= 0 && target != child ? target : 0;
      const int32_t fl = nodes_[child].fail;
      nodes_[child].dict = !nodes_[fl].out.empty() ? fl : nodes_[fl].dict;
      queue.push_back(child);
    }
  }
}

void GateIndex::add(const Detection& detection) {
  const uint32_t cand = count_++;
  auto gate = detectionGate(detection);
  if (!gate) {
    ungated_.push_back(cand);
    return;
  }
  ++gated_;
  for (const auto& lit : *gate) {
    FieldAutomaton* fa = nullptr;
    for (auto& f : fields_) {
      if (f.field.key.name() == lit.field.key.name() &&
          f.field.system.has_value() == lit.field.system.has_value())
        fa = &f;
    }
    if (fa == nullptr) {
      fields_.push_back(FieldAutomaton{lit.field, {}, {}});
      fa = &fields_.back();
    }
    const uint32_t id = fa->ac.add(lit.lower);
    fa->literal_candidates.resize(fa->ac.patterns());
    fa->literal_candidates[id].push_back(cand);
  }
}

void GateIndex::build() {
  for (auto& f : fields_) f.ac.build();
  stamp_.assign(count_, 0);
  hits_.reserve(count_);
  epoch_ = 0;
}

}  // namespace t0w
