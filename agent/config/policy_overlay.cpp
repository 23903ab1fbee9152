#include "agent/config/policy_overlay.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string_view>

#include "agent/rules/alert.h"
#include "common/text/ascii.h"

namespace t0w {
namespace {

using Type = PolicyValue::Type;

const char* typeName(Type t) {
  switch (t) {
    case Type::kString:
      return "REG_SZ";
    case Type::kDword:
      return "REG_DWORD";
    case Type::kQword:
      return "REG_QWORD";
    case Type::kMultiString:
      return "REG_MULTI_SZ";
    case Type::kOther:
      return "another registry type";
  }
  return "?";
}

std::string valuePath(std::string_view subkey, std::string_view name) {
  return subkey.empty() ? std::string(name) : std::string(subkey) + "\\" + std::string(name);
}

bool sameName(std::string_view a, std::string_view b) {
  return !CaseInsensitiveLess{}(a, b) && !CaseInsensitiveLess{}(b, a);
}

std::string trim(std::string s) {
  const auto sp = [](unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && sp(s.back())) s.pop_back();
  size_t i = 0;
  while (i < s.size() && sp(s[i])) ++i;
  return s.substr(i);
}

// Applies one value at a time, recording its origin or why it was ignored.
class Overlay {
 public:
  Overlay(const AgentConfig& file, ConfigProvenance provenance, const PolicySnapshot& policy)
      : policy_(policy) {
    out_.config = file;
    out_.provenance = std::move(provenance);
  }

  PolicyOverlayResult run() {
    collector();
    agentAndQueue();
    channels();
    extraChannels();
    rulePacks();
    rulePlaceholders();
    ruleMinAlertLevel();
    unknownValues();
    return std::move(out_);
  }

 private:
  // The value when it is there with the expected type; a wrong type is an issue.
  const PolicyValue* get(std::string_view subkey, std::string_view name, Type type) {
    const PolicyValue* v = policy_.find(subkey, name);
    if (v == nullptr) return nullptr;
    if (v->type != type) {
      issue(subkey, name,
            std::string("expected ") + typeName(type) + ", found " + typeName(v->type));
      return nullptr;
    }
    return v;
  }
  void issue(std::string_view subkey, std::string_view name, const std::string& why) {
    out_.issues.push_back("policy " + valuePath(subkey, name) + ": " + why + "; ignored");
  }
  void took(const std::string& setting, std::string_view subkey, std::string_view name) {
    out_.provenance[setting] = SettingOrigin::policy(valuePath(subkey, name));
  }
  const std::string* nonEmptyString(std::string_view subkey, std::string_view name) {
    const PolicyValue* v = get(subkey, name, Type::kString);
    if (v == nullptr) return nullptr;
    if (trim(v->text).empty()) {
      issue(subkey, name, "empty");
      return nullptr;
    }
    return &v->text;
  }

  void collector() {
    AgentConfig& c = out_.config;
    if (const std::string* url = nonEmptyString("", "CollectorUrl")) {
      const std::string u = trim(*url);
      const std::string l = lowerAscii(u);
      if (!l.starts_with("https://") && !l.starts_with("http://")) {
        issue("", "CollectorUrl", "\"" + u + "\" is not an https:// URL");
      } else {
        c.url = u;
        took("collector.url", "", "CollectorUrl");
      }
    }
    if (const std::string* token = nonEmptyString("", "EnrollmentToken")) {
      c.token = trim(*token);
      c.token_file.clear();  // the policy's token replaces a token file of the YAML
      took("collector.token", "", "EnrollmentToken");
      took("collector.token_file", "", "EnrollmentToken");
    }
    if (const std::string* proxy = nonEmptyString("", "Proxy")) {
      c.proxy = trim(*proxy);
      took("collector.proxy", "", "Proxy");
    }
    const PolicyValue* match = get("", "ClientCertificateMatch", Type::kString);
    const PolicyValue* value = get("", "ClientCertificate", Type::kString);
    if (match != nullptr || value != nullptr) {
      const std::string m = match ? lowerAscii(trim(match->text)) : std::string();
      const std::string v = value ? trim(value->text) : std::string();
      if (m != "thumbprint" && m != "subject" && m != "template") {
        issue("", "ClientCertificateMatch",
              "\"" + m + "\" is not one of thumbprint, subject, template");
      } else if (v.empty()) {
        issue("", "ClientCertificate", "empty (the certificate's " + m + " is needed)");
      } else {
        c.client_certificate = m + ":" + v;
        took("collector.client_certificate", "", "ClientCertificate");
      }
    }
  }

