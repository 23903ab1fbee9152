#include "agent/config/agent_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "agent/config/schema_validator.h"
#include "common/core/agent_id.h"

namespace t0w {
namespace {

#include "config_schema.inc"  // kConfigSchema: schemas/config.schema.json, embedded by CMake

std::filesystem::path resolvePath(const std::filesystem::path& base, const std::string& text) {
  std::filesystem::path p(text);
  if (p.is_relative() && !base.empty()) p = base / p;
  return p.lexically_normal();
}

// A tracefile glob: relative ones resolve against the configuration's directory, except those
// starting with an environment variable (%ProgramData%\...), expanded when the source starts.
// The last component names files: a path ending in a separator is refused.
Result<std::filesystem::path> tracefileGlob(const std::filesystem::path& base,
                                            const std::string& text) {
  const char last = text.back();
  if (last == '/' || last == '\\') {
    return makeError(Errc::kInvalidArgument,
                     "names a folder; give the files, e.g. " + text + "trace-*.log");
  }
  if (text.front() == '%') return std::filesystem::path(text);
  std::filesystem::path p(text);
  if (p.is_relative() && !base.empty()) p = base / p;
  return p.lexically_normal();
}

int64_t integer(const YAML::Node& node) { return node.as<int64_t>(); }
bool boolean(const YAML::Node& node) { return node.as<bool>(); }
std::string text(const YAML::Node& node) { return node.Scalar(); }

std::string where(const std::string& name, const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  return m.line >= 0 ? name + ":" + std::to_string(m.line + 1) : name;
}

// Typed extraction of a document the schema already accepted.
Result<AgentConfig> extract(const YAML::Node& root, const std::string& name,
                            const std::filesystem::path& base) {
  AgentConfig c;
  // The default state dir is relative to the config file, like any path written in it.
  c.state_dir = resolvePath(base, c.state_dir.string());
  if (const YAML::Node a = root["agent"]) {
    if (a["id"]) c.agent_id = text(a["id"]);
    if (a["state_dir"]) c.state_dir = resolvePath(base, text(a["state_dir"]));
    if (a["log_level"]) c.log_level = text(a["log_level"]);
    if (a["shutdown_deadline_ms"]) c.shutdown_deadline_ms = integer(a["shutdown_deadline_ms"]);
    if (a["status_interval_ms"]) c.status_interval_ms = integer(a["status_interval_ms"]);
    if (a["max_cpu_percent"]) c.max_cpu_percent = a["max_cpu_percent"].as<double>();
    if (a["max_memory_mb"]) c.max_memory_mb = integer(a["max_memory_mb"]);
    if (a["id"] && !isValidAgentId(c.agent_id)) {
      return makeError(Errc::kInvalidArgument,
                       where(name, a["id"]) + ": agent.id must be " + std::string(kAgentIdRule));
    }
  }
  const YAML::Node col = root["collector"];
  c.url = text(col["url"]);
  if (col["token"]) c.token = text(col["token"]);
  if (col["token_file"]) c.token_file = resolvePath(base, text(col["token_file"]));
  if (col["token"] && col["token_file"]) {
    return makeError(Errc::kInvalidArgument,
                     where(name, col["token_file"]) +
                         ": collector.token and collector.token_file are exclusive");
  }
  if (col["ca_bundle"]) c.ca_bundle = resolvePath(base, text(col["ca_bundle"]));
  if (col["client_cert"]) c.client_cert = resolvePath(base, text(col["client_cert"]));
  if (col["client_key"]) c.client_key = resolvePath(base, text(col["client_key"]));
  if (c.client_cert.empty() != c.client_key.empty()) {
    return makeError(Errc::kInvalidArgument,
                     where(name, col) + ": collector.client_cert and client_key go together");
  }
  if (col["allow_insecure"]) c.allow_insecure = boolean(col["allow_insecure"]);
  if (col["proxy"]) c.proxy = text(col["proxy"]);
  if (col["request_timeout_ms"]) c.request_timeout_ms = integer(col["request_timeout_ms"]);
  if (col["client_certificate"]) c.client_certificate = text(col["client_certificate"]);
  if (const YAML::Node w = root["windows"]) {
    if (w["security"]) c.security_channel = boolean(w["security"]);
    if (w["pta_agent_admin"]) c.pta_agent_admin = boolean(w["pta_agent_admin"]);
    if (w["private_network_connector_admin"]) {
      c.private_network_connector_admin = boolean(w["private_network_connector_admin"]);
    }
    if (w["password_protection_admin"]) {
      c.password_protection_admin = boolean(w["password_protection_admin"]);
    }
    if (w["password_protection_operational"]) {
      c.password_protection_operational = boolean(w["password_protection_operational"]);
    }
    if (w["entra_connect_trace"]) c.entra_connect_trace = boolean(w["entra_connect_trace"]);
    if (w["entra_connect_application"]) {
      c.entra_connect_application = boolean(w["entra_connect_application"]);
    }
    if (w["powershell_script_block"]) {
      c.powershell_script_block = boolean(w["powershell_script_block"]);
    }
    if (w["system_service_and_clear"]) {
      c.system_service_and_clear = boolean(w["system_service_and_clear"]);
    }
    if (w["backfill"]) {
      auto b = parseBackfill(text(w["backfill"]));
      if (!b) {
        return makeError(Errc::kInvalidArgument,
                         where(name, w["backfill"]) + ": windows.backfill: " + b.error().message);
      }
      c.backfill = *b;
    }
    if (w["backfill_cpu_percent"]) c.backfill_cpu_percent = integer(w["backfill_cpu_percent"]);
    if (w["extra_channels"]) {
      for (const auto& ch : w["extra_channels"]) {
        ChannelSubscription sub;
        sub.channel = text(ch["channel"]);
        if (ch["query"]) sub.query = text(ch["query"]);
        c.extra_channels.push_back(std::move(sub));
      }
    }
  }

  if (const YAML::Node b = root["batch"]) {
    if (b["max_events"]) c.batch_max_events = integer(b["max_events"]);
    if (b["max_bytes"]) c.batch_max_bytes = integer(b["max_bytes"]);
    if (b["max_delay_ms"]) c.batch_max_delay_ms = integer(b["max_delay_ms"]);
  }
  if (const YAML::Node r = root["retry"]) {
    if (r["budget"]) c.retry_budget = integer(r["budget"]);
    if (r["backoff_base_ms"]) c.backoff_base_ms = integer(r["backoff_base_ms"]);
    if (r["backoff_cap_ms"]) c.backoff_cap_ms = integer(r["backoff_cap_ms"]);
    if (r["auth_pause_ms"]) c.auth_pause_ms = integer(r["auth_pause_ms"]);
    if (c.backoff_cap_ms < c.backoff_base_ms) {
      return makeError(Errc::kInvalidArgument,
                       where(name, r) + ": retry.backoff_cap_ms is below retry.backoff_base_ms");
    }
  }
  if (const YAML::Node q = root["queue"]) {
    if (q["max_bytes"]) c.queue_max_bytes = integer(q["max_bytes"]);
    if (q["overflow"]) c.queue_overflow = text(q["overflow"]);
    if (q["synchronous"]) c.queue_synchronous = text(q["synchronous"]);
    if (q["chunk_records"]) c.queue_chunk_records = integer(q["chunk_records"]);
  }
  if (const YAML::Node s = root["sources"]) {
    for (const auto& item : s) {
      const auto kv = item.begin();
      const std::string type = kv->first.Scalar();
      SourceConfig src;
      src.type = type == "evtx_replay" ? SourceType::kEvtxReplay
                 : type == "xml"       ? SourceType::kXml
                 : type == "eventlog"  ? SourceType::kEventlog
                                       : SourceType::kTracefile;
      if (src.type == SourceType::kEventlog) {
        src.channel = text(kv->second["channel"]);
        if (kv->second["query"]) src.query = text(kv->second["query"]);
        if (const YAML::Node start = kv->second["start"]) {
          const std::string st = text(start);
          src.start = st == "future"   ? EventlogStart::kFuture
                      : st == "oldest" ? EventlogStart::kOldest
                                       : EventlogStart::kAfterBookmark;
        }
        if (const YAML::Node backfill = kv->second["backfill"]) {
          auto b = parseBackfill(text(backfill));
          if (!b) {
            return makeError(Errc::kInvalidArgument,
                             where(name, backfill) + ": backfill: " + b.error().message);
          }
          src.backfill = *b;
        }
        c.sources.push_back(std::move(src));
        continue;
      }
      const std::string path = text(kv->second["path"]);
      if (src.type == SourceType::kTracefile) {
        auto glob = tracefileGlob(base, path);
        if (!glob) {
          return makeError(Errc::kInvalidArgument, where(name, kv->second["path"]) + ": sources[" +
                                                       std::to_string(c.sources.size()) +
                                                       "] tracefile \"" + path +
                                                       "\": " + glob.error().message);
        }
        src.path = *glob;
      } else {
        src.path = resolvePath(base, path);
      }
      c.sources.push_back(std::move(src));
    }
  }
  if (const YAML::Node r = root["rules"]) {
    if (r["paths"]) {
      for (const auto& p : r["paths"]) c.rule_paths.push_back(resolvePath(base, text(p)));
    }
    if (r["pack_dir"]) c.rule_pack_dir = resolvePath(base, text(r["pack_dir"]));
    if (r["packs"]) {
      for (const auto& kv : r["packs"]) {
        const std::string pack = kv.first.Scalar();
        if (pack.empty() || pack.find('/') != std::string::npos || pack == "." || pack == "..") {
          return makeError(Errc::kInvalidArgument,
                           where(name, kv.first) + ": rules.packs: bad pack name \"" + pack + "\"");
        }
        c.rule_packs[pack] = boolean(kv.second);
      }
    }
    // The schema allows only Sigma's five levels.
    if (r["min_alert_level"]) c.rule_min_alert_level = text(r["min_alert_level"]);
    if (const YAML::Node ph = r["placeholders"]) {
      for (const auto& kv : ph) {
        std::vector<std::string> values;  // the schema allows a list of strings only
        for (const auto& v : kv.second) values.push_back(text(v));
        c.rule_placeholders[kv.first.Scalar()] = std::move(values);
      }
    }
  }
  if (const YAML::Node m = root["metrics"]) {
    if (m["listen"]) {
      auto listen = parseMetricsListen(text(m["listen"]));
      if (!listen) {
        return makeError(Errc::kInvalidArgument,
                         where(name, m["listen"]) + ": metrics.listen: " + listen.error().message);
      }
      c.metrics_listen = *listen;
    }
    if (m["log_interval_ms"]) c.metrics_log_interval_ms = integer(m["log_interval_ms"]);
  }
  return c;
}

}  // namespace

const char* sourceTypeName(SourceType type) {
  switch (type) {
    case SourceType::kEvtxReplay:
      return "evtx_replay";
    case SourceType::kXml:
      return "xml";
    case SourceType::kTracefile:
      return "tracefile";
    case SourceType::kEventlog:
      return "eventlog";
  }
  return "unknown";
}

const char* eventlogStartName(EventlogStart start) {
  switch (start) {
    case EventlogStart::kAfterBookmark:
      return "after_bookmark";
    case EventlogStart::kOldest:
      return "oldest";
    case EventlogStart::kFuture:
      return "future";
  }
  return "unknown";
}

const char* configSchemaText() { return kConfigSchema; }

const char* const kEntraConnectApplicationQuery =
    "*[System[Provider[@Name='ADSync' or @Name='Directory Synchronization' or "
    "@Name='Azure AD Connect Upgrade' or @Name='Microsoft Entra Connect Upgrade' or "
    "@Name='Entra Connect Admin Actions'] or (Provider[@Name='ESENT'] and "
    "(EventID=325 or EventID=326 or EventID=327))]]";
const char* const kPowerShellScriptBlockQuery = "*[System[EventID=4104]]";
const char* const kSystemServiceAndClearQuery =
    "*[System[(Provider[@Name='Service Control Manager'] and EventID=7045) or "
    "(Provider[@Name='Microsoft-Windows-Eventlog'] and EventID=104)]]";

Result<BackfillSetting> parseBackfill(std::string_view text) {
  BackfillSetting b;
  if (text == "none") {
    b.kind = BackfillSetting::Kind::kNone;
    return b;
  }
  if (text == "all") {
    b.kind = BackfillSetting::Kind::kAll;
    return b;
  }
  int64_t n = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [p, ec] = std::from_chars(first, last, n);
  int64_t unit = 0;
  if (ec == std::errc() && p != first && p + 1 == last) {
    unit = *p == 's' ? 1 : *p == 'm' ? 60 : *p == 'h' ? 3600 : *p == 'd' ? 86400 : 0;
  }
  if (unit == 0 || n <= 0 || n > 3650 * 86400 / unit) {
    return makeError(
        Errc::kInvalidArgument,
        "\"" + std::string(text) + "\" is not none, all or a duration such as 24h, 90m, 7d");
  }
  b.seconds = n * unit;
  return b;
}

std::string backfillName(const BackfillSetting& b) {
  switch (b.kind) {
    case BackfillSetting::Kind::kNone:
      return "none";
    case BackfillSetting::Kind::kAll:
      return "all";
    case BackfillSetting::Kind::kWindow:
      break;
  }
  return std::to_string(b.seconds) + "s";
}

std::vector<std::string> AgentConfig::enabledRulePacks() const {
  std::vector<std::string> out;
  for (const auto& name : kDefaultRulePacks) {
    if (isDefaultRulePack(name) || rule_packs.at(name)) out.push_back(name);
  }
  for (const auto& [pack, on] : rule_packs) {
    if (on && std::find(out.begin(), out.end(), pack) == out.end()) out.push_back(pack);
  }
  return out;
}

bool AgentConfig::isDefaultRulePack(const std::string& name) const {
  return rule_packs.count(name) == 0 &&
         std::find(kDefaultRulePacks.begin(), kDefaultRulePacks.end(), name) !=
             kDefaultRulePacks.end();
}

std::vector<ChannelSubscription> AgentConfig::channelSubscriptions() const {
  std::vector<ChannelSubscription> out;
  if (security_channel) out.push_back({"Security", "*"});
  // The Entra agents' channels: their detections read the message text (EvtFormatMessage).
  if (pta_agent_admin) {
    out.push_back({"Microsoft-AzureADConnect-AuthenticationAgent/Admin", "*", true});
  }
  if (private_network_connector_admin) {
    // The connector's log was renamed with the product; a server has one of the two.
    out.push_back({"Microsoft-AadApplicationProxy-Connector/Admin", "*", true});
    out.push_back({"Microsoft-Microsoft Entra private network-Connector/Admin", "*", true});
  }
  if (password_protection_admin) {
    out.push_back({"Microsoft-AzureADPasswordProtection-DCAgent/Admin", "*", true});
  }
  if (password_protection_operational) {
    out.push_back({"Microsoft-AzureADPasswordProtection-DCAgent/Operational", "*", true});
  }
  if (entra_connect_application) {
    out.push_back({"Application", kEntraConnectApplicationQuery, true});
  }
  if (powershell_script_block) {
    out.push_back({"Microsoft-Windows-PowerShell/Operational", kPowerShellScriptBlockQuery});
  }
  if (system_service_and_clear) out.push_back({"System", kSystemServiceAndClearQuery});
  out.insert(out.end(), extra_channels.begin(), extra_channels.end());
  return out;
}

std::string AgentConfig::describe() const {
  std::ostringstream o;
  o << "config " << (config_file.empty() ? "(text)" : config_file.string()) << ": state_dir "
    << state_dir.string() << ", collector " << url << ", token "
    << (!token.empty()        ? "<set>"
        : !token_file.empty() ? "<file " + token_file.string() + ">"
                              : "<none>")
    << ", proxy " << (proxy.empty() ? "<none>" : "<set>") << ", batch " << batch_max_events
    << " events / " << batch_max_bytes << " bytes / " << batch_max_delay_ms << " ms, queue cap "
    << queue_max_bytes << " bytes (" << queue_overflow << ", synchronous " << queue_synchronous
    << "), " << sources.size() << " source(s), " << rule_paths.size() << " rule path(s), packs ";
  const auto packs = enabledRulePacks();
  for (size_t i = 0; i < packs.size(); ++i) o << (i ? "," : "") << packs[i];
  if (packs.empty()) o << "<none>";
  o << ", metrics "
    << (metrics_listen ? metrics_listen->host + ":" + std::to_string(metrics_listen->port)
                       : std::string("off"));
  return o.str();
}

Result<AgentConfig> parseConfig(std::string_view yaml, const std::string& name,
                                const std::filesystem::path& base_dir) {
  static const nlohmann::json schema = nlohmann::json::parse(kConfigSchema);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (root.IsNull()) {
      return makeError(Errc::kInvalidArgument,
                       name + ": empty configuration (collector.url is required)");
    }
    const auto violations = validateYamlAgainstSchema(root, schema);
    if (!violations.empty()) {
      std::string msg;
      for (const auto& v : violations) {
        if (!msg.empty()) msg += "\n";
        msg += name +
               (v.line > 0 ? ":" + std::to_string(v.line) + ":" + std::to_string(v.column)
                           : std::string()) +
               ": " + v.path + ": " + v.message;
      }
      return makeError(Errc::kInvalidArgument, msg);
    }
    auto config = extract(root, name, base_dir);
    return config;
  } catch (const YAML::Exception& e) {
    const int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    return makeError(Errc::kParse,
                     name + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + e.msg);
  } catch (const std::exception& e) {
    return makeError(Errc::kInvalidArgument, name + ": " + e.what());
  }
}

