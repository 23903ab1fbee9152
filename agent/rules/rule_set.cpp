#include "agent/rules/rule_set.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <system_error>

#include "agent/rules/rule_codec.h"
#include "agent/rules/rule_loader.h"

namespace t0w {

size_t RuleSet::CiHash::operator()(std::string_view s) const {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(foldAscii(c));
    h *= 1099511628211ull;
  }
  return static_cast<size_t>(h);
}

bool RuleSet::CiEq::operator()(std::string_view a, std::string_view b) const {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (foldAscii(a[i]) != foldAscii(b[i])) return false;
  return true;
}

RuleSet::RuleSet(RuleCompileOptions options) : options_(std::move(options)) {
  ctx_.buf.reserve(64);
  ctx_.ref_buf.reserve(256);
}

RuleSet::~RuleSet() = default;

void RuleSet::addRule(CompiledRule rule) {
  rules_.push_back(std::make_unique<CompiledRule>(std::move(rule)));
  index_ready_ = false;
}

bool RuleSet::loadDocs(RuleFileContents& contents, RuleLoadReport& report, std::string* encoded) {
  bool cacheable = true;
  for (auto& issue : contents.issues) {
    if (encoded) encodeIssue(*encoded, RuleOutcome::Kind::kRejected, issue);
    report.rejected.push_back(std::move(issue));
  }
  for (const auto& doc : contents.docs) {
    if ((*doc.node)["correlation"]) {
      cacheable = false;
      auto c = parseCorrelationRule(*doc.node, doc.file);
      if (!c.ok()) {
        report.rejected.push_back({doc.file, doc.id, "invalid correlation", c.error().message});
      } else {
        pending_correlations_.push_back(std::move(c.value()));
        finalized_ = false;
      }
      continue;
    }
    RuleCompileResult r = compileRule(doc, options_);
    if (r.rule) {
      if (encoded) encodeRule(*encoded, *r.rule);
      ++report.loaded;
      addRule(std::move(*r.rule));
    } else if (r.out_of_scope) {
      if (encoded) encodeIssue(*encoded, RuleOutcome::Kind::kOutOfScope, r.issue);
      ++report.out_of_scope;
      report.skipped.push_back(std::move(r.issue));
    } else {
      if (encoded) encodeIssue(*encoded, RuleOutcome::Kind::kRejected, r.issue);
      report.rejected.push_back(std::move(r.issue));
    }
  }
  return cacheable;
}

void RuleSet::loadFile(const std::filesystem::path& path, RuleLoadReport& report) {
  ++report.files;
  RuleFileContents contents;
  auto text = readRuleBytes(path, options_.limits, contents);
  if (!text || cache_ == nullptr) {
    if (text) contents = parseRuleText(*text, path.string(), options_.limits);
    loadDocs(contents, report);
    return;
  }
  const std::string name = path.string();
  if (auto bytes = cache_->find(name, *text)) {
    std::vector<RuleOutcome> outcomes;
    if (decodeOutcomes(*bytes, options_, outcomes)) {
      for (auto& o : outcomes) {
        switch (o.kind) {
          case RuleOutcome::Kind::kRule:
            ++report.loaded;
            addRule(std::move(*o.rule));
            break;
          case RuleOutcome::Kind::kOutOfScope:
            ++report.out_of_scope;
            report.skipped.push_back(std::move(o.issue));
            break;
          case RuleOutcome::Kind::kRejected:
            report.rejected.push_back(std::move(o.issue));
            break;
        }
      }
      return;
    }
    cache_->drop(name);  // decodes no more (e.g. a regex this RE2 refuses): parsed again
  }
  contents = parseRuleText(*text, name, options_.limits);
  std::string encoded;
  if (loadDocs(contents, report, &encoded)) cache_->put(name, *text, std::move(encoded));
}

void RuleSet::loadText(std::string_view yaml, const std::string& file, RuleLoadReport& report) {
  ++report.files;
  RuleFileContents contents = parseRuleText(yaml, file, options_.limits);
  loadDocs(contents, report);
}