  void agentAndQueue() {
    AgentConfig& c = out_.config;
    if (const std::string* level = nonEmptyString("", "LogLevel")) {
      static const std::vector<std::string> kLevels = {"trace", "debug", "info",
                                                       "warn",  "error", "off"};
      const std::string l = lowerAscii(trim(*level));
      if (std::find(kLevels.begin(), kLevels.end(), l) == kLevels.end()) {
        issue("", "LogLevel", "\"" + l + "\" is not one of trace, debug, info, warn, error, off");
      } else {
        c.log_level = l;
        took("agent.log_level", "", "LogLevel");
      }
    }
    if (const PolicyValue* mb = get("", "QueueMaxMB", Type::kDword)) {
      if (mb->number < 1 || mb->number > 1048576) {
        issue("", "QueueMaxMB", std::to_string(mb->number) + " MB is outside 1..1048576");
      } else {
        c.queue_max_bytes = static_cast<int64_t>(mb->number) << 20;
        took("queue.max_bytes", "", "QueueMaxMB");
      }
    }
    if (const std::string* overflow = nonEmptyString("", "QueueOverflow")) {
      const std::string o = lowerAscii(trim(*overflow));
      if (o != "drop_oldest" && o != "pause_sources") {
        issue("", "QueueOverflow", "\"" + o + "\" is not drop_oldest or pause_sources");
      } else {
        c.queue_overflow = o;
        took("queue.overflow", "", "QueueOverflow");
      }
    }
  }

  void channels() {
    AgentConfig& c = out_.config;
    const struct {
      const char* name;
      const char* setting;
      bool AgentConfig::*field;
    } kSwitches[] = {
        {"Security", "windows.security", &AgentConfig::security_channel},
        {"PtaAgentAdmin", "windows.pta_agent_admin", &AgentConfig::pta_agent_admin},
        {"PrivateNetworkConnectorAdmin", "windows.private_network_connector_admin",
         &AgentConfig::private_network_connector_admin},
        {"PasswordProtectionAdmin", "windows.password_protection_admin",
         &AgentConfig::password_protection_admin},
        {"PasswordProtectionOperational", "windows.password_protection_operational",
         &AgentConfig::password_protection_operational},
        {"EntraConnectTrace", "windows.entra_connect_trace", &AgentConfig::entra_connect_trace},
        {"EntraConnectApplication", "windows.entra_connect_application",
         &AgentConfig::entra_connect_application},
        {"PowerShellScriptBlock", "windows.powershell_script_block",
         &AgentConfig::powershell_script_block},
        {"SystemServiceAndClear", "windows.system_service_and_clear",
         &AgentConfig::system_service_and_clear},
    };
    for (const auto& s : kSwitches) {
      if (const PolicyValue* v = get("Channels", s.name, Type::kDword)) {
        c.*(s.field) = v->number != 0;
        took(s.setting, "Channels", s.name);
      }
    }
  }

  void extraChannels() {
    const PolicyValue* use = get("", "UseExtraChannels", Type::kDword);
    if (use == nullptr) return;  // not configured: the file's list stays
    std::vector<ChannelSubscription> list;
    if (use->number != 0) {
      if (const PolicyValues* values = policy_.values("ExtraChannels")) {
        for (const auto& [name, v] : *values) {
          if (v.type != Type::kString) {
            issue("ExtraChannels", name,
                  std::string("expected REG_SZ (an XPath filter), found ") + typeName(v.type));
            continue;
          }
          if (trim(name).empty()) {
            issue("ExtraChannels", name, "empty channel name");
            continue;
          }
          const std::string query = trim(v.text);
          list.push_back({trim(name), query.empty() ? "*" : query});
        }
      }
    }
    out_.config.extra_channels = std::move(list);
    took("windows.extra_channels", "", "UseExtraChannels");
  }

