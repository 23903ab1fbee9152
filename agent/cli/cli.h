// The tier0watch command line: builds the CLI11 app from the explicit register*Command list.
#pragma once

#include <string>
#include <vector>

#include "agent/cli/cli_context.h"

namespace t0w::cli {

// args excludes the program name. Returns the process exit status (see ExitCode).
int runCli(const std::vector<std::string>& args, CliIo io);

}  // namespace t0w::cli