void RuleSet::finalize(RuleLoadReport& report) {
  finalized_ = true;
  engine_.reset();
  std::vector<CorrelationRule> all;
  for (const auto& c : engine_rules_) all.push_back(c);
  for (auto& c : pending_correlations_) all.push_back(std::move(c));
  pending_correlations_.clear();
  // Every reference must name a loaded base rule or another correlation; otherwise the
  // correlation is rejected (it could never fire as written).
  auto known = [&](const std::string& ref) {
    for (const auto& r : rules_)
      if (r->info.id == ref || (!r->info.name.empty() && r->info.name == ref)) return true;
    for (const auto& c : all)
      if (c.id == ref || (!c.name.empty() && c.name == ref)) return true;
    return false;
  };
  std::vector<CorrelationRule> ok;
  for (const auto& c : all) {
    std::string missing;
    for (const auto& ref : c.rules)
      if (!known(ref)) missing += (missing.empty() ? "" : ", ") + ref;
    if (!missing.empty()) {
      report.rejected.push_back({c.file, c.alertId(), "invalid correlation",
                                 "references rules that are not loaded: " + missing});
      continue;
    }
    ok.push_back(c);  // a copy: `known` still looks the later correlations up in `all`
  }
  engine_rules_ = ok;
  if (!ok.empty()) {
    auto engine = std::make_unique<CorrelationEngine>(std::move(ok));
    if (Status st = engine->validate(); !st.ok()) {
      for (const auto& c : engine->rules())
        report.rejected.push_back({c.file, c.alertId(), "invalid correlation", st.error().message});
      engine_rules_.clear();
    } else {
      report.correlations += engine->rules().size();
      report.loaded += engine->rules().size();
      engine_ = std::move(engine);
    }
  }
  computeSuppressed();
  buildIndex();
}

void RuleSet::setMinimumAlertLevel(int level) {
  min_alert_level_ = level;
  computeSuppressed();
}

void RuleSet::computeSuppressed() {
  suppressed_.assign(rules_.size(), 0);
  referenced_.assign(rules_.size(), 0);
  for (size_t i = 0; i < rules_.size(); ++i) {
    const auto& info = rules_[i]->info;
    const bool referenced = engine_ && engine_->isReferenced(info.id, info.name);
    const bool by_correlation = referenced && engine_->suppressesStandalone(info.id, info.name);
    // Asked for by a correlation (generate: true): alerts whatever the level.
    const bool generate = referenced && !by_correlation;
    const bool below = alertLevelRank(info.level) < min_alert_level_;
    referenced_[i] = referenced ? 1 : 0;
    suppressed_[i] = by_correlation || (below && !generate) ? 1 : 0;
  }
}

void RuleSet::flush(AlertSink& sink) {
  if (engine_) engine_->flush(sink);
}

void RuleSet::loadPath(const std::filesystem::path& path, RuleLoadReport& report) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> files;
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      report.rejected.push_back({path.string(), "", "unreadable file", ec.message()});
      return;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      const auto ext = it->path().extension();
      if (it->is_regular_file(ec) && (ext == ".yml" || ext == ".yaml")) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) loadPath(f, report);
    return;
  }
  if (!fs::exists(path, ec)) {
    ++report.files;
    report.rejected.push_back({path.string(), "", "unreadable file", "no such file or directory"});
    return;
  }
  loadFile(path, report);
}

void RuleSet::buildIndex() {
  by_channel_.clear();
  by_provider_.clear();
  channel_memo_ = {};
  provider_memo_ = {};
  global_ = Bucket{};
  auto add = [](Bucket& b, const Candidate& c, const std::vector<uint32_t>& ids) {
    if (ids.empty()) {
      b.any_id.list.push_back(c);
    } else {
      for (uint32_t id : ids) b.by_id[id].list.push_back(c);
    }
  };
  for (uint32_t i = 0; i < rules_.size(); ++i) {
    for (const auto& v : rules_[i]->variants) {
      const Candidate c{i, &v};
      if (!v.target.channels.empty()) {
        for (const auto& ch : v.target.channels) add(by_channel_[ch], c, v.event_ids);
      } else if (!v.target.providers.empty()) {
        for (const auto& p : v.target.providers) add(by_provider_[p], c, v.event_ids);
      } else {
        add(global_, c, v.event_ids);
      }
    }
  }
  // Gate lists long enough for the literal prefilter to pay off.
  constexpr size_t kGateThreshold = 3;
  auto gateList = [&](CandidateList& l) {
    l.gate.reset();
    if (!options_.prefilter || l.list.size() < kGateThreshold) return;
    auto g = std::make_unique<GateIndex>();
    for (const auto& c : l.list) g->add(c.variant->detection);
    g->build();
    l.gate = std::move(g);
  };
  auto gateBucket = [&](Bucket& b) {
    for (auto& [id, l] : b.by_id) gateList(l);
    gateList(b.any_id);
  };
  for (auto& [name, b] : by_channel_) gateBucket(b);
  for (auto& [name, b] : by_provider_) gateBucket(b);
  for (const auto& [name, b] : by_channel_)
    channel_memo_.lengths |= uint64_t{1} << std::min<size_t>(name.size(), 63);
  for (const auto& [name, b] : by_provider_)
    provider_memo_.lengths |= uint64_t{1} << std::min<size_t>(name.size(), 63);
  gateBucket(global_);
  last_hit_.assign(rules_.size(), 0);
  index_ready_ = true;
}

