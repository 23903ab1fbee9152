// Helpers for the rule tests: events built in memory and rules loaded from YAML text.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/rules/rule_set.h"

namespace t0w::testing {

inline Event makeEvent(std::string channel, uint32_t event_id,
                       std::vector<std::pair<std::string, std::string>> fields) {
  Event e;
  e.system.channel = std::move(channel);
  e.system.event_id = event_id;
  e.system.provider_name = "Microsoft-Windows-Sysmon";
  e.system.computer = "dc01.corp.example";
  e.system.record_id = 42;
  for (auto& [k, v] : fields) e.addField(k, v);
  return e;
}

inline Event sysmon1(std::vector<std::pair<std::string, std::string>> fields) {
  return makeEvent("Microsoft-Windows-Sysmon/Operational", 1, std::move(fields));
}

class CollectingSink : public AlertSink {
 public:
  void onAlert(Alert&& a) override { alerts.push_back(std::move(a)); }
  std::vector<Alert> alerts;
};

// A process_creation rule whose detection block is `detection` (YAML, indented by 4 spaces).
inline std::string procRule(const std::string& detection) {
  return "title: Test rule\nid: 11111111-2222-3333-4444-555555555555\nstatus: test\n"
         "level: high\ntags: [attack.t1059]\nlogsource:\n  product: windows\n"
         "  category: process_creation\ndetection:\n" +
         detection;
}

struct LoadedRules {
  std::unique_ptr<RuleSet> set = std::make_unique<RuleSet>();
  RuleLoadReport report;

  size_t matches(const Event& e) { return set->countMatches(e); }
  std::vector<Alert> alerts(const Event& e) {
    CollectingSink sink;
    set->evaluate(std::make_shared<const Event>(e), sink);
    return std::move(sink.alerts);
  }
  std::string rejection() const {
    return report.rejected.empty() ? std::string() : report.rejected[0].toString();
  }
};

inline LoadedRules load(const std::string& yaml, RuleCompileOptions opts = {}) {
  LoadedRules r;
  r.set = std::make_unique<RuleSet>(std::move(opts));
  r.set->loadText(yaml, "test.yml", r.report);
  r.set->finalize(r.report);
  return r;
}

}  // namespace t0w::testing
