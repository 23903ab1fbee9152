// `tier0watch config show [--config FILE] [--json]`: the effective configuration — the YAML file
// overlaid by Group Policy (HKLM\SOFTWARE\Policies\Tier0Watch, Windows) — and where each value
// came from: "default", "file:<path>:<line>" or "policy:<value name>". Secrets print as <set>.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "agent/cli/cli_context.h"
#include "agent/config/policy_overlay.h"

namespace t0w::cli {

void registerConfigCommand(CLI::App& app, CliContext& ctx);

// The text or JSON the command prints (tests call it with an in-memory policy).
std::string renderEffectiveConfig(const EffectiveConfig& config, const std::string& policy_name,
                                  bool json);

// %ProgramData%\Tier0Watch\agent.yaml on Windows, /etc/tier0watch/agent.yaml elsewhere.
std::filesystem::path defaultConfigPath();

}  // namespace t0w::cli
