#include "agent/config/agent_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace t0w {
namespace {

std::filesystem::path uniqueDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  return tmpl;
}

Result<AgentConfig> parse(const std::string& yaml) {
  return parseConfig(yaml, "agent.yaml", "/etc/t0w");
}

TEST(AgentConfigTest, MinimalFileGetsDefaultsAndResolvesPaths) {
  auto c = parse("collector:\n  url: https://collector.example:8443\n");
  ASSERT_TRUE(c) << c.error().toString();
  EXPECT_EQ(c->url, "https://collector.example:8443");
  EXPECT_EQ(c->state_dir, std::filesystem::path("/etc/t0w/state"));
  EXPECT_EQ(c->batch_max_events, 5000);
  EXPECT_EQ(c->queue_overflow, "drop_oldest");
  EXPECT_FALSE(c->metrics_listen);
  EXPECT_TRUE(c->sources.empty());
  // The built-in detection pack is on by default; no pack directory needed.
  EXPECT_EQ(c->enabledRulePacks(), (std::vector<std::string>{"tier0"}));
  EXPECT_TRUE(c->isDefaultRulePack("tier0"));
  EXPECT_TRUE(c->rule_pack_dir.empty());
}

TEST(AgentConfigTest, BuiltInPackOffAndPlaceholders) {
  auto c = parse(
      "collector: {url: https://c}\n"
      "rules:\n  packs: {tier0: false}\n"
      "  placeholders:\n    tier0_sync_accounts: [MSOL_1a2b3c4d5e6f]\n    tier0_ca_groups: []\n");
  ASSERT_TRUE(c) << c.error().toString();
  EXPECT_TRUE(c->enabledRulePacks().empty());
  EXPECT_FALSE(c->isDefaultRulePack("tier0"));
  EXPECT_EQ(c->rule_placeholders.at("tier0_sync_accounts"),
            (std::vector<std::string>{"MSOL_1a2b3c4d5e6f"}));
  EXPECT_TRUE(c->rule_placeholders.at("tier0_ca_groups").empty());
  EXPECT_FALSE(parse("collector: {url: https://c}\nrules: {placeholders: {x: 1}}\n"));
}

