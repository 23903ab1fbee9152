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

// Case-insensitive (ASCII) multi-pattern substring search. The automaton is laid out flat (each
// state's edges, outputs and links in shared arrays, states in breadth-first order): the indexes
// of all SigmaHQ rules hold a few hundred thousand states, which as one heap node (and edge list)
// each took most of the rule set's memory.
class AhoCorasick {
 public:
  uint32_t add(const std::string& lower);  // returns the pattern id; only before build()
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
        s = fail_[s];
      }
      for (int32_t o = hasOutput(s) ? s : dict_[s]; o > 0; o = dict_[o])
        for (uint32_t i = out_begin_[o]; i < out_begin_[o + 1]; ++i) fn(out_[i]);
    }
  }
  size_t patterns() const { return patterns_; }

 private:
  int32_t step(int32_t s, uint8_t c) const {
    if (s == 0) return root_[c] > 0 ? root_[c] : -1;
    for (uint32_t e = edge_begin_[s]; e < edge_begin_[s + 1]; ++e)
      if (labels_[e] == c) return targets_[e];
    return -1;
  }
  bool hasOutput(int32_t s) const { return out_begin_[s] != out_begin_[s + 1]; }

  std::vector<std::string> pending_;  // the patterns until build(), by id
  size_t patterns_ = 0;
  // Per state (one more entry for the end): its edges [edge_begin_[s], edge_begin_[s + 1]) and
  // pattern ids [out_begin_[s], out_begin_[s + 1]).
  std::vector<uint32_t> edge_begin_{0, 0}, out_begin_{0, 0};
  std::vector<uint8_t> labels_;
  std::vector<int32_t> targets_;
  std::vector<uint32_t> out_;
  std::vector<int32_t> fail_{0}, dict_{0};  // dict: nearest proper suffix state with output
  int32_t root_[256] = {};
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
