#include "agent/rules/pack_coverage.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "agent/rules/value_matcher.h"

namespace t0w {
namespace {

constexpr std::string_view kGuideTag = "tier0watch.guide.";
constexpr std::string_view kPackTag = "tier0watch.pack.";
constexpr std::string_view kPrereqTag = "tier0watch.prereq.";

void addUnique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

// Sorts the tags of one rule into rows, prerequisites, ATT&CK and unknown tier0watch tags.
void classifyTags(const std::vector<std::string>& tags,
                  const std::map<std::string, std::string>& rows,
                  const std::vector<RulePack>& packs, CoverageRule& r,
                  std::vector<std::string>& unknown) {
  for (const auto& raw : tags) {
    const std::string t = lowerAscii(raw);
    if (t.starts_with(kGuideTag) || t.starts_with(kPackTag)) {
      auto it = rows.find(t);
      if (it != rows.end()) {
        addUnique(r.rows, it->second);
      } else {
        addUnique(unknown, r.id + ": " + raw);
      }
    } else if (t.starts_with(kPrereqTag)) {
      const std::string key = t.substr(kPrereqTag.size());
      const bool known = std::any_of(packs.begin(), packs.end(), [&](const RulePack& p) {
        return p.prerequisite(key) != nullptr;
      });
      if (known) {
        addUnique(r.prereqs, key);
      } else {
        addUnique(unknown, r.id + ": " + raw);
      }
    } else if (t.starts_with("attack.")) {
      addUnique(r.attack, t.substr(7));
    } else if (t.starts_with("tier0watch.")) {
      addUnique(unknown, r.id + ": " + raw);
    }
  }
}

std::string joined(const std::vector<std::string>& v, const std::string& sep,
                   const std::string& empty = "—") {
  if (v.empty()) return empty;
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::string testsCell(const CoverageRule& r) {
  if (!r.has_tests) return "none";
  const auto& t = r.tests;
  std::string s =
      std::to_string(t.positive_passed) + "+ / " + std::to_string(t.negative_passed) + "−";
  if (t.positive_failed + t.negative_failed > 0)
    s += " (" + std::to_string(t.positive_failed + t.negative_failed) + " FAILING)";
  return s;
}

bool proven(const CoverageRule& r) {
  return r.has_tests && r.tests.positive_passed > 0 && r.tests.negative_passed > 0 &&
         r.tests.positive_failed == 0 && r.tests.negative_failed == 0;
}

// Markdown table cells must not contain a bare '|'.
std::string cell(std::string s) {
  for (size_t p = s.find('|'); p != std::string::npos; p = s.find('|', p + 2))
    s.replace(p, 1, "\\|");
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

}  // namespace

PackCoverage computeCoverage(const LoadedRuleSet& loaded,
                             const std::map<std::string, RuleTestCounts>& tests) {
  PackCoverage cov;
  cov.packs = loaded.packs;
  cov.placeholder_values = loaded.placeholders;
  std::map<std::string, std::string> row_by_tag;  // lowercase tag -> row id
  for (const auto& pack : loaded.packs)
    for (const auto& row : pack.catalog) {
      row_by_tag[row.tag()] = row.id;
      cov.rows.push_back({row, {}, false});
    }
  const RuleSet& rules = *loaded.rules;
  const CorrelationEngine* engine = rules.correlations();

  for (size_t i = 0; i < rules.size(); ++i) {
    const CompiledRule& cr = rules.rule(i);
    CoverageRule r;
    r.id = cr.info.id;
    r.name = cr.info.name;
    r.title = cr.info.title;
    r.level = cr.info.level;
    r.kind = "rule";
    const auto& ls = cr.info.logsource;
    r.source = ls.product + (ls.category.empty() ? "" : "/" + ls.category) +
               (ls.service.empty() ? "" : "/" + ls.service);
    for (const auto& v : cr.variants) {
      for (const auto& ch : v.target.channels) addUnique(r.channels, ch);
      for (const auto& p : v.target.providers) addUnique(r.channels, "provider " + p);
      if (v.target.channels.empty() && v.target.providers.empty()) addUnique(r.channels, "any log");
    }
    for (const auto& v : cr.variants)
      for (const auto& name : v.detection.placeholders) addUnique(r.placeholders, name);
    r.alerts = !(engine && engine->suppressesStandalone(cr.info.id, cr.info.name));
    classifyTags(cr.info.tags, row_by_tag, loaded.packs, r, cov.unknown_tags);
    cov.rules.push_back(std::move(r));
  }
  if (engine) {
    for (const auto& c : engine->rules()) {
      CoverageRule r;
      r.id = c.alertId();
      r.name = c.name;
      r.title = c.title;
      r.level = c.level;
      r.kind = correlationTypeName(c.type);
      r.source = "correlation of " + joined(c.rules, ", ");
      // An inner correlation alerts only through the correlation that names it.
      r.alerts = !engine->suppressesStandalone(c.id, c.name);
      classifyTags(c.tags, row_by_tag, loaded.packs, r, cov.unknown_tags);
      cov.rules.push_back(std::move(r));
    }
    // What the counted rules need, the correlation needs; chains name inner correlations, so
    // repeat until nothing is added (the engine has rejected cycles).
    for (bool grew = true; grew;) {
      grew = false;
      size_t i = rules.size();
      for (const auto& c : engine->rules()) {
        CoverageRule& r = cov.rules[i++];
        for (const auto& ref : c.rules)
          for (const auto& base : cov.rules) {
            if (&base == &r || (base.id != ref && (base.name.empty() || base.name != ref)))
              continue;
            const size_t before = r.prereqs.size() + r.channels.size() + r.placeholders.size();
            for (const auto& p : base.prereqs) addUnique(r.prereqs, p);
            for (const auto& ch : base.channels) addUnique(r.channels, ch);
            for (const auto& ph : base.placeholders) addUnique(r.placeholders, ph);
            grew = grew || r.prereqs.size() + r.channels.size() + r.placeholders.size() != before;
          }
      }
    }
  }
  for (auto& r : cov.rules) {
    if (auto it = tests.find(r.id); it != tests.end()) {
      r.has_tests = true;
      r.tests = it->second;
    }
  }
  for (auto& row : cov.rows) {
    for (const auto& r : cov.rules) {
      if (!r.alerts || std::find(r.rows.begin(), r.rows.end(), row.row.id) == r.rows.end())
        continue;
      row.rule_ids.push_back(r.id);
      row.covered = row.covered || proven(r);
    }
  }
  return cov;
}

std::string renderCoverageMarkdown(const PackCoverage& cov, bool with_tests,
                                   const std::string& command) {
  std::ostringstream o;
  std::string names;
  for (const auto& p : cov.packs) names += (names.empty() ? "" : ", ") + p.name;
  o << "# Detections: " << (names.empty() ? "rules" : names) << "\n\n";
  o << "<!-- Generated by `" << command << "`. Do not edit: a test compares this file with the "
    << "command's output. -->\n\n";
  for (const auto& p : cov.packs) {
    if (!p.title.empty()) o << "**" << p.title << "**";
    if (!p.description.empty()) o << (p.title.empty() ? "" : " ") << p.description;
    if (!p.title.empty() || !p.description.empty()) o << "\n\n";
  }
  std::map<std::string, const CoverageRule*> rule_by_id;
  for (const auto& r : cov.rules) rule_by_id[r.id] = &r;

  // Summary by kind and local observability.
  size_t local_rows = 0, local_covered = 0, local_with_rules = 0;
  for (const auto& row : cov.rows) {
    if (row.row.local == "no") continue;
    ++local_rows;
    local_with_rules += row.rule_ids.empty() ? 0 : 1;
    local_covered += row.covered ? 1 : 0;
  }
  size_t alerting = 0;
  for (const auto& r : cov.rules) alerting += r.alerts ? 1 : 0;
  o << "## Summary\n\n";
  o << "- " << alerting << " alerting rules (" << cov.rules.size() - alerting
    << " more only feed correlations), " << cov.rows.size() << " catalog rows.\n";
  o << "- Rows a server can see (local *yes* or *partial*): " << local_rows
    << "; with a rule: " << local_with_rules;
  if (with_tests) o << "; with a rule whose positive and negative fixtures pass: " << local_covered;
  o << ".\n";
  o << "- Rows only cloud logs can answer are listed with the log that covers them.\n\n";

  const auto rowsTable = [&](const std::string& title, const std::string& kind) {
    bool any = false;
    for (const auto& row : cov.rows) any = any || (row.row.kind == kind && row.row.local != "no");
    if (!any) return;
    o << "## " << title << "\n\n";
    o << "| Row | What to monitor | Risk | Local | Rules | Prerequisites |"
      << (with_tests ? " Tests (+/−) |" : "") << "\n";
    o << "|---|---|---|---|---|---|" << (with_tests ? "---|" : "") << "\n";
    for (const auto& row : cov.rows) {
      if (row.row.kind != kind || row.row.local == "no") continue;
      std::vector<std::string> ids, prereqs;
      size_t pos = 0, neg = 0;
      for (const auto& id : row.rule_ids) {
        const CoverageRule* r = rule_by_id[id];
        ids.push_back(cell(r->title) + " `" + id + "`");
        for (const auto& p : r->prereqs) addUnique(prereqs, p);
        pos += r->tests.positive_passed;
        neg += r->tests.negative_passed;
      }
      o << "| " << row.row.id << " | " << cell(row.row.title) << " | " << cell(row.row.risk)
        << " | " << row.row.local << " | " << joined(ids, "<br>", "**none**") << " | "
        << joined(prereqs, ", ") << " |";
      if (with_tests)
        o << " " << (ids.empty() ? "—" : std::to_string(pos) + "+ / " + std::to_string(neg) + "−")
          << (row.rule_ids.empty() || row.covered ? "" : " **not proven**") << " |";
      o << "\n";
    }
    o << "\n";
  };
  rowsTable("Rows of the guide", "guide");
  rowsTable("Supplementary entries of the detection catalog", "supplementary");
  rowsTable("Detections the pack adds", "pack");

  bool cloud = false;
  for (const auto& row : cov.rows) cloud = cloud || row.row.local == "no";
  if (cloud) {
    o << "## Rows only cloud logs can answer\n\n| Row | What to monitor | Risk | Covered by |\n"
      << "|---|---|---|---|\n";
    for (const auto& row : cov.rows)
      if (row.row.local == "no")
        o << "| " << row.row.id << " | " << cell(row.row.title) << " | " << cell(row.row.risk)
          << " | " << cell(row.row.cloud) << " |\n";
    o << "\n";
  }

  o << "## Rules\n\n| Rule | Title | Level | Kind | Rows | Reads | ATT&CK |"
    << (with_tests ? " Tests (+/−) |" : "") << "\n|---|---|---|---|---|---|---|"
    << (with_tests ? "---|" : "") << "\n";
  for (const auto& r : cov.rules) {
    if (!r.alerts) continue;
    o << "| `" << r.id << "` | " << cell(r.title) << " | " << r.level << " | " << r.kind << " | "
      << joined(r.rows, ", ") << " | " << cell(joined(r.channels, ", ")) << " | "
      << joined(r.attack, ", ") << " |";
    if (with_tests) o << " " << testsCell(r) << " |";
    o << "\n";
  }
  o << "\n";
  bool helpers = false;
  for (const auto& r : cov.rules) helpers = helpers || !r.alerts;
  if (helpers) {
    o << "Rules that only feed correlations (`generate: false`): ";
    std::vector<std::string> ids;
    for (const auto& r : cov.rules)
      if (!r.alerts) ids.push_back("`" + r.id + "` " + r.title);
    o << joined(ids, "; ") << ".\n\n";
  }

  o << "## Prerequisites on the server\n\n| Key | What to configure | Rules |\n|---|---|---|\n";
  for (const auto& p : cov.packs)
    for (const auto& pre : p.prerequisites) {
      std::vector<std::string> ids;
      for (const auto& r : cov.rules)
        if (r.alerts && std::find(r.prereqs.begin(), r.prereqs.end(), pre.key) != r.prereqs.end())
          ids.push_back("`" + r.id + "`");
      o << "| " << pre.key << " | " << cell(pre.text) << " | " << joined(ids, " ") << " |\n";
    }
  o << "\n";

  o << "## Placeholders (environment values)\n\n"
    << "Set in `rules.placeholders` (agent configuration) or Group Policy `RulePlaceholders`; "
    << "`--placeholder NAME=V1;V2` for `scan` and `rules test`.\n\n"
    << "| Placeholder | Default | Meaning | Rules |\n|---|---|---|---|\n";
  for (const auto& p : cov.packs)
    for (const auto& ph : p.placeholders) {
      std::vector<std::string> ids, defaults;
      for (const auto& d : ph.defaults) defaults.push_back("`" + d + "`");
      for (const auto& r : cov.rules)
        if (r.alerts && std::find(r.placeholders.begin(), r.placeholders.end(), ph.name) !=
                            r.placeholders.end())
          ids.push_back("`" + r.id + "`");
      o << "| `" << ph.name << "` | " << joined(defaults, ", ", "(empty: the rules stay silent)")
        << " | " << cell(ph.description) << " | " << joined(ids, " ") << " |\n";
    }
  if (!cov.unknown_tags.empty()) {
    o << "\n## Tags naming no row or prerequisite\n\n";
    for (const auto& t : cov.unknown_tags) o << "- " << t << "\n";
  }
  return o.str();
}

}  // namespace t0w
