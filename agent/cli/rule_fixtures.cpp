#include "agent/cli/rule_fixtures.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <ostream>
#include <set>
#include <system_error>

#include "agent/rules/rule_loader.h"
#include "collectors/eventlog/event_xml_parser.h"

namespace t0w::cli {
namespace {

namespace fs = std::filesystem;

// Position of the next "<Event" that opens an Event element (not <Events>), or npos.
size_t nextEventStart(const std::string& xml, size_t from) {
  for (size_t p = xml.find("<Event", from); p != std::string::npos; p = xml.find("<Event", p + 1)) {
    const size_t after = p + 6;
    if (after < xml.size() && (xml[after] == '>' || xml[after] == ' ' || xml[after] == '\n' ||
                               xml[after] == '\t' || xml[after] == '\r'))
      return p;
  }
  return std::string::npos;
}

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

// The XML of a case's `events`: a string, or a list of strings and {xml, repeat} items.
Result<std::string> eventsText(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  if (!node.IsSequence()) return makeError(Errc::kParse, "events: expected XML text or a list");
  std::string out;
  for (const auto& item : node) {
    if (item.IsScalar()) {
      out += item.Scalar();
      continue;
    }
    if (!item.IsMap() || !item["xml"])
      return makeError(Errc::kParse, "events: a list item is XML text or {xml, repeat}");
    const std::string xml = item["xml"].Scalar();
    const int repeat = item["repeat"] ? item["repeat"].as<int>() : 1;
    if (repeat < 1 || repeat > 10000)
      return makeError(Errc::kParse, "events: repeat must be 1..10000");
    for (int n = 1; n <= repeat; ++n) out += replaceAll(xml, "{n}", std::to_string(n)) + "\n";
  }
  return out;
}

std::map<std::string, size_t> countAlerts(const std::vector<Alert>& alerts) {
  std::map<std::string, size_t> out;
  for (const auto& a : alerts) ++out[a.rule_id];
  return out;
}

class CollectingSink final : public AlertSink {
 public:
  void onAlert(Alert&& a) override { alerts.push_back(std::move(a)); }
  std::vector<Alert> alerts;
};

// Ids that raise alerts of their own: standalone base rules and every correlation.
std::vector<std::string> alertingRuleIds(const RuleSet& rules) {
  std::vector<std::string> out;
  const CorrelationEngine* engine = rules.correlations();
  for (size_t i = 0; i < rules.size(); ++i) {
    const RuleInfo& info = rules.rule(i).info;
    if (engine && engine->suppressesStandalone(info.id, info.name)) continue;
    out.push_back(info.id);
  }
  if (engine)
    for (const auto& c : engine->rules())
      if (!engine->suppressesStandalone(c.id, c.name)) out.push_back(c.alertId());
  return out;
}

std::string formatCounts(const std::map<std::string, size_t>& m,
                         const std::map<std::string, std::string>& titles) {
  if (m.empty()) return "{}";
  std::string s = "{";
  for (const auto& [id, n] : m) {
    auto t = titles.find(id);
    s += (s.size() > 1 ? ", " : "") + id + ": " + std::to_string(n) +
         (t == titles.end() ? "" : " (" + t->second + ")");
  }
  return s + "}";
}

}  // namespace

Result<std::vector<Event>> parseFixtureEvents(const std::string& xml) {
  std::vector<Event> out;
  for (size_t p = nextEventStart(xml, 0); p != std::string::npos;) {
    const size_t end = xml.find("</Event>", p);
    if (end == std::string::npos)
      return makeError(Errc::kParse, "event " + std::to_string(out.size() + 1) + ": no </Event>");
    const size_t stop = end + 8;
    auto e = parseEventXml(std::string_view(xml).substr(p, stop - p));
    if (!e) {
      return makeError(Errc::kParse,
                       "event " + std::to_string(out.size() + 1) + ": " + e.error().message);
    }
    out.push_back(std::move(*e));
    p = nextEventStart(xml, stop);
  }
  return out;
}

namespace {

Result<FixtureSpec> parseSpec(const YAML::Node& root, const fs::path& file,
                              const std::string& name) {
  FixtureSpec spec;
  spec.file = file;
  try {
    if (!root.IsMap()) return makeError(Errc::kParse, name + ": expected a map");
    spec.rule = scalarOr(root["rule"]);
    if (spec.rule.empty()) return makeError(Errc::kParse, name + ": 'rule' (the id under test)");
    if (const YAML::Node ph = root["placeholders"]) {
      for (auto it = ph.begin(); it != ph.end(); ++it) {
        auto& values = spec.placeholders[it->first.Scalar()];
        for (const auto& v : it->second) values.push_back(v.Scalar());
      }
    }
    const YAML::Node cases = root["cases"];
    if (!cases || !cases.IsSequence() || cases.size() == 0)
      return makeError(Errc::kParse, name + ": 'cases' must be a non-empty list");
    for (const auto& c : cases) {
      FixtureCase fc;
      fc.name = scalarOr(c["name"]);
      const std::string where = name + ": case '" + fc.name + "'";
      if (fc.name.empty()) return makeError(Errc::kParse, name + ": a case without a name");
      const YAML::Node expect = c["expect"];
      if (!expect || !expect.IsMap())
        return makeError(Errc::kParse, where + ": 'expect' must be a map (rule id: count)");
      for (auto it = expect.begin(); it != expect.end(); ++it) {
        const int n = it->second.as<int>();
        if (n < 0) return makeError(Errc::kParse, where + ": negative count");
        if (n > 0) fc.expect[it->first.Scalar()] = static_cast<size_t>(n);
      }
      if (!c["events"]) return makeError(Errc::kParse, where + ": no 'events'");
      auto text = eventsText(c["events"]);
      if (!text) return makeError(Errc::kParse, where + ": " + text.error().message);
      auto events = parseFixtureEvents(*text);
      if (!events) return makeError(Errc::kParse, where + ": " + events.error().message);
      if (events->empty()) return makeError(Errc::kParse, where + ": no <Event> elements");
      fc.events = std::move(*events);
      spec.cases.push_back(std::move(fc));
    }
  } catch (const std::exception& e) {
    return makeError(Errc::kParse, name + ": " + e.what());
  }
  return spec;
}

}  // namespace

Result<std::vector<FixtureSpec>> loadFixtureSpecs(const fs::path& file) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAllFromFile(file.string());
  } catch (const std::exception& e) {
    return makeError(Errc::kParse, file.string() + ": " + e.what());
  }
  std::vector<FixtureSpec> out;
  for (size_t i = 0; i < docs.size(); ++i) {
    auto spec = parseSpec(
        docs[i], file,
        file.string() + (docs.size() > 1 ? " document " + std::to_string(i + 1) : std::string()));
    if (!spec) return spec.error();
    out.push_back(std::move(*spec));
  }
  if (out.empty()) return makeError(Errc::kParse, file.string() + ": no spec");
  return out;
}

