// `tier0watch scan`: reads .evtx and rendered-XML files and prints their events.
#pragma once

#include <CLI/CLI.hpp>

#include "agent/cli/cli_context.h"

namespace t0w::cli {

void registerScanCommand(CLI::App& app, CliContext& ctx);

}  // namespace t0w::cli
