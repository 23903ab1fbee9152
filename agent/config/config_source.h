// Where each effective setting came from (built-in default, a line of the YAML file, a Group
// Policy value), the effective settings as a flat list for `tier0watch config show`, and what a
// reload changed (applied live or only at the next restart).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/agent_config.h"
#include "common/core/result.h"

namespace t0w {

struct SettingOrigin {
  enum class Kind { kDefault, kFile, kPolicy };
  Kind kind = Kind::kDefault;
  std::string file;        // kFile
  int line = 0;            // kFile, 1-based (0: unknown)
  std::string value_name;  // kPolicy: "CollectorUrl", "Channels\Security"

  static SettingOrigin policy(std::string name) { return {Kind::kPolicy, {}, 0, std::move(name)}; }
  // "default", "file:agent.yaml:12", "policy:CollectorUrl".
  std::string toString() const;
  bool operator==(const SettingOrigin&) const = default;
};

// Setting key (the dotted YAML path: "collector.url", "rules.packs.core") -> origin. Keys that
// are absent came from the built-in default.
using ConfigProvenance = std::map<std::string, SettingOrigin>;

// The origin of every key present in a YAML configuration text (mappings are walked down to
// their leaves; a sequence is one setting). Malformed YAML gives an empty map (parseConfig
// reports it).
ConfigProvenance fileProvenance(std::string_view yaml, const std::string& name);

SettingOrigin originOf(const ConfigProvenance& provenance, const std::string& key);

// Where the effective configuration came from as a whole, for the heartbeat: "file",
// "group_policy", "file+group_policy" or "defaults".
std::string configOrigin(const ConfigProvenance& provenance, bool has_file);

struct EffectiveSetting {
  std::string key;
  nlohmann::ordered_json value;  // secrets are "<set>" / "<not set>"
  bool secret = false;
};
// Every setting of `config`, in schema order, secrets redacted.
std::vector<EffectiveSetting> effectiveSettings(const AgentConfig& config);

// Settings that a running agent takes over without a process restart (the service host
// applies them: the log level in place, the rest by restarting the agent inside the service).
bool isLiveSetting(std::string_view key);

struct ConfigDiff {
  std::vector<std::string> live;     // changed and applied
  std::vector<std::string> restart;  // changed, only effective after the service restarts
  bool empty() const { return live.empty() && restart.empty(); }
};
ConfigDiff diffConfig(const AgentConfig& before, const AgentConfig& after);

// `before` with the live settings of `after` taken over (what the running agent uses after a
// reload); the restart-only ones keep their running values.
AgentConfig mergeLive(const AgentConfig& before, const AgentConfig& after);

}  // namespace t0w
