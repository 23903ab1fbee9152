#include "agent/config/config_source.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>

namespace t0w {
namespace {

using Json = nlohmann::ordered_json;

void walk(const YAML::Node& node, const std::string& prefix, const std::string& name,
          ConfigProvenance& out) {
  for (const auto& kv : node) {
    const std::string key = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
    const int line = kv.first.Mark().line >= 0 ? kv.first.Mark().line + 1 : 0;
    out[key] = SettingOrigin{SettingOrigin::Kind::kFile, name, line, {}};
    if (kv.second.IsMap()) walk(kv.second, key, name, out);
  }
}

Json pathJson(const std::filesystem::path& p) {
  return p.empty() ? Json(nullptr) : Json(p.generic_string());
}

Json channelsJson(const std::vector<ChannelSubscription>& channels) {
  Json a = Json::array();
  for (const auto& c : channels) a.push_back(Json{{"channel", c.channel}, {"query", c.query}});
  return a;
}

Json secret(const std::string& value) { return value.empty() ? "<not set>" : "<set>"; }

// Keys applied without a restart (see isLiveSetting); prefixes end with '.'.
constexpr std::array<std::string_view, 11> kLive = {"agent.log_level",
                                                    "collector.url",
                                                    "collector.token",
                                                    "collector.token_file",
                                                    "collector.proxy",
                                                    "collector.client_certificate",
                                                    "windows.",
                                                    "rules.",
                                                    "queue.max_bytes",
                                                    "queue.overflow",
                                                    "metrics.log_interval_ms"};

}  // namespace

std::string SettingOrigin::toString() const {
  switch (kind) {
    case Kind::kDefault:
      return "default";
    case Kind::kFile:
      return "file:" + file + (line > 0 ? ":" + std::to_string(line) : std::string());
    case Kind::kPolicy:
      return "policy:" + value_name;
  }
  return "unknown";
}

ConfigProvenance fileProvenance(std::string_view yaml, const std::string& name) {
  ConfigProvenance out;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (root.IsMap()) walk(root, "", name, out);
  } catch (const std::exception&) {
    out.clear();  // parseConfig reports the error with its position
  }
  return out;
}

SettingOrigin originOf(const ConfigProvenance& provenance, const std::string& key) {
  if (auto it = provenance.find(key); it != provenance.end()) return it->second;
  // A setting inside a section given as a whole ("rules.packs.core" from "rules.packs").
  for (std::string k = key; k.find('.') != std::string::npos;) {
    k.erase(k.rfind('.'));
    if (auto it = provenance.find(k); it != provenance.end()) {
      if (it->second.kind != SettingOrigin::Kind::kFile) return it->second;
      // A file section only vouches for the keys it contains (handled above).
      break;
    }
  }
  return {};
}

std::vector<EffectiveSetting> effectiveSettings(const AgentConfig& c) {
  std::vector<EffectiveSetting> s;
  const auto add = [&s](std::string key, Json value, bool is_secret = false) {
    s.push_back({std::move(key), std::move(value), is_secret});
  };
  add("agent.id", c.agent_id.empty() ? Json(nullptr) : Json(c.agent_id));
  add("agent.state_dir", pathJson(c.state_dir));
  add("agent.log_level", c.log_level);
  add("agent.shutdown_deadline_ms", c.shutdown_deadline_ms);
  add("agent.status_interval_ms", c.status_interval_ms);
  add("agent.max_cpu_percent", c.max_cpu_percent);
  add("agent.max_memory_mb", c.max_memory_mb);
  add("collector.url", c.url);
  add("collector.token", secret(c.token), true);
  add("collector.token_file", pathJson(c.token_file));
  add("collector.ca_bundle", pathJson(c.ca_bundle));
  add("collector.client_cert", pathJson(c.client_cert));
  add("collector.client_key", pathJson(c.client_key));
  add("collector.client_certificate",
      c.client_certificate.empty() ? Json(nullptr) : Json(c.client_certificate));
  add("collector.allow_insecure", c.allow_insecure);
  add("collector.proxy", secret(c.proxy), true);
  add("collector.request_timeout_ms", c.request_timeout_ms);
  add("batch.max_events", c.batch_max_events);
  add("batch.max_bytes", c.batch_max_bytes);
  add("batch.max_delay_ms", c.batch_max_delay_ms);
  add("retry.budget", c.retry_budget);
  add("retry.backoff_base_ms", c.backoff_base_ms);
  add("retry.backoff_cap_ms", c.backoff_cap_ms);
  add("retry.auth_pause_ms", c.auth_pause_ms);
  add("queue.max_bytes", c.queue_max_bytes);
  add("queue.overflow", c.queue_overflow);
  add("queue.synchronous", c.queue_synchronous);
  add("queue.chunk_records", c.queue_chunk_records);
  Json sources = Json::array();
  for (const auto& src : c.sources) {
    sources.push_back(Json{{sourceTypeName(src.type), Json{{"path", src.path.generic_string()}}}});
  }
  add("sources", sources);
  add("windows.security", c.security_channel);
  add("windows.pta_agent_admin", c.pta_agent_admin);
  add("windows.private_network_connector_admin", c.private_network_connector_admin);
  add("windows.password_protection_admin", c.password_protection_admin);
  add("windows.password_protection_operational", c.password_protection_operational);
  add("windows.entra_connect_trace", c.entra_connect_trace);
  add("windows.entra_connect_application", c.entra_connect_application);
  add("windows.powershell_script_block", c.powershell_script_block);
  add("windows.system_service_and_clear", c.system_service_and_clear);
  add("windows.backfill", backfillName(c.backfill));
  add("windows.backfill_cpu_percent", c.backfill_cpu_percent);
  add("windows.extra_channels", channelsJson(c.extra_channels));
  Json paths = Json::array();
  for (const auto& p : c.rule_paths) paths.push_back(p.generic_string());
  add("rules.paths", paths);
  add("rules.pack_dir", pathJson(c.rule_pack_dir));
  for (const auto& name : kDefaultRulePacks) {
    if (c.isDefaultRulePack(name)) add("rules.packs." + name, true);
  }
  for (const auto& [pack, on] : c.rule_packs) add("rules.packs." + pack, on);
  add("rules.min_alert_level", c.rule_min_alert_level);
  for (const auto& [name, values] : c.rule_placeholders) {
    Json list = Json::array();
    for (const auto& v : values) list.push_back(v);
    add("rules.placeholders." + name, list);
  }
  add("metrics.listen",
      c.metrics_listen ? Json(c.metrics_listen->host + ":" + std::to_string(c.metrics_listen->port))
                       : Json(nullptr));
  add("metrics.log_interval_ms", c.metrics_log_interval_ms);
  return s;
}

