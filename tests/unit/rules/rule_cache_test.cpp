#include "agent/rules/rule_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "agent/rules/rule_sources.h"
#include "collectors/evtx/evtx_file_collector.h"
#include "tests/fakes/fake_event_sink.h"
#include "tests/support/corpus.h"
#include "tests/unit/rules/rule_test_support.h"

namespace t0w::testing {
namespace {

namespace fs = std::filesystem;

class Dir {
 public:
  Dir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("t0w-rule-cache-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string rule(const std::string& id, const std::string& detection) {
  return "title: Rule " + id + "\nid: " + id +
         "\nlevel: high\ntags: [attack.t1]\nlogsource: {product: windows, category: "
         "process_creation}\ndetection:\n" +
         detection;
}

// One file per kind of matcher and outcome the cache must give back.
void writeRules(const fs::path& dir) {
  write(dir / "a_strings.yml",
        rule("a",
             "  sel:\n    CommandLine|contains: [whoami, 'net user', nltest, 'x*y?z']\n"
             "    Image|endswith: '\\cmd.exe'\n  condition: sel\n"));
  write(dir / "b_regex.yml",
        rule("b", "  sel:\n    CommandLine|re|i: '^evil\\s+[0-9]+$'\n  condition: sel\n"));
  write(dir / "c_numbers.yml",
        rule("c",
             "  sel:\n    DestinationIp|cidr: 10.0.0.0/8\n    Port|gt: 1000\n"
             "    Flags|bitand: 0x10\n  condition: sel\n"));
  write(dir / "d_keywords.yml",
        "title: kw\nid: d\nlogsource: {product: windows}\ndetection:\n  kw:\n"
        "    - 'sekurlsa::'\n    - 'lsadump::'\n    - 'kerberos::golden'\n  filter:\n"
        "    EventID: 15\n  condition: kw and not filter\n");
  write(dir / "e_fieldref.yml",
        rule("e",
             "  sel:\n    ParentImage|fieldref: Image\n    User|exists: true\n"
             "    CommandLine|windash|contains: ' -enc '\n  condition: sel\n"));
  write(dir / "f_rejected.yml",
        rule("f", "  sel:\n    CommandLine|re: '(?<=x)y'\n  condition: sel\n"));
  write(dir / "g_out_of_scope.yml",
        "title: t\nid: g\nlogsource: {product: cisco, service: aaa}\n"
        "detection: {s: {a: 1}, condition: s}\n");
  write(dir / "h_broken.yml", "title: [unclosed\n");
}

std::vector<Event> events() {
  return {sysmon1({{"CommandLine", "NLTEST /dclist"}, {"Image", "C:\\Windows\\cmd.exe"}}),
          sysmon1({{"CommandLine", "EVIL   42"}}),
          sysmon1({{"DestinationIp", "10.1.2.3"}, {"Port", "4444"}, {"Flags", "0x30"}}),
          makeEvent("Security", 4688, {{"A", "mimikatz sekurlsa::logonpasswords"}}),
          makeEvent("Sysmon", 15, {{"A", "sekurlsa::x"}}),
          sysmon1({{"ParentImage", "a.exe"},
                   {"Image", "A.exe"},
                   {"User", "bob"},
                   {"CommandLine", "ps /enc abc"}}),
          sysmon1({{"CommandLine", "x-1-y9z"}})};
}

LoadedRuleSet loadWithCache(const fs::path& rules, const fs::path& cache,
                            const std::string& stamp = "build 1") {
  RuleSources s;
  s.paths = {rules};
  s.cache_file = cache;
  s.cache_stamp = stamp;
  return loadRuleSources(s);
}

// Everything a load produces that the rest of the agent reads.
std::string describe(LoadedRuleSet& l) {
  std::string out =
      std::to_string(l.report.files) + " files, " + std::to_string(l.report.loaded) + " loaded\n";
  for (const auto& i : l.report.rejected) out += "rejected " + i.toString() + "\n";
  for (const auto& i : l.report.skipped) out += "skipped " + i.toString() + "\n";
  for (size_t r = 0; r < l.rules->size(); ++r) {
    const RuleInfo& i = l.rules->rule(r).info;
    out += i.id + "|" + i.title + "|" + i.level + "|" + i.file + "|" + i.logsource.category + "|" +
           std::to_string(l.rules->rule(r).variants.size()) + "\n";
  }
  for (const auto& e : events()) {
    CollectingSink sink;
    l.rules->evaluate(std::make_shared<const Event>(e), sink);
    for (const auto& a : sink.alerts) {
      out += "alert " + a.rule_id;
      for (const auto& m : a.matched) out += " " + m.name + "=" + m.value;
      out += "\n";
    }
  }
  return out;
}

// What loading the rules under `rules` gives without a cache.
std::string describeParsed(const fs::path& rules) {
  RuleSources plain;
  plain.paths = {rules};
  LoadedRuleSet loaded = loadRuleSources(plain);
  return describe(loaded);
}

TEST(RuleCache, WarmLoadGivesWhatParsingGives) {
  Dir d;
  writeRules(d.path());
  const std::string want = describeParsed(d.path());
  ASSERT_NE(want.find("alert a"), std::string::npos) << want;
  ASSERT_NE(want.find("alert d"), std::string::npos) << want;

  const fs::path cache = d.path() / "state" / "rule-cache.bin";
  LoadedRuleSet cold = loadWithCache(d.path(), cache);
  EXPECT_EQ(cold.cache_hits, 0u);
  EXPECT_EQ(cold.cache_problem, "");
  EXPECT_EQ(describe(cold), want);
  ASSERT_TRUE(fs::exists(cache));
  LoadedRuleSet warm = loadWithCache(d.path(), cache);
  EXPECT_EQ(warm.cache_hits, 8u);  // every file, the broken and out-of-scope ones too
  EXPECT_EQ(warm.cache_problem, "");
  EXPECT_EQ(describe(warm), want);
}

TEST(RuleCache, ChangedFileIsParsedAgain) {
  Dir d;
  writeRules(d.path());
  const fs::path cache = d.path() / "rule-cache.bin";
  (void)loadWithCache(d.path(), cache);
  // Same size, one byte changed: the content decides, not the size or the time.
  const std::string before = read(d.path() / "a_strings.yml");
  std::string after = before;
  after.replace(after.find("nltest"), 6, "nltesT");
  after.replace(after.find("whoami"), 6, "ipconf");
  write(d.path() / "a_strings.yml", after);
  LoadedRuleSet l = loadWithCache(d.path(), cache);
  EXPECT_EQ(l.cache_hits, 7u);
  CollectingSink sink;
  l.rules->evaluate(std::make_shared<const Event>(sysmon1(
                        {{"CommandLine", "ipconf /all"}, {"Image", "C:\\Windows\\cmd.exe"}})),
                    sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].rule_id, "a");
  // A file removed from the rule folder leaves the cache with it.
  fs::remove(d.path() / "b_regex.yml");
  LoadedRuleSet l2 = loadWithCache(d.path(), cache);
  EXPECT_EQ(l2.cache_hits, 7u);
  EXPECT_EQ(read(cache).find("b_regex.yml"), std::string::npos);
}

TEST(RuleCache, OtherBuildOrOptionsAreNotUsed) {
  Dir d;
  writeRules(d.path());
  const fs::path cache = d.path() / "rule-cache.bin";
  (void)loadWithCache(d.path(), cache, "build 1");
  LoadedRuleSet other = loadWithCache(d.path(), cache, "build 2");
  EXPECT_EQ(other.cache_hits, 0u);
  EXPECT_EQ(other.cache_problem, "");  // not damage: rebuilt without a word
  EXPECT_EQ(loadWithCache(d.path(), cache, "build 2").cache_hits, 8u);
  RuleSources s;
  s.paths = {d.path()};
  s.cache_file = cache;
  s.cache_stamp = "build 2";
  s.placeholders["Admins"] = {"root"};
  EXPECT_EQ(loadRuleSources(s).cache_hits, 0u);
  s.cache_stamp = "";  // no build stamp: no cache at all
  EXPECT_EQ(loadRuleSources(s).cache_hits, 0u);
}

TEST(RuleCache, DamagedCacheIsReportedIgnoredAndRewritten) {
  Dir d;
  writeRules(d.path());
  const std::string want = describeParsed(d.path());
  const fs::path cache = d.path() / "rule-cache.bin";
  (void)loadWithCache(d.path(), cache);
  const std::string good = read(cache);
  ASSERT_GT(good.size(), 200u);
  std::string flipped = good;
  flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 0x01);
  for (const std::string& bad : {std::string("garbage"), std::string(),
                                 good.substr(0, good.size() - 5), flipped, good + "x"}) {
    write(cache, bad);
    LoadedRuleSet l = loadWithCache(d.path(), cache);
    EXPECT_EQ(l.cache_hits, 0u);
    EXPECT_NE(l.cache_problem.find("damaged"), std::string::npos) << l.cache_problem;
    EXPECT_EQ(describe(l), want);
    LoadedRuleSet again = loadWithCache(d.path(), cache);  // rewritten good
    EXPECT_EQ(again.cache_hits, 8u);
    EXPECT_EQ(again.cache_problem, "");
  }
}

TEST(RuleCache, UnwritableCacheIsReportedAndRulesStillLoad) {
  Dir d;
  writeRules(d.path());
  const fs::path cache = d.path() / "a_strings.yml" / "rule-cache.bin";  // under a file
  LoadedRuleSet l = loadWithCache(d.path(), cache);
  EXPECT_NE(l.cache_problem.find("cannot"), std::string::npos);
  EXPECT_EQ(l.report.loaded, 5u);
}

TEST(RuleCache, CorrelationFilesAreParsedEveryTime) {
  Dir d;
  write(d.path() / "base.yml",
        rule("base1", "  sel:\n    CommandLine|contains: whoami\n  condition: sel\n"));
  write(d.path() / "corr.yml",
        "title: c\nid: corr1\ncorrelation:\n  type: event_count\n  rules: [base1]\n"
        "  group-by: [Computer]\n  timespan: 5m\n  condition: {gte: 2}\n");
  const fs::path cache = d.path() / "rule-cache.bin";
  LoadedRuleSet cold = loadWithCache(d.path(), cache);
  EXPECT_EQ(cold.report.correlations, 1u) << cold.report.rejected.size();
  LoadedRuleSet warm = loadWithCache(d.path(), cache);
  EXPECT_EQ(warm.cache_hits, 1u);
  EXPECT_EQ(warm.report.correlations, 1u);
}

// Every SigmaHQ rule through the cache: the same rules match the same corpus events.
TEST(RuleCache, CorpusThroughTheCacheMatchesAsParsed) {
  T0W_CORPUS_OR_SKIP(corpus);
  Dir d;
  const fs::path cache = d.path() / "rule-cache.bin";
  RuleSources s;
  for (const char* sub : {"rules/windows", "rules-emerging-threats", "rules-threat-hunting"})
    s.paths.push_back(corpus / "sigma" / sub);
  LoadedRuleSet plain = loadRuleSources(s);
  s.cache_file = cache;
  s.cache_stamp = "corpus";
  (void)loadRuleSources(s);
  LoadedRuleSet warm = loadRuleSources(s);
  EXPECT_GT(warm.cache_hits, 3000u);
  ASSERT_EQ(warm.rules->size(), plain.rules->size());
  EXPECT_EQ(warm.report.rejected.size(), plain.report.rejected.size());
  EXPECT_EQ(warm.report.out_of_scope, plain.report.out_of_scope);
  testing::FakeEventSink events;
  for (const char* sub : {"evtx-attack-samples", "sigma/regression"}) {
    for (const auto& e : fs::recursive_directory_iterator(corpus / sub))
      if (e.path().extension() == ".evtx") EvtxFileCollector(e.path()).run(events);
  }
#ifdef _WIN32
  if (events.events.empty()) GTEST_SKIP() << "no events read from .evtx (EvtQuery under Wine)";
#endif
  size_t total = 0;
  for (const auto& e : events.events) {
    const auto a = warm.rules->matchingRules(e);
    EXPECT_EQ(a, plain.rules->matchingRules(e)) << e.origin.source << " @" << e.origin.position;
    total += a.size();
  }
  EXPECT_GT(total, 100u);
}

}  // namespace
}  // namespace t0w::testing