Result<AgentConfig> loadConfigFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return makeError(Errc::kIo, file.string() + ": cannot read the configuration file");
  std::ostringstream text;
  text << in.rdbuf();
  std::error_code ec;
  std::filesystem::path base = std::filesystem::absolute(file, ec).parent_path();
  auto config = parseConfig(text.str(), file.string(), base);
  if (config) config->config_file = file;
  return config;
}

Result<MetricsListen> parseMetricsListen(std::string_view text) {
  std::string host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return makeError(Errc::kInvalidArgument, "expected [address]:port");
    }
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return makeError(Errc::kInvalidArgument, "expected address:port, e.g. 127.0.0.1:9464");
    }
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return makeError(Errc::kInvalidArgument, "bad port \"" + std::string(port_text) + "\"");
  }
  if (host == "localhost") host = "127.0.0.1";
  bool loopback = host == "::1";
  if (host.starts_with("127.")) {
    int dots = 0;
    bool digits = true;
    for (char ch : host) {
      if (ch == '.')
        ++dots;
      else if (ch < '0' || ch > '9')
        digits = false;
    }
    loopback = digits && dots == 3;
  }
  if (!loopback) {
    return makeError(Errc::kInvalidArgument,
                     "\"" + host +
                         "\" is not a loopback address: the metrics endpoint has no "
                         "authentication, so it only listens on 127.0.0.1 or ::1");
  }
  return MetricsListen{host, static_cast<uint16_t>(port)};
}

