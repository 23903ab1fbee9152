#include "agent/cli/service_command.h"

#include <windows.h>

#include <memory>

#include "agent/cli/config_command.h"
#include "agent/platform/windows/utf.h"
#include "agent/service/windows_service.h"

namespace t0w::cli {
namespace {

struct ServiceArgs {
  std::string config;
  std::string name = "Tier0Watch";
  unsigned timeout_s = 60;
};

Result<ServiceSpec> spec(const ServiceArgs& args) {
  ServiceSpec s;
  s.name = args.name;
  wchar_t exe[32768];
  const DWORD n = GetModuleFileNameW(nullptr, exe, 32768);
  if (n == 0 || n >= 32768) return makeError(Errc::kIo, "cannot find the path of tier0watch.exe");
  s.executable = win::toUtf8(std::wstring(exe, n));
  std::error_code ec;
  s.config = std::filesystem::absolute(
      args.config.empty() ? defaultConfigPath() : std::filesystem::path(args.config), ec);
  return s;
}

int report(const char* what, const Status& s, CliIo io) {
  if (!s) {
    io.err << "tier0watch service " << what << ": " << s.error().message << "\n";
    return kExitInputErrors;
  }
  io.out << "tier0watch service " << what << ": done\n";
  return kExitOk;
}

}  // namespace

void registerServiceCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* cmd = app.add_subcommand("service", "Install and run the Windows service");
  cmd->require_subcommand(1);
  auto args = std::make_shared<ServiceArgs>();

  CLI::App* install = cmd->add_subcommand(
      "install", "Create the service (LocalSystem, delayed auto-start, restart on failure)");
  CLI::App* configure =
      cmd->add_subcommand("configure", "Re-apply the service settings to the existing service");
  for (CLI::App* c : {install, configure}) {
    c->add_option(
        "--config", args->config,
        "Configuration the service runs with (default: " + defaultConfigPath().string() + ")");
    c->add_option("--name", args->name, "Service name")->capture_default_str();
  }
  install->callback([args, &ctx] {
    auto s = spec(*args);
    ctx.exit_code = s ? report("install", win::installService(*s), ctx.io)
                      : report("install", s.error(), ctx.io);
  });
  configure->callback([args, &ctx] {
    auto s = spec(*args);
    ctx.exit_code = s ? report("configure", win::configureService(*s), ctx.io)
                      : report("configure", s.error(), ctx.io);
  });

  CLI::App* uninstall = cmd->add_subcommand("uninstall", "Stop and delete the service");
  uninstall->add_option("--name", args->name, "Service name")->capture_default_str();
  uninstall->callback([args, &ctx] {
    ctx.exit_code = report("uninstall", win::uninstallService(args->name), ctx.io);
  });

  // The MSI runs this on uninstall before it removes the files (installer/wix/tier0watch.wxs).
  CLI::App* stop = cmd->add_subcommand(
      "stop",
      "Stop the service and wait until no process runs this tier0watch.exe (ended at the timeout)");
  stop->add_option("--name", args->name, "Service name")->capture_default_str();
  stop->add_option("--timeout", args->timeout_s, "Seconds to wait before ending the process")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3600u));
  stop->callback([args, &ctx] {
    auto r = win::stopServiceAndWaitForExit(args->name, std::chrono::seconds(args->timeout_s));
    if (!r) {
      ctx.io.err << "tier0watch service stop: " << r.error().message << "\n";
      ctx.exit_code = kExitInputErrors;
      return;
    }
    ctx.io.out << "tier0watch service stop: service " << r->service_state << "; " << r->processes
               << " process(es) of this executable waited for, " << r->terminated
               << " ended at the timeout\n";
    if (r->still_running > 0) {
      ctx.io.err << "tier0watch service stop: " << r->still_running
                 << " process(es) still running after TerminateProcess\n";
      ctx.exit_code = kExitInputErrors;
    }
  });

  CLI::App* status =
      cmd->add_subcommand("status", "Print the service state (RUNNING, STOPPED, ...)");
  status->add_option("--name", args->name, "Service name")->capture_default_str();
  status->callback([args, &ctx] {
    auto state = win::queryServiceState(args->name);
    if (!state) {
      ctx.io.err << "tier0watch service status: " << state.error().message << "\n";
      ctx.exit_code = kExitInputErrors;
      return;
    }
    ctx.io.out << *state << "\n";
  });

  CLI::App* run = cmd->add_subcommand(
      "run", "Entry point of the service (started by the service control manager)");
  run->add_option("--config", args->config, "Agent configuration (YAML)")->required();
  run->callback([args, &ctx] {
    auto code = win::runAsService(args->config);
    if (!code) {
      ctx.io.err << "tier0watch service run: " << code.error().message << "\n";
      ctx.exit_code = kExitUsage;
      return;
    }
    ctx.exit_code = *code;
  });
}

}  // namespace t0w::cli
