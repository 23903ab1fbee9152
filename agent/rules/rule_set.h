// RuleSet: the loaded Sigma rules, indexed by channel (or provider) and EventID so that an event
// is tried only against the rules that can match it. Not thread-safe: one RuleSet per pipeline
// strand (evaluation reuses scratch buffers).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/core/event.h"
#include "agent/rules/alert.h"
#include "agent/rules/compiled_rule.h"
#include "agent/rules/rule_issue.h"

namespace t0w {

struct RuleLoadReport {
  size_t files = 0;
  size_t loaded = 0;
  size_t out_of_scope = 0;  // valid rules for log sources we do not collect (cisco, proxy, ...)
  std::vector<RuleIssue> rejected;
  std::vector<RuleIssue> skipped;  // the out-of-scope rules, with their log source
};

class RuleSet {
 public:
  explicit RuleSet(RuleCompileOptions options = {});
  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // A file, or a directory searched recursively for *.yml / *.yaml (sorted, so that load order
  // and alert order are stable).
  void loadPath(const std::filesystem::path& path, RuleLoadReport& report);
  void loadText(std::string_view yaml, const std::string& file, RuleLoadReport& report);

  size_t size() const { return rules_.size(); }
  const CompiledRule& rule(size_t i) const { return *rules_[i]; }

  // Evaluates one event; emits an Alert per matching rule. Returns the number of alerts.
  size_t evaluate(const std::shared_ptr<const Event>& event, AlertSink& sink);
  // Match test only (benchmarks, tests): how many rules match, no alerts built.
  size_t countMatches(const Event& event);

  struct IndexStats {
    size_t channels = 0, providers = 0, global = 0, indexed_by_event_id = 0;
  };
  IndexStats indexStats();

 private:
  struct Candidate {
    uint32_t rule;
    const RuleVariant* variant;
  };
  struct Bucket {
    std::unordered_map<uint32_t, std::vector<Candidate>> by_id;
    std::vector<Candidate> any_id;
  };
  struct CiHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const;
  };
  struct CiEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const;
  };
  using BucketMap = std::unordered_map<std::string, Bucket, CiHash, CiEq>;

  void addRule(CompiledRule rule);
  void buildIndex();
  template <typename Fn>
  void forEachCandidate(const Event& event, Fn&& fn);

  RuleCompileOptions options_;
  std::vector<std::unique_ptr<CompiledRule>> rules_;
  bool index_ready_ = false;
  BucketMap by_channel_;
  BucketMap by_provider_;
  Bucket global_;
  std::vector<uint64_t> last_hit_;  // per rule: serial of the last event it fired on
  uint64_t serial_ = 0;
  EvalContext ctx_;
};

}  // namespace t0w
