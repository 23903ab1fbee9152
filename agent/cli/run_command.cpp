#include "agent/cli/run_command.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <thread>

#include "agent/agent.h"
#include "agent/config/agent_config.h"
#include "agent/pipeline/pipeline.h"
#include "agent/platform/host_stop_signal.h"
#include "agent/shipper/transport_factory.h"

namespace t0w::cli {
namespace {

struct RunArgs {
  std::string config;
  bool exit_when_drained = false;
  bool check = false;
  std::vector<std::string> packs;  // --pack: switched on over the configuration
};

int runAgent(const RunArgs& args, CliIo io) {
  auto config = loadConfigFile(args.config);
  if (!config) {
    io.err << "tier0watch run: " << config.error().message << "\n";
    return kExitUsage;
  }
  for (const auto& pack : args.packs) config->rule_packs[pack] = true;
  if (args.check) {
    // What start() would refuse on this platform is a configuration error too.
    Status ok = checkSources(agentSources(*config));
    if (ok) ok = validateTransportConfig(*config);
    if (!ok) {
      io.err << "tier0watch run: " << ok.error().message << "\n";
      return kExitUsage;
    }
    io.out << config->describe() << "\n";
    return kExitOk;
  }
  // Logs go to stderr, like every diagnostic of this executable.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("tier0watch-run"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");

  // Before any thread starts (POSIX: the signal mask is inherited).
  auto stop_signal = StopSignal::install();
  if (!stop_signal) {
    spdlog::error("{}", stop_signal.error().toString());
    spdlog::shutdown();
    return kExitInputErrors;
  }
  Agent agent(std::move(*config), AgentRunOptions{args.exit_when_drained, {}, {}});
  if (auto started = agent.start(); !started) {
    spdlog::error("{}", started.error().toString());
    spdlog::shutdown();
    return kExitInputErrors;
  }
  // The stop request is taken on a thread of our own; the main thread waits for the agent,
  // which also ends by itself with --exit-when-drained.
  StopSignal& signal = **stop_signal;
  std::thread waiter([&signal, &agent] {
    if (auto name = signal.wait()) {
      spdlog::info("{} received", *name);
      agent.stop();
    }
  });
  auto report = agent.wait();
  signal.cancel();
  waiter.join();
  if (!report) {
    spdlog::error("{}", report.error().toString());
    spdlog::shutdown();
    return kExitInputErrors;
  }
  spdlog::shutdown();
  return kExitOk;
}

}  // namespace

void registerRunCommand(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run the agent in the foreground: collect, detect, queue and ship to the collector until "
      "SIGTERM/SIGINT (Linux) or Ctrl+C/Ctrl+Break (Windows)");
  cmd->add_option("--config", args->config, "Agent configuration (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_flag("--exit-when-drained", args->exit_when_drained,
                "Exit once every file source is read and the queue is empty (one-shot replays)");
  cmd->add_flag("--check-config", args->check, "Validate the configuration, print it, exit");
  cmd->add_option("--pack", args->packs,
                  "Rule pack to switch on over the configuration, by name (found where tier0watch "
                  "is installed or built, or in rules.pack_dir) or directory (repeatable)");
  cmd->callback([args, &ctx] { ctx.exit_code = runAgent(*args, ctx.io); });
}

}  // namespace t0w::cli
