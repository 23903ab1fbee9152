// The correlation engine: stateful evaluation of correlation rules over the stream of base-rule
// matches (semantics in correlation.h). Parsing is in correlation_parser.cpp.
#include <algorithm>
#include <deque>
#include <functional>
#include <limits>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "agent/core/field_key.h"
#include "agent/rules/correlation.h"
#include "agent/rules/correlation_clocks.h"
#include "agent/rules/correlation_state.h"

namespace t0w {

uint64_t CorrelationStats::groupsEvicted() const {
  uint64_t n = 0;
  for (const auto& r : rules) n += r.groups_evicted;
  return n;
}

uint64_t CorrelationStats::eventsEvicted() const {
  uint64_t n = 0;
  for (const auto& r : rules) n += r.events_evicted;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Engine

using namespace correlation_detail;  // the engine's own state types (correlation_state.h)

class CorrelationEngine::Impl {
 public:
  Impl(std::vector<CorrelationRule> rules, CorrelationLimits limits) : limits_(limits) {
    limits_.max_groups_per_rule = std::max<size_t>(1, limits_.max_groups_per_rule);
    limits_.max_events_per_group = std::max<size_t>(1, limits_.max_events_per_group);
    rules_ = std::move(rules);
    states_.resize(rules_.size());
    for (size_t i = 0; i < rules_.size(); ++i) initState(i);
    buildReferences();
    buildOrder();
  }

  const std::vector<CorrelationRule>& rules() const { return rules_; }
  const std::vector<CorrelationReference>& references() const { return references_; }

  const CorrelationReference* findReference(std::string_view ref) const {
    if (ref.empty()) return nullptr;
    auto it = reference_index_.find(ref);
    return it == reference_index_.end() ? nullptr : &references_[it->second];
  }

  Status validate() const {
    // Depth-first search over "correlation A lists correlation B"; a back edge is a cycle.
    std::vector<int> color(states_.size(), 0);
    std::vector<size_t> path;
    std::string cycle;
    std::function<bool(size_t)> visit = [&](size_t i) {
      color[i] = 1;
      path.push_back(i);
      for (size_t j : edges_[i]) {
        if (color[j] == 1) {
          auto from = std::find(path.begin(), path.end(), j);
          for (auto it = from; it != path.end(); ++it) cycle += rules_[*it].alertId() + " -> ";
          cycle += rules_[j].alertId();
          return true;
        }
        if (color[j] == 0 && visit(j)) return true;
      }
      path.pop_back();
      color[i] = 2;
      return false;
    };
    for (size_t i = 0; i < states_.size(); ++i) {
      if (color[i] == 0 && visit(i)) {
        return makeError(Errc::kInvalidArgument,
                         "correlations refer to each other in a cycle: " + cycle);
      }
    }
    return {};
  }

  void onRuleMatch(std::string_view rule_id, std::string_view rule_name,
                   const std::shared_ptr<const Event>& event, AlertSink& out) {
    if (!event) {
      ++null_events_;
      return;
    }
    const CorrelationClocks::Id clock = clocks_.idOf(event->origin.source);
    const std::optional<int64_t> mark = clocks_.mark(clock);
    int64_t t = 0;
    if (event->system.time_created) {
      t = *event->system.time_created;
      if (mark && t < *mark) {
        ++clamped_events_;
        t = *mark;
      } else {
        advanceClock(clock, t, out);
      }
    } else {
      ++untimed_events_;
      t = mark.value_or(0);
    }
    dispatch(rule_id, rule_name, event, t, clock, nullptr, out, 0);
  }

  void advanceTo(int64_t t, std::string_view source, AlertSink& out) {
    advanceClock(clocks_.idOf(source), t, out);
  }

  // Decides and frees the windows of `clock` that end before `t`.
  void advanceClock(CorrelationClocks::Id clock, int64_t t, AlertSink& out) {
    if (!clocks_.advance(clock, t)) return;
    // Called for every event: nothing can have ended before the earliest window end.
    if (t <= clocks_.nextExpiry(clock)) return;
    // Recomputed exactly below; windows opened by alerts raised meanwhile lower it again.
    clocks_.nextExpiry(clock) = std::numeric_limits<int64_t>::max();
    int64_t next = std::numeric_limits<int64_t>::max();
    const auto first = [clock](RuleState& rs) {
      return rs.expiry.lower_bound({clock, std::numeric_limits<int64_t>::min(), std::string()});
    };
    for (size_t i : order_) {
      RuleState& rs = states_[i];
      for (auto it = first(rs);
           it != rs.expiry.end() && std::get<0>(*it) == clock && std::get<1>(*it) < t;
           it = first(rs)) {
        Group g = takeGroup(rs, std::get<2>(*it));
        if (rs.tumbling) decideWindow(i, std::move(g), out, 0);
      }
      auto it = first(rs);
      if (it != rs.expiry.end() && std::get<0>(*it) == clock)
        next = std::min(next, std::get<1>(*it));
    }
    clocks_.nextExpiry(clock) = std::min(clocks_.nextExpiry(clock), next);
  }

  void flush(AlertSink& out) {
    // Inner correlations first, so that their alerts reach outer windows before those close.
    for (size_t i : order_) {
      RuleState& rs = states_[i];
      while (!rs.expiry.empty()) {
        Group g = takeGroup(rs, std::get<2>(*rs.expiry.begin()));
        if (rs.tumbling) decideWindow(i, std::move(g), out, 0);
      }
    }
    clearGroups();
  }

  void reset() {
    clearGroups();
    clocks_.reset();
  }

  CorrelationStats stats() const {
    CorrelationStats s;
    for (const auto& rs : states_) {
      s.rules.push_back(rs.stats);
      s.rules.back().active_groups = rs.groups.size();
    }
    s.alerts_emitted = alerts_emitted_;
    s.untimed_events = untimed_events_;
    s.clamped_events = clamped_events_;
    s.cycle_drops = cycle_drops_;
    s.null_events = null_events_;
    s.state_bytes = total_bytes_;
    return s;
  }

  std::optional<int64_t> eventTime() const { return clocks_.newest(); }

  size_t stateBytes() const { return total_bytes_; }
  uint64_t budgetEvictions() const { return budget_evictions_; }

  size_t recountStateBytes() const {
    size_t n = 0;
    for (const auto& rs : states_) {
      for (const auto& [key, g] : rs.groups) n += groupBytes(key, g);
    }
    return n;
  }

 private:
  using Targets = std::vector<std::pair<size_t, uint32_t>>;  // (state, index in `rules:`)

  void initState(size_t i) {
    RuleState& rs = states_[i];
    rs.rule = rules_[i];
    rs.stats.id = rs.rule.alertId();
    const size_t n = rs.rule.rules.size();
    const bool temporal = rs.rule.type == CorrelationType::kTemporal ||
                          rs.rule.type == CorrelationType::kTemporalOrdered;
    rs.condition = rs.rule.condition;
    if (temporal && rs.condition.empty()) rs.condition.gte = n;
    // An upper bound makes the condition non-monotone, so it is decided when the window closes;
    // for temporal types a bound at or above the number of rules can never be exceeded.
    const auto upper = rs.condition.upperBound();
    rs.tumbling = upper && !(temporal && *upper >= n);

    auto resolve = [&rs](const std::string& name, const std::string& ref) {
      auto alias = rs.rule.aliases.find(name);
      if (alias == rs.rule.aliases.end()) return makeFieldRef(name);
      auto field = alias->second.find(ref);
      if (field != alias->second.end()) return makeFieldRef(field->second);
      FieldRef f = makeFieldRef(name);
      f.pending_alias = &alias->second;
      return f;
    };
    rs.group_fields.resize(n);
    rs.value_fields.resize(n);
    for (size_t r = 0; r < n; ++r) {
      for (const auto& g : rs.rule.group_by)
        rs.group_fields[r].push_back(resolve(g, rs.rule.rules[r]));
      for (const auto& v : rs.rule.value_fields) {
        rs.value_fields[r].push_back(resolve(v, rs.rule.rules[r]));
      }
      targets_[rs.rule.rules[r]].emplace_back(i, static_cast<uint32_t>(r));
    }
  }

  void buildReferences() {
    for (const auto& rule : rules_) {
      for (const auto& ref : rule.rules) {
        auto [it, inserted] = reference_index_.try_emplace(ref, references_.size());
        if (inserted) references_.push_back(CorrelationReference{ref, {}, false, false});
        CorrelationReference& r = references_[it->second];
        r.referenced_by.push_back(rule.alertId());
        r.generate = r.generate || rule.generate;
      }
    }
    edges_.resize(states_.size());
    for (size_t i = 0; i < states_.size(); ++i) {
      const CorrelationRule& inner = rules_[i];
      const CorrelationReference* by_id = findReference(inner.id);
      const CorrelationReference* by_name = findReference(inner.name);
      for (std::string_view ref : {std::string_view(inner.id), std::string_view(inner.name)}) {
        auto it = ref.empty() ? reference_index_.end() : reference_index_.find(ref);
        if (it != reference_index_.end()) references_[it->second].is_correlation = true;
      }
      // An inner correlation alerts on its own only if an outer one asks for it.
      if (by_id || by_name) {
        states_[i].emit = (by_id && by_id->generate) || (by_name && by_name->generate);
      }
      for (size_t j = 0; j < states_.size(); ++j) {
        const auto& outer_rules = rules_[j].rules;
        const bool lists =
            std::any_of(outer_rules.begin(), outer_rules.end(), [&inner](const std::string& r) {
              return (!inner.id.empty() && r == inner.id) ||
                     (!inner.name.empty() && r == inner.name);
            });
        if (lists) edges_[j].push_back(i);
      }
    }
  }

  // Post-order over "outer lists inner": inner correlations come before the ones that name them.
  void buildOrder() {
    std::vector<bool> seen(states_.size(), false);
    std::function<void(size_t)> visit = [&](size_t i) {
      seen[i] = true;
      for (size_t j : edges_[i]) {
        if (!seen[j]) visit(j);
      }
      order_.push_back(i);
    };
    for (size_t i = 0; i < states_.size(); ++i) {
      if (!seen[i]) visit(i);
    }
  }

  void clearGroups() {
    for (auto& rs : states_) {
      rs.groups.clear();
      rs.expiry.clear();
    }
    total_bytes_ = 0;
  }

  Group takeGroup(RuleState& rs, const std::string& key_ref) {
    const std::string key = key_ref;  // key_ref may live in the set entry erased below
    auto it = rs.groups.find(key);
    Group g = std::move(it->second);
    rs.groups.erase(it);
    rs.expiry.erase({g.clock, g.expiry, key});
    total_bytes_ -= g.bytes;
    return g;
  }

  void dispatch(std::string_view rule_id, std::string_view rule_name,
                const std::shared_ptr<const Event>& event, int64_t t, CorrelationClocks::Id clock,
                const std::shared_ptr<const Contribution>& chained, AlertSink& out, size_t depth) {
    if (depth > states_.size()) {
      ++cycle_drops_;
      return;
    }
    Targets targets;
    for (std::string_view ref : {rule_id, rule_name}) {
      if (ref.empty()) continue;
      auto it = targets_.find(ref);
      if (it == targets_.end()) continue;
      for (const auto& target : it->second) {
        // A correlation listing both the id and the name of one rule counts the match once.
        const bool dup = std::any_of(targets.begin(), targets.end(),
                                     [&](const auto& t2) { return t2.first == target.first; });
        if (!dup) targets.push_back(target);
      }
    }
    for (const auto& [state, index] : targets) {
      process(state, index, rule_id, rule_name, event, t, clock, chained, out, depth);
    }
  }

  std::optional<std::string> fieldValue(const FieldRef& f, const Event& event,
                                        std::string_view rule_id, std::string_view rule_name) {
    if (!f.pending_alias) return lookupField(event, f.key, f.system);
    for (std::string_view ref : {rule_name, rule_id}) {
      if (ref.empty()) continue;
      auto it = f.pending_alias->find(std::string(ref));
      if (it != f.pending_alias->end()) {
        return lookupField(event, FieldKey(it->second), systemFieldByName(it->second));
      }
    }
    return lookupField(event, f.key, f.system);
  }

  void process(size_t state, uint32_t index, std::string_view rule_id, std::string_view rule_name,
               const std::shared_ptr<const Event>& event, int64_t t, CorrelationClocks::Id clock,
               const std::shared_ptr<const Contribution>& chained, AlertSink& out, size_t depth) {
    RuleState& rs = states_[state];
    ++rs.stats.matches;
    const CorrelationType type = rs.rule.type;

    std::vector<std::string> values;
    values.reserve(rs.group_fields[index].size());
    for (const auto& f : rs.group_fields[index]) {
      auto v = fieldValue(f, *event, rule_id, rule_name);
      if (!v) {
        ++rs.stats.missing_group_field;
        return;
      }
      values.push_back(std::move(*v));
    }
    std::string counted;
    if (type == CorrelationType::kValueCount) {
      for (const auto& f : rs.value_fields[index]) {
        auto v = fieldValue(f, *event, rule_id, rule_name);
        if (!v) {
          ++rs.stats.missing_value_field;
          return;
        }
        appendEncoded(counted, *v);
      }
    }
    std::string key;
    for (const auto& v : values) appendEncoded(key, v);
    const int64_t span = rs.rule.timespan;

    auto it = rs.groups.find(key);
    if (it != rs.groups.end() && rs.tumbling && t > satAdd(it->second.window_start, span)) {
      // The group's window ended before this match (a chained alert arriving while windows are
      // being closed): decide it before opening the next one.
      decideWindow(state, takeGroup(rs, key), out, depth);
      it = rs.groups.find(key);
    }
    if (it == rs.groups.end()) {
      if (rs.groups.size() >= limits_.max_groups_per_rule && !rs.expiry.empty()) {
        // The group whose window ends first is the oldest.
        takeGroup(rs, oldestGroup(rs));
        ++rs.stats.groups_evicted;
      }
      Group g;
      g.values = std::move(values);
      g.window_start = t;
      if (type == CorrelationType::kTemporal) g.latest.resize(rs.rule.rules.size());
      if (type == CorrelationType::kTemporalOrdered) g.best.resize(rs.rule.rules.size());
      g.bytes = groupBytes(key, g);
      total_bytes_ += g.bytes;
      it = rs.groups.emplace(key, std::move(g)).first;
    } else {
      rs.expiry.erase({it->second.clock, it->second.expiry, key});
    }
    Group& g = it->second;
    const int64_t window_low = t - span;  // sliding window [t - span, t]
    // Charged again once the group has changed: incrementally for the counting types (their
    // groups may hold thousands of entries), from scratch for the temporal ones (a few).
    total_bytes_ -= g.bytes;

    Entry e{t, event, index, std::move(counted), chained};
    const size_t e_bytes = entryBytes(e);
    g.bytes += e_bytes;
    g.bytes -= entryBytes(g.last);
    g.last = e;
    switch (type) {
      case CorrelationType::kEventCount:
      case CorrelationType::kValueCount: {
        if (!rs.tumbling) pruneBefore(rs, g, window_low);
        // One event matched by several of the correlation's rules counts once.
        if (!g.entries.empty() && g.entries.back().event == event) break;
        if (g.entries.size() >= limits_.max_events_per_group) {
          popFront(rs, g);
          ++rs.stats.events_evicted;
        }
        if (type == CorrelationType::kValueCount && ++g.value_counts[e.value] == 1) {
          g.bytes += e.value.size() + 48;
        }
        g.bytes += e_bytes;
        g.entries.push_back(std::move(e));
        break;
      }
      case CorrelationType::kTemporal:
        g.latest[index] = std::move(e);
        break;
      case CorrelationType::kTemporalOrdered: {
        if (index == 0) {
          g.best[0] = Chain{t, {std::move(e)}};
          break;
        }
        const auto& prev = g.best[index - 1];
        // The previous step must be an earlier event, and (sliding) still inside the window.
        if (!prev || prev->entries.back().event == event) break;
        if (!rs.tumbling && prev->start < window_low) break;
        Chain c = *prev;
        c.entries.push_back(std::move(e));
        // Prefer the chain that started latest: it stays inside sliding windows longest.
        if (!g.best[index] || c.start >= g.best[index]->start) g.best[index] = std::move(c);
        break;
      }
    }
    if (type == CorrelationType::kTemporal || type == CorrelationType::kTemporalOrdered) {
      g.bytes = groupBytes(key, g);
    }
    total_bytes_ += g.bytes;

    if (rs.tumbling) {
      g.expiry = satAdd(g.window_start, span);
    } else {
      if (rs.condition.holds(count(rs, g, window_low))) {
        Alert alert = buildAlert(rs, g, window_low, g.last);
        takeGroupNoExpiry(rs, key);
        raise(state, std::move(alert), clock, out, depth);
        return;
      }
      g.expiry = satAdd(t, span);
    }
    g.clock = clock;
    rs.expiry.emplace(clock, g.expiry, key);
    clocks_.nextExpiry(clock) = std::min(clocks_.nextExpiry(clock), g.expiry);
    enforceBudget();
  }

  // Drops the groups whose windows end first, of any correlation, until all state fits the
  // budget. Called last in a match, when no reference to a group is held.
  void enforceBudget() {
    while (total_bytes_ > limits_.max_state_bytes) {
      RuleState* victim = nullptr;
      std::string victim_key;
      int64_t earliest = std::numeric_limits<int64_t>::max();
      for (RuleState& rs : states_) {
        if (rs.expiry.empty()) continue;
        std::string k = oldestGroup(rs);
        const int64_t end = rs.groups.at(k).expiry;
        if (victim == nullptr || end < earliest) {
          victim = &rs;
          victim_key = std::move(k);
          earliest = end;
        }
      }
      if (victim == nullptr) return;
      takeGroup(*victim, victim_key);
      ++victim->stats.budget_evictions;
      ++budget_evictions_;
    }
  }

  // The key of the group whose window ends first, over all clocks (one probe per clock).
  std::string oldestGroup(const RuleState& rs) const {
    auto best = rs.expiry.begin();
    for (auto it = best; it != rs.expiry.end();
         it = rs.expiry.lower_bound(
             {std::get<0>(*it) + 1, std::numeric_limits<int64_t>::min(), std::string()})) {
      if (std::get<1>(*it) < std::get<1>(*best)) best = it;
    }
    return std::get<2>(*best);
  }

  static int64_t satAdd(int64_t a, int64_t b) {
    return a > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max()
                                                       : a + b;
  }

  void takeGroupNoExpiry(RuleState& rs, const std::string& key) {
    auto it = rs.groups.find(key);
    total_bytes_ -= it->second.bytes;
    rs.groups.erase(it);
  }

  void popFront(RuleState& rs, Group& g) {
    if (rs.rule.type == CorrelationType::kValueCount) {
      auto v = g.value_counts.find(g.entries.front().value);
      if (v != g.value_counts.end() && --v->second == 0) {
        g.bytes -= v->first.size() + 48;
        g.value_counts.erase(v);
      }
    }
    g.bytes -= entryBytes(g.entries.front());
    g.entries.pop_front();
  }

  void pruneBefore(RuleState& rs, Group& g, int64_t low) {
    while (!g.entries.empty() && g.entries.front().time < low) popFront(rs, g);
  }

  // The count the condition applies to. For tumbling windows every held entry is in the window.
  uint64_t count(const RuleState& rs, const Group& g, int64_t window_low) const {
    auto inWindow = [&](int64_t time) { return rs.tumbling || time >= window_low; };
    switch (rs.rule.type) {
      case CorrelationType::kEventCount:
        return g.entries.size();
      case CorrelationType::kValueCount:
        return g.value_counts.size();
      case CorrelationType::kTemporal:
        return std::count_if(g.latest.begin(), g.latest.end(),
                             [&](const auto& e) { return e && inWindow(e->time); });
      case CorrelationType::kTemporalOrdered: {
        uint64_t best = 0;
        for (size_t k = 0; k < g.best.size(); ++k) {
          if (g.best[k] && inWindow(g.best[k]->start)) best = k + 1;
        }
        return best;
      }
    }
    return 0;
  }

  // The events that satisfied the condition: the window's events for counts, the witnesses for
  // temporal types (the newest event of each rule; the in-order chain).
  std::vector<const Entry*> contributors(const RuleState& rs, const Group& g,
                                         int64_t window_low) const {
    std::vector<const Entry*> out;
    auto inWindow = [&](int64_t time) { return rs.tumbling || time >= window_low; };
    switch (rs.rule.type) {
      case CorrelationType::kEventCount:
      case CorrelationType::kValueCount:
        for (const auto& e : g.entries) out.push_back(&e);
        break;
      case CorrelationType::kTemporal:
        for (const auto& e : g.latest) {
          if (e && inWindow(e->time)) out.push_back(&*e);
        }
        std::stable_sort(out.begin(), out.end(),
                         [](const Entry* a, const Entry* b) { return a->time < b->time; });
        break;
      case CorrelationType::kTemporalOrdered: {
        const Chain* chain = nullptr;
        for (const auto& c : g.best) {
          if (c && inWindow(c->start)) chain = &*c;
        }
        if (chain) {
          for (const auto& e : chain->entries) out.push_back(&e);
        }
        break;
      }
    }
    // A window decided on a count of zero (e.g. lt on temporal_ordered) still names its event.
    if (out.empty() && g.last.event) out.push_back(&g.last);
    return out;
  }

  Alert buildAlert(const RuleState& rs, const Group& g, int64_t window_low,
                   const Entry& completing) const {
    Alert a;
    const CorrelationRule& rule = rs.rule;
    a.rule_id = rule.alertId();
    a.rule_title = rule.title;
    a.level = rule.level;
    a.tags = rule.tags;
    a.rule_file = rule.file;
    if (clocks_.newest()) a.time = completing.time;
    a.event = completing.event;
    a.correlation_type = correlationTypeName(rule.type);
    for (size_t i = 0; i < rule.group_by.size() && i < g.values.size(); ++i) {
      a.group_by.push_back(MatchedField{rule.group_by[i], g.values[i]});
    }
    std::unordered_set<std::string> seen_keys;
    std::unordered_set<std::string> seen_rules;
    auto addKey = [&](std::string k) {
      if (seen_keys.insert(k).second) a.contributing_keys.push_back(std::move(k));
    };
    auto addRule = [&](const std::string& r) {
      if (seen_rules.insert(r).second) a.contributing_rules.push_back(r);
    };
    for (const Entry* e : contributors(rs, g, window_low)) {
      addRule(rule.rules[e->rule_index]);
      if (e->chained) {
        for (const auto& k : e->chained->keys) addKey(k);
        for (const auto& r : e->chained->rules) addRule(r);
      } else {
        addKey(eventKey(*e->event));
      }
    }
    return a;
  }

  void decideWindow(size_t state, Group g, AlertSink& out, size_t depth) {
    RuleState& rs = states_[state];
    if (!rs.condition.holds(count(rs, g, 0))) return;
    raise(state, buildAlert(rs, g, 0, g.last), g.clock, out, depth);
  }

  // Emits the alert (unless an outer correlation consumes it silently) and feeds it to the
  // correlations that name this one.
  void raise(size_t state, Alert alert, CorrelationClocks::Id clock, AlertSink& out, size_t depth) {
    RuleState& rs = states_[state];
    ++rs.stats.alerts;
    const std::string id = rs.rule.id;
    const std::string name = rs.rule.name;
    const bool chained = findReference(id) || findReference(name);
    std::shared_ptr<const Event> event = alert.event;
    int64_t t = alert.time.value_or(0);
    if (auto mark = clocks_.mark(clock)) t = std::max(t, *mark);
    std::shared_ptr<const Contribution> contribution;
    if (chained) {
      contribution = std::make_shared<Contribution>(
          Contribution{alert.contributing_keys, alert.contributing_rules});
    }
    if (rs.emit) {
      ++alerts_emitted_;
      out.onAlert(std::move(alert));
    }
    if (chained) dispatch(id, name, event, t, clock, contribution, out, depth + 1);
  }

  CorrelationLimits limits_;
  size_t total_bytes_ = 0;  // sum of Group::bytes over all rules
  uint64_t budget_evictions_ = 0;
  std::vector<CorrelationRule> rules_;
  std::vector<RuleState> states_;
  std::unordered_map<std::string, Targets, StringHash, std::equal_to<>> targets_;
  std::vector<CorrelationReference> references_;
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> reference_index_;
  std::vector<std::vector<size_t>> edges_;  // edges_[outer] = inner correlations it lists
  std::vector<size_t> order_;               // inner correlations before outer ones
  CorrelationClocks clocks_;                // event time per source
  uint64_t alerts_emitted_ = 0;
  uint64_t untimed_events_ = 0;
  uint64_t clamped_events_ = 0;
  uint64_t cycle_drops_ = 0;
  uint64_t null_events_ = 0;
};

CorrelationEngine::CorrelationEngine(std::vector<CorrelationRule> rules, CorrelationLimits limits)
    : impl_(std::make_unique<Impl>(std::move(rules), limits)) {}
CorrelationEngine::~CorrelationEngine() = default;
CorrelationEngine::CorrelationEngine(CorrelationEngine&&) noexcept = default;
CorrelationEngine& CorrelationEngine::operator=(CorrelationEngine&&) noexcept = default;

const std::vector<CorrelationRule>& CorrelationEngine::rules() const { return impl_->rules(); }

const std::vector<CorrelationReference>& CorrelationEngine::references() const {
  return impl_->references();
}

bool CorrelationEngine::isReferenced(std::string_view rule_id, std::string_view rule_name) const {
  return impl_->findReference(rule_id) || impl_->findReference(rule_name);
}

bool CorrelationEngine::suppressesStandalone(std::string_view rule_id,
                                             std::string_view rule_name) const {
  const CorrelationReference* by_id = impl_->findReference(rule_id);
  const CorrelationReference* by_name = impl_->findReference(rule_name);
  if (!by_id && !by_name) return false;
  return !((by_id && by_id->generate) || (by_name && by_name->generate));
}

Status CorrelationEngine::validate() const { return impl_->validate(); }

void CorrelationEngine::onRuleMatch(std::string_view rule_id, std::string_view rule_name,
                                    const std::shared_ptr<const Event>& event, AlertSink& out) {
  impl_->onRuleMatch(rule_id, rule_name, event, out);
}

void CorrelationEngine::advanceTo(int64_t event_time, AlertSink& out, std::string_view source) {
  impl_->advanceTo(event_time, source, out);
}

void CorrelationEngine::flush(AlertSink& out) { impl_->flush(out); }

void CorrelationEngine::reset() { impl_->reset(); }

size_t CorrelationEngine::recountStateBytes() const { return impl_->recountStateBytes(); }
size_t CorrelationEngine::stateBytes() const { return impl_->stateBytes(); }
uint64_t CorrelationEngine::budgetEvictions() const { return impl_->budgetEvictions(); }

CorrelationStats CorrelationEngine::stats() const { return impl_->stats(); }

std::optional<int64_t> CorrelationEngine::eventTime() const { return impl_->eventTime(); }

}  // namespace t0w