std::string configOrigin(const ConfigProvenance& provenance, bool has_file) {
  const bool policy = std::any_of(provenance.begin(), provenance.end(), [](const auto& kv) {
    return kv.second.kind == SettingOrigin::Kind::kPolicy;
  });
  if (has_file) return policy ? "file+group_policy" : "file";
  return policy ? "group_policy" : "defaults";
}

bool isLiveSetting(std::string_view key) {
  return std::any_of(kLive.begin(), kLive.end(), [key](std::string_view live) {
    return live.ends_with('.') ? key.starts_with(live) : key == live;
  });
}

ConfigDiff diffConfig(const AgentConfig& before, const AgentConfig& after) {
  // Compared through the unredacted values: a new token with the same "<set>" still counts.
  const auto raw = [](const AgentConfig& c) {
    std::map<std::string, Json> m;
    for (auto& s : effectiveSettings(c)) m[s.key] = std::move(s.value);
    m["collector.token"] = c.token;
    m["collector.proxy"] = c.proxy;
    return m;
  };
  const auto a = raw(before);
  const auto b = raw(after);
  ConfigDiff d;
  std::vector<std::string> keys;
  for (const auto& [k, v] : a) keys.push_back(k);
  for (const auto& [k, v] : b) {
    if (!a.count(k)) keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  for (const auto& k : keys) {
    const auto ia = a.find(k);
    const auto ib = b.find(k);
    const bool same = ia != a.end() && ib != b.end() && ia->second == ib->second;
    if (same) continue;
    (isLiveSetting(k) ? d.live : d.restart).push_back(k);
  }
  return d;
}

AgentConfig mergeLive(const AgentConfig& before, const AgentConfig& after) {
  AgentConfig m = before;
  m.log_level = after.log_level;
  m.url = after.url;
  m.token = after.token;
  m.token_file = after.token_file;
  m.proxy = after.proxy;
  m.client_certificate = after.client_certificate;
  m.security_channel = after.security_channel;
  m.pta_agent_admin = after.pta_agent_admin;
  m.private_network_connector_admin = after.private_network_connector_admin;
  m.password_protection_admin = after.password_protection_admin;
  m.password_protection_operational = after.password_protection_operational;
  m.entra_connect_trace = after.entra_connect_trace;
  m.entra_connect_application = after.entra_connect_application;
  m.powershell_script_block = after.powershell_script_block;
  m.system_service_and_clear = after.system_service_and_clear;
  m.backfill = after.backfill;
  m.backfill_cpu_percent = after.backfill_cpu_percent;
  m.extra_channels = after.extra_channels;
  m.rule_paths = after.rule_paths;
  m.rule_pack_dir = after.rule_pack_dir;
  m.rule_packs = after.rule_packs;
  m.rule_placeholders = after.rule_placeholders;
  m.rule_min_alert_level = after.rule_min_alert_level;
  m.queue_max_bytes = after.queue_max_bytes;
  m.queue_overflow = after.queue_overflow;
  m.metrics_log_interval_ms = after.metrics_log_interval_ms;
  return m;
}

}  // namespace t0w
