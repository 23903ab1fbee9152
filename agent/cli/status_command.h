// `tier0watch status [--config FILE | --state-dir DIR] [--json]`: what the agent's queue holds,
// read from the queue database opened read-only (WAL lets it run beside the agent): depth,
// oldest unshipped age, drops by source, dead letters, checkpoints, the shipper's last outcome.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent/cli/cli_context.h"
#include "common/core/result.h"

namespace t0w::cli {

void registerStatusCommand(CLI::App& app, CliContext& ctx);

// The status document (--json prints it as is). `now_ms`: unix milliseconds, for ages.
Result<nlohmann::ordered_json> readAgentStatus(const std::filesystem::path& state_dir,
                                               int64_t now_ms);

}  // namespace t0w::cli
