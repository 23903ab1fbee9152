#include "agent/rules/gate_index.h"

#include <algorithm>
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
  pending_.push_back(lower);
  return static_cast<uint32_t>(patterns_++);
}

void AhoCorasick::build() {
  // The trie from the sorted patterns, breadth first: a state is the range of patterns that
  // share its prefix, so its children are the runs of equal next bytes in that range, numbered
  // as they are found (which is breadth-first order when states are taken in order).
  std::vector<uint32_t> order(pending_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return pending_[a] != pending_[b] ? pending_[a] < pending_[b] : a < b;
  });
  struct Range {
    uint32_t lo, hi, depth;
  };
  std::vector<Range> states{{0, static_cast<uint32_t>(order.size()), 0}};
  edge_begin_.assign(1, 0);
  out_begin_.assign(1, 0);
  labels_.clear();
  targets_.clear();
  out_.clear();
  std::fill(std::begin(root_), std::end(root_), 0);
  for (size_t s = 0; s < states.size(); ++s) {
    const Range r = states[s];
    uint32_t i = r.lo;
    // Patterns that end here sort before the longer ones with the same prefix.
    for (; i < r.hi && pending_[order[i]].size() == r.depth; ++i) out_.push_back(order[i]);
    while (i < r.hi) {
      const uint8_t c = static_cast<uint8_t>(pending_[order[i]][r.depth]);
      uint32_t j = i + 1;
      while (j < r.hi && static_cast<uint8_t>(pending_[order[j]][r.depth]) == c) ++j;
      const auto child = static_cast<int32_t>(states.size());
      states.push_back({i, j, r.depth + 1});
      if (s == 0) root_[c] = child;
      labels_.push_back(c);
      targets_.push_back(child);
      i = j;
    }
    edge_begin_.push_back(static_cast<uint32_t>(labels_.size()));
    out_begin_.push_back(static_cast<uint32_t>(out_.size()));
  }
  const size_t n = states.size();
  states = {};
  pending_ = {};
  // Failure links, state by state in breadth-first order (a parent before its children).
  fail_.assign(n, 0);
  dict_.assign(n, 0);
  for (size_t s = 0; s < n; ++s) {
    for (uint32_t e = edge_begin_[s]; e < edge_begin_[s + 1]; ++e) {
      const int32_t child = targets_[e];
      int32_t target = -1;
      if (s != 0) {
        int32_t f = fail_[s];
        while (true) {
          target = step(f, labels_[e]);
          if (target >= 0 || f == 0) break;
          f = fail_[f];
        }
      }
      fail_[child] = target >= 0 && target != child ? target : 0;
      const int32_t fl = fail_[child];
      dict_[child] = hasOutput(fl) ? fl : dict_[fl];
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