// Sigma's informational level is for enrichment: no alerts below low unless configured.
TEST(AgentConfigTest, MinimumAlertLevel) {
  auto c = parse("collector: {url: https://c}\n");
  ASSERT_TRUE(c) << c.error().toString();
  EXPECT_EQ(c->rule_min_alert_level, "low");
  c = parse("collector: {url: https://c}\nrules: {min_alert_level: informational}\n");
  ASSERT_TRUE(c) << c.error().toString();
  EXPECT_EQ(c->rule_min_alert_level, "informational");
  auto bad = parse("collector: {url: https://c}\nrules: {min_alert_level: loud}\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("min_alert_level"), std::string::npos) << bad.error().message;
}

// An agent: section that does not name state_dir keeps the default, resolved like the others.
TEST(AgentConfigTest, AgentSectionWithoutStateDirResolvesDefault) {
  auto c = parse("collector:\n  url: https://c\nagent:\n  log_level: debug\n");
  ASSERT_TRUE(c) << c.error().toString();
  EXPECT_EQ(c->state_dir, std::filesystem::path("/etc/t0w/state"));
}

TEST(AgentConfigTest, FullFile) {
  auto c = parse(R"(
agent: {id: dc01, state_dir: /var/lib/t0w, log_level: debug, shutdown_deadline_ms: 5000}
collector:
  url: https://c:1
  token_file: token.txt
  ca_bundle: ca.pem
  client_cert: c.pem
  client_key: k.pem
  proxy: http://proxy:3128
batch: {max_events: 10, max_bytes: 2048, max_delay_ms: 0}
retry: {budget: 3, backoff_base_ms: 10, backoff_cap_ms: 100}
queue: {max_bytes: 100000, overflow: pause_sources, synchronous: full, chunk_records: 7}
sources:
  - evtx_replay: {path: logs}
  - xml: {path: /data/events.xml}
rules: {paths: [r1.yml], pack_dir: packs, packs: {dc: true, noisy: false}}
metrics: {listen: "127.0.0.1:0", log_interval_ms: 0}
)");
  ASSERT_TRUE(c) << c.error().toString();
  EXPECT_EQ(c->agent_id, "dc01");
  EXPECT_EQ(c->token_file, std::filesystem::path("/etc/t0w/token.txt"));
  EXPECT_EQ(c->retry_budget, 3);
  EXPECT_EQ(c->queue_overflow, "pause_sources");
  EXPECT_EQ(c->queue_chunk_records, 7);
  ASSERT_EQ(c->sources.size(), 2u);
  EXPECT_EQ(c->sources[0].type, SourceType::kEvtxReplay);
  EXPECT_EQ(c->sources[0].path, std::filesystem::path("/etc/t0w/logs"));
  EXPECT_EQ(c->sources[1].type, SourceType::kXml);
  ASSERT_EQ(c->rule_paths.size(), 1u);
  EXPECT_EQ(c->rule_pack_dir, std::filesystem::path("/etc/t0w/packs"));
  // The built-in pack stays on beside the configured ones.
  EXPECT_EQ(c->enabledRulePacks(), (std::vector<std::string>{"tier0", "dc"}));
  ASSERT_TRUE(c->metrics_listen);
  EXPECT_EQ(c->metrics_listen->port, 0);
}

TEST(AgentConfigTest, UnknownKeyNamesKeyAndLine) {
  auto c = parse("collector:\n  url: https://c\n  tokn: x\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("agent.yaml:3"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("collector.tokn"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("unknown key"), std::string::npos) << c.error().message;
}

TEST(AgentConfigTest, UnknownTopLevelAndSourceKeys) {
  auto c =
      parse("collector: {url: https://c}\nsources:\n  - xml: {path: a, follow: true}\nfoo: 1\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("sources[0].xml.follow"), std::string::npos)
      << c.error().message;
  EXPECT_NE(c.error().message.find("agent.yaml:4"), std::string::npos) << c.error().message;
}

TEST(AgentConfigTest, TypeRangeEnumAndRequiredErrors) {
  EXPECT_FALSE(parse("agent: {state_dir: x}\n"));  // collector missing
  auto c = parse("collector: {url: https://c}\nbatch: {max_events: many}\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("batch.max_events: expected integer"), std::string::npos)
      << c.error().message;
  c = parse("collector: {url: https://c}\nbatch: {max_events: 0}\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("below the minimum"), std::string::npos);
  c = parse("collector: {url: https://c}\nqueue: {overflow: block}\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("queue.overflow"), std::string::npos);
  c = parse(
      "collector: {url: https://c}\nsources:\n  - {xml: {path: a}, evtx_replay: {path: b}}\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("at most 1"), std::string::npos) << c.error().message;
  c = parse("collector: {url: https://c}\ncollector: {url: https://d}\n");
  EXPECT_FALSE(c);
}

TEST(AgentConfigTest, SemanticErrors) {
  EXPECT_FALSE(parse("collector: {url: https://c, token: a, token_file: b}\n"));
  EXPECT_FALSE(parse("collector: {url: https://c, client_cert: a}\n"));
  EXPECT_FALSE(
      parse("collector: {url: https://c}\nretry: {backoff_base_ms: 10, backoff_cap_ms: 5}\n"));
  EXPECT_FALSE(parse("collector: {url: https://c}\nagent: {id: \"a|b\"}\n"));
  // Agent ids: letters, digits, '.', '_' and '-' only, 1-128 (issue 10).
  for (const char* id : {"\"a:b\"", "\"a b\"", "\"a\\tb\"", "\"caf\u00e9\"", "\"\""}) {
    auto bad = parse(std::string("collector: {url: https://c}\nagent: {id: ") + id + "}\n");
    EXPECT_FALSE(bad) << id;
  }
  EXPECT_FALSE(parse("collector: {url: https://c}\nagent: {id: " + std::string(129, 'a') + "}\n"));
  EXPECT_TRUE(parse("collector: {url: https://c}\nagent: {id: DC01.corp_x-1}\n"));
}

TEST(AgentConfigTest, TracefileSourcesTakeAGlob) {
  auto c = parse(
      "collector: {url: https://c}\nsources: [{tracefile: {path: \"logs/trace-*.log\"}},"
      " {tracefile: {path: \"%ProgramData%\\\\AADConnect\\\\trace-*.log\"}}]\n");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->sources.size(), 2u);
  EXPECT_EQ(c->sources[0].type, SourceType::kTracefile);
  // Relative to the configuration's directory; one starting with %VAR% is kept as written.
  EXPECT_EQ(c->sources[0].path, std::filesystem::path("/etc/t0w/logs/trace-*.log"));
  EXPECT_EQ(c->sources[1].path.string(), "%ProgramData%\\AADConnect\\trace-*.log");
  // A folder instead of files: refused, naming the source and the line.
  auto bad = parse("collector: {url: https://c}\nsources:\n  - tracefile: {path: /var/log/}\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("sources[0] tracefile \"/var/log/\": names a folder"),
            std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find(":3"), std::string::npos) << bad.error().message;
}

TEST(AgentConfigTest, BadYamlIsAnErrorWithLine) {
  auto c = parse("collector:\n  url: [unclosed\n");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kParse);
  EXPECT_FALSE(parse(""));
  EXPECT_FALSE(parse("- a\n- b\n"));
}

TEST(AgentConfigTest, MetricsListenIsLoopbackOnly) {
  EXPECT_TRUE(parseMetricsListen("127.0.0.1:9464"));
  EXPECT_TRUE(parseMetricsListen("[::1]:0"));
  EXPECT_TRUE(parseMetricsListen("localhost:1"));
  EXPECT_FALSE(parseMetricsListen("0.0.0.0:9464"));
  EXPECT_FALSE(parseMetricsListen("10.0.0.1:9464"));
  EXPECT_FALSE(parseMetricsListen("[::]:9464"));
  EXPECT_FALSE(parseMetricsListen("127.0.0.1:70000"));
  EXPECT_FALSE(parseMetricsListen("127.0.0.1"));
  auto c = parse("collector: {url: https://c}\nmetrics: {listen: \"0.0.0.0:9464\"}\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("agent.yaml:2"), std::string::npos) << c.error().message;
}

TEST(AgentConfigTest, TokenIsNeverInDescribe) {
  auto c = parse("collector: {url: https://c, token: s3cr3t-token, proxy: \"http://u:pw@p:1\"}\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->describe().find("s3cr3t"), std::string::npos);
  EXPECT_EQ(c->describe().find("pw@"), std::string::npos);
}

// The C++ defaults and the schema's "default" values must say the same thing.
TEST(AgentConfigTest, SchemaDefaultsMatchStructDefaults) {
  const auto schema = nlohmann::json::parse(configSchemaText());
  const AgentConfig d;
  const auto def = [&](const char* section, const char* key) {
    return schema["properties"][section]["properties"][key].at("default");
  };
  EXPECT_EQ(def("agent", "state_dir"), d.state_dir.string());
  EXPECT_EQ(def("agent", "log_level"), d.log_level);
  EXPECT_EQ(def("agent", "shutdown_deadline_ms"), d.shutdown_deadline_ms);
  EXPECT_EQ(def("agent", "status_interval_ms"), d.status_interval_ms);
  EXPECT_EQ(def("agent", "max_cpu_percent").get<double>(), d.max_cpu_percent);
  EXPECT_EQ(def("agent", "max_memory_mb"), d.max_memory_mb);
  EXPECT_EQ(def("collector", "allow_insecure"), d.allow_insecure);
  EXPECT_EQ(def("collector", "request_timeout_ms"), d.request_timeout_ms);
  EXPECT_EQ(def("batch", "max_events"), d.batch_max_events);
  EXPECT_EQ(def("batch", "max_bytes"), d.batch_max_bytes);
  EXPECT_EQ(def("batch", "max_delay_ms"), d.batch_max_delay_ms);
  EXPECT_EQ(def("retry", "budget"), d.retry_budget);
  EXPECT_EQ(def("retry", "backoff_base_ms"), d.backoff_base_ms);
  EXPECT_EQ(def("retry", "backoff_cap_ms"), d.backoff_cap_ms);
  EXPECT_EQ(def("retry", "auth_pause_ms"), d.auth_pause_ms);
  EXPECT_EQ(def("queue", "max_bytes"), d.queue_max_bytes);
  EXPECT_EQ(def("queue", "overflow"), d.queue_overflow);
  EXPECT_EQ(def("queue", "synchronous"), d.queue_synchronous);
  EXPECT_EQ(def("queue", "chunk_records"), d.queue_chunk_records);
  EXPECT_EQ(def("metrics", "log_interval_ms"), d.metrics_log_interval_ms);
  // Every channel the mission names is on by default.
  EXPECT_EQ(def("windows", "security"), d.security_channel);
  EXPECT_EQ(def("windows", "pta_agent_admin"), d.pta_agent_admin);
  EXPECT_EQ(def("windows", "private_network_connector_admin"), d.private_network_connector_admin);
  EXPECT_EQ(def("windows", "password_protection_admin"), d.password_protection_admin);
  EXPECT_EQ(def("windows", "password_protection_operational"), d.password_protection_operational);
  EXPECT_EQ(def("windows", "entra_connect_application"), d.entra_connect_application);
  EXPECT_EQ(def("windows", "powershell_script_block"), d.powershell_script_block);
  EXPECT_EQ(def("windows", "system_service_and_clear"), d.system_service_and_clear);
  EXPECT_TRUE(d.pta_agent_admin && d.private_network_connector_admin &&
              d.password_protection_admin && d.password_protection_operational &&
              d.entra_connect_application && d.powershell_script_block &&
              d.system_service_and_clear);
  EXPECT_EQ(*parseBackfill(def("windows", "backfill").get<std::string>()), d.backfill);
  EXPECT_EQ(def("windows", "backfill_cpu_percent"), d.backfill_cpu_percent);
}

TEST(AgentConfigTest, BackfillSettingsParseAndBadOnesNameTheKey) {
  auto c = parseConfig(
      "collector: {url: https://c/}\nwindows: {backfill: 7d, backfill_cpu_percent: 25}\n"
      "sources:\n  - eventlog: {channel: System, backfill: none}\n",
      "t.yaml", "/b");
  ASSERT_TRUE(c) << c.error().toString();
  EXPECT_EQ(c->backfill.seconds, 7 * 86400);
  EXPECT_EQ(c->backfill_cpu_percent, 25);
  ASSERT_TRUE(c->sources[0].backfill.has_value());
  EXPECT_EQ(c->sources[0].backfill->kind, BackfillSetting::Kind::kNone);
  auto bad =
      parseConfig("collector: {url: https://c/}\nwindows: {backfill: 24x}\n", "t.yaml", "/b");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("backfill"), std::string::npos) << bad.error().message;
}

TEST(AgentConfigTest, AgentIdIsGeneratedOnceAndKept) {
  const std::filesystem::path dir = uniqueDir("t0w-config-test-");
  std::filesystem::remove_all(dir);
  AgentConfig c;
  c.state_dir = dir / "state";
  auto first = resolveAgentId(c);
  ASSERT_TRUE(first) << first.error().toString();
  auto second = resolveAgentId(c);
  ASSERT_TRUE(second);
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(first->find('|'), std::string::npos);
  // A stored id that breaks the rule is an error, not used.
  { std::ofstream(c.state_dir / "agent-id") << "dc01|x\n"; }
  EXPECT_FALSE(resolveAgentId(c));
  { std::ofstream(c.state_dir / "agent-id") << *first << "\n"; }
  c.agent_id = "configured";
  EXPECT_EQ(*resolveAgentId(c), "configured");
  // Token file: first line, trailing whitespace removed; an empty file is an error.
  c.token_file = dir / "token";
  { std::ofstream(c.token_file) << "abc \n"; }
  EXPECT_EQ(*resolveToken(c), "abc");
  { std::ofstream(c.token_file) << "\n"; }
  EXPECT_FALSE(resolveToken(c));
  std::filesystem::remove_all(dir);
}

TEST(AgentConfigTest, LoadsFileRelativeToItsDirectory) {
  const std::filesystem::path dir = uniqueDir("t0w-config-load-");
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "a.yaml") << "collector: {url: https://c}\nagent: {state_dir: st}\n"; }
  auto c = loadConfigFile(dir / "a.yaml");
  ASSERT_TRUE(c) << c.error().toString();
  EXPECT_EQ(c->state_dir, (dir / "st").lexically_normal());
  EXPECT_FALSE(loadConfigFile(dir / "missing.yaml"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace t0w
