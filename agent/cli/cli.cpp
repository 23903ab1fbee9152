#include "agent/cli/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "agent/cli/config_command.h"
#include "agent/cli/install_command.h"
#include "agent/cli/rules_command.h"
#include "agent/cli/run_command.h"
#include "agent/cli/scan_command.h"
#ifdef _WIN32
#include "agent/cli/service_command.h"
#endif
#include "agent/cli/status_command.h"

namespace t0w::cli {

#ifndef T0W_VERSION
#define T0W_VERSION "unknown"
#endif

int runCli(const std::vector<std::string>& args, CliIo io) {
  CliContext ctx{io, kExitOk};
  CLI::App app{"Tier0Watch: security monitoring for Tier 0 identity servers", "tier0watch"};
  app.set_version_flag("--version", std::string("tier0watch ") + T0W_VERSION);
  app.require_subcommand(1);

  // Every subcommand, explicitly (no static self-registration).
  registerScanCommand(app, ctx);
  registerRulesCommand(app, ctx);
  registerRunCommand(app, ctx);
  registerStatusCommand(app, ctx);
  registerInstallCommand(app, ctx);
  registerConfigCommand(app, ctx);
#ifdef _WIN32
  registerServiceCommand(app, ctx);
#endif

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    // Help and --version are "errors" with exit code 0; everything else is bad usage.
    app.exit(e, io.out, io.err);
    return e.get_exit_code() == 0 ? kExitOk : kExitUsage;
  }
  return ctx.exit_code;
}

}  // namespace t0w::cli
