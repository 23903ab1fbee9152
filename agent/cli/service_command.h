// `tier0watch service install|configure|uninstall|run` (Windows): set the service up without
// the MSI (the MSI's custom action calls `configure`), and `run`, the entry point the SCM
// starts (ImagePath "<exe>" service run --config "<file>").
#pragma once

#include <CLI/CLI.hpp>

#include "agent/cli/cli_context.h"

namespace t0w::cli {

void registerServiceCommand(CLI::App& app, CliContext& ctx);

}  // namespace t0w::cli
