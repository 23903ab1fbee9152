// Group Policy over the YAML file: every value the agent reads under
// HKLM\SOFTWARE\Policies\Tier0Watch (the same list as installer/admx/Tier0Watch.admx; a test
// checks both ways), and the merge in which policy wins. A bad policy value is reported and
// ignored (the file's or default value stays), so a typo in a GPO never stops the agent.
#pragma once

#include <string>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/config/config_source.h"
#include "agent/config/policy_source.h"

namespace t0w {

inline constexpr const char* kPolicyKeyPath = "SOFTWARE\\Policies\\Tier0Watch";  // under HKLM

struct PolicyValueInfo {
  const char* subkey;      // "" = the policy key itself
  const char* name;        // value name; "*" = every value of the subkey (a list policy)
  const char* setting;     // the configuration key it overrides ("collector.url")
  PolicyValue::Type type;  // expected registry type
};
// Every value the agent reads.
const std::vector<PolicyValueInfo>& policyValueInfos();

struct PolicyOverlayResult {
  AgentConfig config;
  ConfigProvenance provenance;      // file provenance updated with the policy's values
  std::vector<std::string> issues;  // bad values, named by value and why; each one ignored
};

// `file` overlaid with `policy`. `provenance` is the file's (fileProvenance).
PolicyOverlayResult applyPolicy(const AgentConfig& file, ConfigProvenance provenance,
                                const PolicySnapshot& policy);

// Loads the file (or, when `file` is empty, an empty configuration that policy must complete
// with CollectorUrl), reads the policy source (nullptr: none), overlays it and checks that the
// result is complete.
struct EffectiveConfig {
  AgentConfig config;
  ConfigProvenance provenance;
  std::vector<std::string> issues;
};
Result<EffectiveConfig> loadEffectiveConfig(const std::filesystem::path& file,
                                            PolicySource* policy);

}  // namespace t0w