  void rulePacks() {
    const PolicyValues* values = policy_.values("RulePacks");
    if (values == nullptr) return;
    for (const auto& [name, v] : *values) {
      bool on = false;
      if (v.type == Type::kDword) {
        on = v.number != 0;
      } else if (v.type == Type::kString) {
        const std::string t = lowerAscii(trim(v.text));
        if (t == "1" || t == "on" || t == "true" || t == "enabled") {
          on = true;
        } else if (t == "0" || t == "off" || t == "false" || t == "disabled") {
          on = false;
        } else {
          issue("RulePacks", name, "\"" + v.text + "\" is neither 1 (on) nor 0 (off)");
          continue;
        }
      } else {
        issue("RulePacks", name, std::string("expected REG_SZ 1 or 0, found ") + typeName(v.type));
        continue;
      }
      if (name.empty() || name.find('/') != std::string::npos ||
          name.find('\\') != std::string::npos || name == "." || name == "..") {
        issue("RulePacks", name, "bad pack name");
        continue;
      }
      out_.config.rule_packs[name] = on;
      took("rules.packs." + name, "RulePacks", name);
    }
  }

  // RulePlaceholders\<name> = "v1;v2" (REG_SZ; account and group names cannot hold ';') or one
  // value per line (REG_MULTI_SZ). An empty value is an empty list: it silences the rules that
  // need the placeholder.
  void rulePlaceholders() {
    const PolicyValues* values = policy_.values("RulePlaceholders");
    if (values == nullptr) return;
    for (const auto& [name, v] : *values) {
      std::vector<std::string> list;
      if (v.type == Type::kString) {
        std::string item;
        for (char ch : v.text + ";") {
          if (ch != ';') {
            item.push_back(ch);
            continue;
          }
          if (!trim(item).empty()) list.push_back(trim(item));
          item.clear();
        }
      } else if (v.type == Type::kMultiString) {
        for (const auto& item : v.items)
          if (!trim(item).empty()) list.push_back(trim(item));
      } else {
        issue("RulePlaceholders", name,
              std::string("expected REG_SZ (values separated by ;), found ") + typeName(v.type));
        continue;
      }
      if (trim(name).empty() || name.find('%') != std::string::npos) {
        issue("RulePlaceholders", name, "bad placeholder name");
        continue;
      }
      out_.config.rule_placeholders[trim(name)] = std::move(list);
      took("rules.placeholders." + trim(name), "RulePlaceholders", name);
    }
  }

  // RuleMinAlertLevel = one of Sigma's levels (REG_SZ).
  void ruleMinAlertLevel() {
    const std::string* level = nonEmptyString("", "RuleMinAlertLevel");
    if (level == nullptr) return;
    const std::string l = lowerAscii(trim(*level));
    if (alertLevelRank(l) >= static_cast<int>(std::size(kAlertLevels))) {
      issue("", "RuleMinAlertLevel",
            "\"" + l + "\" is not informational, low, medium, high or critical");
      return;
    }
    out_.config.rule_min_alert_level = l;
    took("rules.min_alert_level", "", "RuleMinAlertLevel");
  }

  void unknownValues() {
    // Plain loops over pairs: clang 14 (the fuzz build) cannot capture structured bindings.
    for (const auto& key : policy_.keys) {
      const auto& subkey = key.first;
      for (const auto& value : key.second) {
        const auto& name = value.first;
        const auto& infos = policyValueInfos();
        const bool known = std::any_of(infos.begin(), infos.end(), [&](const PolicyValueInfo& i) {
          return sameName(subkey, i.subkey) &&
                 (std::string_view(i.name) == "*" || sameName(name, i.name));
        });
        if (!known) issue(subkey, name, "not a Tier0Watch policy value");
      }
    }
  }