std::vector<fs::path> findFixtureSpecs(const std::vector<fs::path>& paths) {
  std::vector<fs::path> out;
  auto isSpec = [](const fs::path& p) {
    const std::string n = p.filename().string();
    return n.size() > 10 && n.ends_with(".test.yaml");
  };
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (fs::recursive_directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec) && isSpec(it->path())) found.push_back(it->path());
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else {
      out.push_back(p);
    }
  }
  return out;
}

bool FixtureRun::ok() const {
  if (!errors.empty() || !untested.empty()) return false;
  return std::all_of(cases.begin(), cases.end(), [](const CaseResult& c) { return c.passed; });
}

FixtureRun runFixtures(const RuleSources& sources, const std::vector<fs::path>& spec_files) {
  FixtureRun run;
  // The rule set as configured: the ids a spec may name, and the alerting rules to cover.
  LoadedRuleSet reference = loadRuleSources(sources);
  for (const auto& r : reference.report.rejected)
    run.errors.push_back(makeError(Errc::kParse, "rule rejected: " + r.toString()));
  std::set<std::string> known;
  for (size_t i = 0; i < reference.rules->size(); ++i) {
    run.titles[reference.rules->rule(i).info.id] = reference.rules->rule(i).info.title;
    known.insert(reference.rules->rule(i).info.id);
    if (!reference.rules->rule(i).info.name.empty())
      known.insert(reference.rules->rule(i).info.name);
  }
  if (const auto* engine = reference.rules->correlations())
    for (const auto& c : engine->rules()) {
      known.insert(c.alertId());
      run.titles[c.alertId()] = c.title;
    }

  std::vector<FixtureSpec> specs;
  for (const auto& file : spec_files) {
    auto loaded = loadFixtureSpecs(file);
    if (!loaded) {
      run.errors.push_back(loaded.error());
      continue;
    }
    for (auto& s : *loaded) specs.push_back(std::move(s));
  }
  for (const FixtureSpec& one : specs) {
    const FixtureSpec* spec = &one;
    const fs::path& file = spec->file;
    bool names_ok = known.count(spec->rule) > 0;
    if (!names_ok)
      run.errors.push_back(
          makeError(Errc::kNotFound, file.string() + ": rule '" + spec->rule + "' is not loaded"));
    for (const auto& c : spec->cases)
      for (const auto& [id, n] : c.expect)
        if (!known.count(id)) {
          run.errors.push_back(makeError(
              Errc::kNotFound,
              file.string() + ": case '" + c.name + "' expects unknown rule '" + id + "'"));
          names_ok = false;
        }
    if (!names_ok) continue;
    RuleSources with = sources;
    for (const auto& [name, values] : spec->placeholders) with.placeholders[name] = values;
    for (const auto& c : spec->cases) {
      // A fresh set per case: correlation windows must not carry over between cases.
      LoadedRuleSet loaded = loadRuleSources(with);
      CollectingSink sink;
      for (const auto& e : c.events) loaded.rules->evaluate(std::make_shared<const Event>(e), sink);
      loaded.rules->flush(sink);
      CaseResult r;
      r.file = file;
      r.spec_rule = spec->rule;
      r.name = c.name;
      r.expected = c.expect;
      r.got = countAlerts(sink.alerts);
      r.positive = c.expect.count(spec->rule) > 0;
      r.passed = r.got == r.expected;
      RuleTestCounts& counts = run.by_rule[spec->rule];
      (r.positive ? (r.passed ? counts.positive_passed : counts.positive_failed)
                  : (r.passed ? counts.negative_passed : counts.negative_failed))++;
      run.cases.push_back(std::move(r));
    }
  }
  for (const auto& id : alertingRuleIds(*reference.rules)) {
    auto it = run.by_rule.find(id);
    if (it == run.by_rule.end() || it->second.positive_passed == 0 ||
        it->second.negative_passed == 0)
      run.untested.push_back(id);
  }
  return run;
}

void printFixtureRun(const FixtureRun& run, std::ostream& out) {
  size_t passed = 0;
  for (const auto& c : run.cases) {
    out << (c.passed ? "ok    " : "FAIL  ") << c.file.filename().string() << ": " << c.name
        << (c.positive ? " (positive)" : " (negative)") << '\n';
    if (!c.passed) {
      out << "      expected " << formatCounts(c.expected, run.titles) << '\n'
          << "      got      " << formatCounts(c.got, run.titles) << '\n';
    }
    passed += c.passed ? 1 : 0;
  }
  for (const auto& e : run.errors) out << "error: " << e.message << '\n';
  for (const auto& id : run.untested) {
    auto t = run.titles.find(id);
    out << "untested: " << id << (t == run.titles.end() ? "" : " (" + t->second + ")")
        << " has no passing positive and negative case\n";
  }
  out << "fixtures: " << run.cases.size() << " cases, " << passed << " passed, "
      << run.cases.size() - passed << " failed; " << run.errors.size() << " errors; "
      << run.untested.size() << " alerting rules without positive and negative cases\n";
}

}  // namespace t0w::cli