Result<std::string> resolveAgentId(const AgentConfig& config) {
  if (!config.agent_id.empty()) return config.agent_id;
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir, ec);
  if (ec) {
    return makeError(Errc::kIo, config.state_dir.string() +
                                    ": cannot create the state directory: " + ec.message());
  }
  const std::filesystem::path file = config.state_dir / "agent-id";
  if (std::ifstream in(file); in) {
    std::string id;
    std::getline(in, id);
    while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back()))) id.pop_back();
    if (isValidAgentId(id)) return id;
    return makeError(Errc::kCorrupt, file.string() + ": not a valid agent id; fix or delete it");
  }
  std::random_device rd;
  std::string id = "t0w-";
  static const char* kHex = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    const unsigned v = rd();
    id += kHex[v & 15];
    id += kHex[(v >> 4) & 15];
  }
  // Written to a temporary name and renamed, so a crash never leaves half an id behind.
  const std::filesystem::path tmp = config.state_dir / "agent-id.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << id << "\n";
    out.flush();
    if (!out) return makeError(Errc::kIo, tmp.string() + ": cannot write the agent id");
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec)
    return makeError(Errc::kIo, file.string() + ": cannot store the agent id: " + ec.message());
  return id;
}

Result<std::string> resolveToken(const AgentConfig& config) {
  if (config.token_file.empty()) return config.token;
  std::ifstream in(config.token_file, std::ios::binary);
  if (!in) {
    return makeError(Errc::kIo, config.token_file.string() + ": cannot read the token file");
  }
  std::string token;
  std::getline(in, token);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) {
    return makeError(Errc::kInvalidArgument,
                     config.token_file.string() + ": the token file is empty");
  }
  return token;
}

}  // namespace t0w
