#include "agent/cli/config_command.h"

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#ifdef _WIN32
#include "agent/platform/windows/known_folders.h"
#include "agent/platform/windows/registry_policy_source.h"
#endif

namespace t0w::cli {
namespace {

struct ConfigShowArgs {
  std::string config;
  bool json = false;
};

std::string valueText(const nlohmann::ordered_json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

int show(const ConfigShowArgs& args, CliIo io) {
  const std::filesystem::path file =
      args.config.empty() ? defaultConfigPath() : std::filesystem::path(args.config);
  std::unique_ptr<PolicySource> policy;
#ifdef _WIN32
  policy = std::make_unique<win::RegistryPolicySource>(kPolicyKeyPath);
#endif
  auto effective = loadEffectiveConfig(file, policy.get());
  if (!effective) {
    io.err << "tier0watch config show: " << effective.error().message << "\n";
    return kExitUsage;
  }
  io.out << renderEffectiveConfig(*effective, policy ? policy->describe() : "", args.json);
  return effective->issues.empty() ? kExitOk : kExitInputErrors;
}

}  // namespace

std::filesystem::path defaultConfigPath() {
#ifdef _WIN32
  if (auto data = win::knownFolderPath(win::KnownFolder::kProgramData)) {
    return *data / "Tier0Watch" / "agent.yaml";
  }
  return "C:\\ProgramData\\Tier0Watch\\agent.yaml";
#else
  return "/etc/tier0watch/agent.yaml";
#endif
}

std::string renderEffectiveConfig(const EffectiveConfig& e, const std::string& policy_name,
                                  bool json) {
  const auto settings = effectiveSettings(e.config);
  if (json) {
    nlohmann::ordered_json out;
    out["config_file"] = e.config.config_file.string();
    out["policy"] =
        policy_name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(policy_name);
    auto& list = out["settings"] = nlohmann::ordered_json::array();
    for (const auto& s : settings) {
      list.push_back({{"key", s.key},
                      {"value", s.value},
                      {"source", originOf(e.provenance, s.key).toString()},
                      {"secret", s.secret}});
    }
    out["issues"] = e.issues;
    return out.dump(2) + "\n";
  }
  std::ostringstream o;
  o << "# configuration file: " << e.config.config_file.string() << "\n";
  o << "# group policy: " << (policy_name.empty() ? "not read on this platform" : policy_name)
    << "\n";
  size_t key_w = 0, value_w = 0;
  std::vector<std::string> values;
  for (const auto& s : settings) {
    values.push_back(valueText(s.value));
    key_w = std::max(key_w, s.key.size());
    value_w = std::max(value_w, std::min<size_t>(values.back().size(), 48));
  }
  for (size_t i = 0; i < settings.size(); ++i) {
    o << settings[i].key << std::string(key_w + 2 - settings[i].key.size(), ' ') << values[i]
      << std::string(values[i].size() < value_w + 2 ? value_w + 2 - values[i].size() : 2, ' ')
      << originOf(e.provenance, settings[i].key).toString() << "\n";
  }
  for (const auto& issue : e.issues) o << "warning: " << issue << "\n";
  return o.str();
}

void registerConfigCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* cmd = app.add_subcommand("config", "Inspect the agent configuration");
  cmd->require_subcommand(1);
  auto args = std::make_shared<ConfigShowArgs>();
  CLI::App* show_cmd = cmd->add_subcommand(
      "show", "Print the effective configuration (file + Group Policy) and each value's source");
  show_cmd->add_option("--config", args->config,
                       "Agent configuration (default: " + defaultConfigPath().string() + ")");
  show_cmd->add_flag("--json", args->json, "JSON output");
  show_cmd->callback([args, &ctx] { ctx.exit_code = show(*args, ctx.io); });
}

}  // namespace t0w::cli