RuleSet::IndexStats RuleSet::indexStats() {
  if (!index_ready_) buildIndex();
  IndexStats s;
  s.channels = by_channel_.size();
  s.providers = by_provider_.size();
  s.global = global_.any_id.list.size();
  auto count = [&](const CandidateList& l) {
    if (l.gate) s.gated += l.gate->gated();
  };
  for (const auto& [n, b] : by_channel_) {
    for (const auto& [id, l] : b.by_id) count(l);
    count(b.any_id);
  }
  for (const auto& r : rules_)
    for (const auto& v : r->variants)
      if (!v.event_ids.empty()) ++s.indexed_by_event_id;
  return s;
}

RuleSet::Bucket* RuleSet::findBucket(BucketMap& map, const std::string& key, LookupMemo& memo) {
  if ((memo.lengths & (uint64_t{1} << std::min<size_t>(key.size(), 63))) == 0) return nullptr;
  if (memo.valid && memo.key == key) return memo.bucket;
  auto it = map.find(std::string_view(key));
  memo.key = key;
  memo.bucket = it == map.end() ? nullptr : &it->second;
  memo.valid = true;
  return memo.bucket;
}

template <typename Fn>
void RuleSet::forEachCandidate(const Event& event, Fn&& fn) {
  if (!finalized_) {
    RuleLoadReport ignored;
    finalize(ignored);
  }
  if (!index_ready_) buildIndex();
  ++serial_;
  auto visitList = [&](CandidateList& l) {
    if (l.gate) {
      l.gate->forEachPossible(event, ctx_, [&](uint32_t i) { fn(l.list[i]); });
    } else {
      for (const auto& c : l.list) fn(c);
    }
  };
  auto visit = [&](Bucket& b) {
    if (!b.by_id.empty()) {
      auto it = b.by_id.find(event.system.event_id);
      if (it != b.by_id.end()) visitList(it->second);
    }
    visitList(b.any_id);
  };
  if (!event.system.channel.empty()) {
    if (Bucket* b = findBucket(by_channel_, event.system.channel, channel_memo_)) visit(*b);
  }
  if (!by_provider_.empty() && !event.system.provider_name.empty()) {
    if (Bucket* b = findBucket(by_provider_, event.system.provider_name, provider_memo_)) visit(*b);
  }
  visit(global_);
}

size_t RuleSet::countMatches(const Event& event) {
  size_t n = 0;
  ctx_.matched = nullptr;
  forEachCandidate(event, [&](const Candidate& c) {
    if (last_hit_[c.rule] == serial_) return;  // already matched through another variant
    if (c.variant->detection.evaluate(event, ctx_)) {
      last_hit_[c.rule] = serial_;
      ++n;
    }
  });
  return n;
}

std::vector<size_t> RuleSet::matchingRules(const Event& event) {
  std::vector<size_t> out;
  ctx_.matched = nullptr;
  forEachCandidate(event, [&](const Candidate& c) {
    if (last_hit_[c.rule] == serial_) return;
    if (c.variant->detection.evaluate(event, ctx_)) {
      last_hit_[c.rule] = serial_;
      out.push_back(c.rule);
    }
  });
  std::sort(out.begin(), out.end());
  return out;
}

size_t RuleSet::evaluate(const std::shared_ptr<const Event>& event, AlertSink& sink) {
  return evaluate(
      *event, [&event] { return event; }, sink);
}

size_t RuleSet::evaluate(const Event& ev,
                         const std::function<std::shared_ptr<const Event>()>& share,
                         AlertSink& sink) {
  size_t n = 0;
  std::shared_ptr<const Event> shared;
  // Event time drives correlation windows: windows with an upper bound (lt/lte/eq) close as
  // soon as any later event arrives, not only on the next correlated match.
  if (engine_ && ev.system.time_created)
    engine_->advanceTo(*ev.system.time_created, sink, ev.origin.source);
  forEachCandidate(ev, [&](const Candidate& c) {
    if (last_hit_[c.rule] == serial_) return;
    ctx_.matched = nullptr;
    if (!c.variant->detection.evaluate(ev, ctx_)) return;
    last_hit_[c.rule] = serial_;
    ++n;
    if (suppressed_[c.rule] && !referenced_[c.rule]) return;  // nothing to raise or to feed
    if (!shared) shared = share();
    const CompiledRule& rule = *rules_[c.rule];
    if (!suppressed_[c.rule]) {
      Alert a;
      a.rule_id = rule.info.id;
      a.rule_title = rule.info.title;
      a.level = rule.info.level;
      a.tags = rule.info.tags;
      a.rule_file = rule.info.file;
      a.time = ev.system.time_created;
      a.event = shared;
      // Second pass with recording on: only matching events pay for collecting the fields.
      ctx_.matched = &a.matched;
      (void)c.variant->detection.evaluate(ev, ctx_);
      ctx_.matched = nullptr;
      sink.onAlert(std::move(a));
    }
    if (referenced_[c.rule]) engine_->onRuleMatch(rule.info.id, rule.info.name, shared, sink);
  });
  return n;
}

}  // namespace t0w
