// `tier0watch run --config FILE`: the agent process. Runs in the foreground until SIGTERM or
// SIGINT, then stops the collectors, flushes the queue within the shutdown deadline and exits 0.
#pragma once

#include <CLI/CLI.hpp>

#include "agent/cli/cli_context.h"

namespace t0w::cli {

void registerRunCommand(CLI::App& app, CliContext& ctx);

}  // namespace t0w::cli
