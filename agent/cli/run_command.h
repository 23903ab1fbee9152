// `tier0watch run --config FILE`: the agent process in the foreground (console). Runs until
// SIGTERM/SIGINT (Linux) or Ctrl+C/Ctrl+Break/console close (Windows) — StopSignal in
// agent/platform/host_stop_signal.h — then stops the collectors, flushes the queue within the
// shutdown deadline and exits 0. The Windows service runs the same Agent under the SCM.
#pragma once

#include <CLI/CLI.hpp>

#include "agent/cli/cli_context.h"

namespace t0w::cli {

void registerRunCommand(CLI::App& app, CliContext& ctx);

}  // namespace t0w::cli