  const PolicySnapshot& policy_;
  PolicyOverlayResult out_;
};

}  // namespace

const std::vector<PolicyValueInfo>& policyValueInfos() {
  static const std::vector<PolicyValueInfo> kInfos = {
      {"", "CollectorUrl", "collector.url", Type::kString},
      {"", "EnrollmentToken", "collector.token", Type::kString},
      {"", "Proxy", "collector.proxy", Type::kString},
      {"", "ClientCertificateMatch", "collector.client_certificate", Type::kString},
      {"", "ClientCertificate", "collector.client_certificate", Type::kString},
      {"", "LogLevel", "agent.log_level", Type::kString},
      {"", "QueueMaxMB", "queue.max_bytes", Type::kDword},
      {"", "QueueOverflow", "queue.overflow", Type::kString},
      {"Channels", "Security", "windows.security", Type::kDword},
      {"Channels", "PtaAgentAdmin", "windows.pta_agent_admin", Type::kDword},
      {"Channels", "PrivateNetworkConnectorAdmin", "windows.private_network_connector_admin",
       Type::kDword},
      {"Channels", "PasswordProtectionAdmin", "windows.password_protection_admin", Type::kDword},
      {"Channels", "PasswordProtectionOperational", "windows.password_protection_operational",
       Type::kDword},
      {"Channels", "EntraConnectTrace", "windows.entra_connect_trace", Type::kDword},
      {"Channels", "EntraConnectApplication", "windows.entra_connect_application", Type::kDword},
      {"Channels", "PowerShellScriptBlock", "windows.powershell_script_block", Type::kDword},
      {"Channels", "SystemServiceAndClear", "windows.system_service_and_clear", Type::kDword},
      {"", "UseExtraChannels", "windows.extra_channels", Type::kDword},
      {"ExtraChannels", "*", "windows.extra_channels", Type::kString},
      {"RulePacks", "*", "rules.packs", Type::kString},
      {"RulePlaceholders", "*", "rules.placeholders", Type::kString},
      {"", "RuleMinAlertLevel", "rules.min_alert_level", Type::kString},
  };
  return kInfos;
}

PolicyOverlayResult applyPolicy(const AgentConfig& file, ConfigProvenance provenance,
                                const PolicySnapshot& policy) {
  return Overlay(file, std::move(provenance), policy).run();
}

Result<EffectiveConfig> loadEffectiveConfig(const std::filesystem::path& file,
                                            PolicySource* policy) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return makeError(Errc::kIo, file.string() + ": cannot read the configuration file");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string name = file.string();

  EffectiveConfig out;
  PolicySnapshot snapshot;
  if (policy != nullptr) {
    auto read = policy->read();
    if (read) {
      snapshot = std::move(*read);
    } else {
      out.issues.push_back(policy->describe() + ": " + read.error().message +
                           "; running with the configuration file only");
    }
  }

  std::error_code ec;
  const std::filesystem::path base = std::filesystem::absolute(file, ec).parent_path();
  auto parsed = parseConfig(text.str(), name, base);
  if (!parsed && snapshot.find("", "CollectorUrl") != nullptr) {
    // collector.url may come from Group Policy alone: complete the file with a placeholder that
    // the policy value replaces below (an invalid policy URL leaves the file invalid).
    try {
      YAML::Node root = YAML::Load(text.str());
      if (!root.IsMap()) root = YAML::Node(YAML::NodeType::Map);
      if (!root["collector"] || !root["collector"]["url"]) {
        root["collector"]["url"] = "https://policy.invalid";
        YAML::Emitter emitter;
        emitter << root;
        parsed = parseConfig(emitter.c_str(), name, base);
      }
    } catch (const std::exception&) {
      // The original parse error stands.
    }
  }
  if (!parsed) return parsed.error();
  parsed->config_file = file;

  auto overlay = applyPolicy(*parsed, fileProvenance(text.str(), name), snapshot);
  if (overlay.config.url == "https://policy.invalid") {
    return makeError(Errc::kInvalidArgument,
                     name + ": collector.url is missing and the policy CollectorUrl is unusable");
  }
  out.config = std::move(overlay.config);
  out.provenance = std::move(overlay.provenance);
  out.issues.insert(out.issues.end(), overlay.issues.begin(), overlay.issues.end());
  return out;
}

}  // namespace t0w
