// RuleSet: the loaded Sigma rules, indexed by channel (or provider) and EventID so that an event
// is tried only against the rules that can match it. Not thread-safe: the pipeline
// evaluates under one mutex for all sources (RuleStage; evaluation reuses scratch buffers).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/core/event.h"
#include "agent/rules/alert.h"
#include "agent/rules/compiled_rule.h"
#include "agent/rules/correlation.h"
#include "agent/rules/gate_index.h"
#include "agent/rules/rule_cache.h"
#include "agent/rules/rule_issue.h"
#include "agent/rules/rule_loader.h"

namespace t0w {

struct RuleLoadReport {
  size_t files = 0;
  size_t loaded = 0;
  size_t out_of_scope = 0;  // valid rules for log sources we do not collect (cisco, proxy, ...)
  size_t correlations = 0;  // correlation rules loaded (also counted in `loaded`)
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
  // Rule files loaded by loadPath are looked up in (and added to) this cache; null: none.
  void setCache(RuleCache* cache) { cache_ = cache; }

  // Builds the correlation engine from the correlation documents loaded so far (checking their
  // references and cycles; problems go to report) and the index. Call once after loading;
  // evaluation calls it itself otherwise.
  void finalize(RuleLoadReport& report);

  size_t size() const { return rules_.size(); }
  const CompiledRule& rule(size_t i) const { return *rules_[i]; }

  // Rules whose level ranks below `level` (informational < low < medium < high < critical) raise
  // no alert of their own; they still feed the correlations that reference them, and a
  // correlation that asks for their alerts (generate: true) still gets them. The Sigma
  // specification's informational level is for enrichment, not alerting: `run` starts at low.
  // Correlation alerts are not filtered. Call after finalize().
  void setMinimumAlertLevel(int level);

  // Evaluates one event; emits an Alert per matching rule (and correlation alerts). Returns the
  // number of matching base rules.
  size_t evaluate(const std::shared_ptr<const Event>& event, AlertSink& sink);
  // Same, for an event not yet shared: `share` is called once, on the first match, to get the
  // shared event the alerts point to (so non-matching events are never copied).
  size_t evaluate(const Event& event, const std::function<std::shared_ptr<const Event>()>& share,
                  AlertSink& sink);
  // End of input: decides open correlation windows.
  void flush(AlertSink& sink);
  const CorrelationEngine* correlations() const { return engine_.get(); }
  // Match test only (benchmarks, tests): how many rules match, no alerts built.
  size_t countMatches(const Event& event);
  // Indices of the rules that match (tests: prefilter cross-check).
  std::vector<size_t> matchingRules(const Event& event);

  struct IndexStats {
    size_t channels = 0, providers = 0, global = 0, indexed_by_event_id = 0, gated = 0;
  };
  IndexStats indexStats();

 private:
  struct Candidate {
    uint32_t rule;
    const RuleVariant* variant;
  };
  // Candidates of one (channel, EventID) slot; large lists get a literal gate (GateIndex).
  struct CandidateList {
    std::vector<Candidate> list;
    std::unique_ptr<GateIndex> gate;
  };
  struct Bucket {
    std::unordered_map<uint32_t, CandidateList> by_id;
    CandidateList any_id;
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
  // The last key looked up in a BucketMap and its bucket (nullptr: none). Events come in runs of
  // one channel and provider, so comparing with the last key spares hashing it per event; and a
  // key whose length no indexed name has (bit min(length, 63) of `lengths`) is skipped at once
  // (e.g. every Security event against an index of trace-file providers).
  struct LookupMemo {
    std::string key;
    Bucket* bucket = nullptr;
    bool valid = false;
    uint64_t lengths = 0;
  };
  static Bucket* findBucket(BucketMap& map, const std::string& key, LookupMemo& memo);

  void addRule(CompiledRule rule);
  void buildIndex();
  template <typename Fn>
  void forEachCandidate(const Event& event, Fn&& fn);

  // `encoded`: when set, what the documents produced is appended for the cache (RuleCodec);
  // returns false when the file cannot be cached (a correlation: checked against the whole set).
  bool loadDocs(RuleFileContents& contents, RuleLoadReport& report, std::string* encoded = nullptr);
  void loadFile(const std::filesystem::path& path, RuleLoadReport& report);

  RuleCompileOptions options_;
  RuleCache* cache_ = nullptr;
  std::vector<CorrelationRule> pending_correlations_;
  std::vector<CorrelationRule> engine_rules_;  // correlations accepted by the last finalize()
  std::unique_ptr<CorrelationEngine> engine_;
  void computeSuppressed();
  int min_alert_level_ = 0;
  std::vector<uint8_t> suppressed_;  // per rule: no alert of its own (see setMinimumAlertLevel)
  std::vector<uint8_t> referenced_;  // per rule: feeds the correlation engine
  bool finalized_ = false;
  std::vector<std::unique_ptr<CompiledRule>> rules_;
  bool index_ready_ = false;
  BucketMap by_channel_;
  BucketMap by_provider_;
  LookupMemo channel_memo_, provider_memo_;
  Bucket global_;
  std::vector<uint64_t> last_hit_;  // per rule: serial of the last event it fired on
  uint64_t serial_ = 0;
  EvalContext ctx_;
};

}  // namespace t0w
