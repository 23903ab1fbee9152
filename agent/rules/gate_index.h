// GateIndex: skips most rules without evaluating them. For each rule variant a necessary literal
// set is derived at load time: (field, lowercase literal) pairs such that the rule can only match
// when at least one literal occurs in that field (from the selections every match needs). Per
// field, one Aho-Corasick automaton finds all literals of all rules in one pass over the value;
// only rules with a hit (and rules without a derivable gate) are then evaluated.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/rules/compiled_rule.h"

namespace t0w {

struct GateLiteral {
  FieldRef field;
  std::string lower;
};

// A necessary literal set for the detection, or nullopt when there is none (e.g. the rule can
// match on a regex, a null test or a negation alone).
std::optional<std::vector<GateLiteral>> detectionGate(const Detection& detection);

// Case-insensitive (ASCII) multi-pattern substring search.
class AhoCorasick {
 public:
  uint32_t add(const std::string& lower);  // returns the pattern id
  void build();
  template <typename Fn>
  void scan(std::string_view text, Fn&& fn) const {
    int32_t s = 0;
    for (char ch : text) {
      const uint8_t c = static_cast<uint8_t>(foldAscii(ch));
      while (true) {
        const int32_t next = step(s, c);
        if (next >= 0) {
          s = next;
          break;
        }
        if (s == 0) break;
        s = nodes_[s].fail;
      }
      for (int32_t o = nodes_[s].out.empty() ? nodes_[s].dict : s; o > 0; o = nodes_[o].dict)
        for (uint32_t id : nodes_[o].out) fn(id);
    }
  }
  size_t patterns() const { return patterns_; }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> next;
    int32_t fail = 0;
    int32_t dict = 0;  // nearest proper suffix state with output (0: none)
    std::vector<uint32_t> out;
  };
  int32_t step(int32_t s, uint8_t c) const {
    if (s == 0) return root_[c] > 0 ? root_[c] : -1;
    for (const auto& [k, v] : nodes_[s].next)
      if (k == c) return v;
    return -1;
  }
  std::vector<Node> nodes_{1};
  int32_t root_[256] = {};
  size_t patterns_ = 0;
};

class GateIndex {
 public:
  // Candidate ids are positions in the caller's candidate list, added in order.
  void add(const Detection& detection);
  void build();
  size_t gated() const { return gated_; }

  // Calls fn(candidate id) for every candidate that may match the event, in ascending order.
  template <typename Fn>
  void forEachPossible(const Event& event, EvalContext& ctx, Fn&& fn) {
    if (++epoch_ == 0) {
      std::fill(stamp_.begin(), stamp_.end(), 0);
      epoch_ = 1;
    }
    hits_.clear();
    for (const auto& f : fields_) {
      forEachFieldValueOf(f.field, event, ctx, [&](std::string_view v) {
        f.ac.scan(v, [&](uint32_t lit) {
          for (uint32_t cand : f.literal_candidates[lit]) {
            if (stamp_[cand] != epoch_) {
              stamp_[cand] = epoch_;
              hits_.push_back(cand);
            }
          }
        });
      });
    }
    for (uint32_t c : ungated_) {
      if (stamp_[c] != epoch_) {
        stamp_[c] = epoch_;
        hits_.push_back(c);
      }
    }
    std::sort(hits_.begin(), hits_.end());
    for (uint32_t c : hits_) fn(c);
  }

 private:
  struct FieldAutomaton {
    FieldRef field;
    AhoCorasick ac;
    std::vector<std::vector<uint32_t>> literal_candidates;  // per pattern id
  };
  std::vector<FieldAutomaton> fields_;
  std::vector<uint32_t> ungated_;
  std::vector<uint32_t> stamp_;
  std::vector<uint32_t> hits_;
  uint32_t epoch_ = 0;
  uint32_t count_ = 0;
  size_t gated_ = 0;
};

}  // namespace t0w
