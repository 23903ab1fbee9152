#include "agent/cli/run_command.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <thread>

#include "agent/agent.h"
#include "agent/config/agent_config.h"

namespace t0w::cli {
namespace {

struct RunArgs {
  std::string config;
  bool exit_when_drained = false;
  bool check = false;
};

int runAgent(const RunArgs& args, CliIo io) {
  auto config = loadConfigFile(args.config);
  if (!config) {
    io.err << "tier0watch run: " << config.error().message << "\n";
    return kExitUsage;
  }
  if (args.check) {
    io.out << config->describe() << "\n";
    return kExitOk;
  }
  // Logs go to stderr, like every diagnostic of this executable.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("tier0watch-run"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");

  // SIGTERM/SIGINT are taken by a thread of our own (sigwait), so every other thread runs with
  // them blocked and a stop is an ordinary function call, not work inside a signal handler.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  Agent agent(std::move(*config));
  std::atomic<bool> finished{false};
  std::thread signals([&agent, &finished, set] {
    int sig = 0;
    sigwait(&set, &sig);
    if (finished) return;  // our own wake-up below
    spdlog::info("signal {} received", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    agent.requestStop();
  });
  auto report = agent.run(AgentRunOptions{args.exit_when_drained});
  // Wake the signal thread if no signal came (exit when drained, start-up failure).
  finished = true;
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
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
      "run", "Run the agent: collect, detect, queue and ship to the collector until SIGTERM");
  cmd->add_option("--config", args->config, "Agent configuration (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_flag("--exit-when-drained", args->exit_when_drained,
                "Exit once every source is read and the queue is empty (one-shot replays)");
  cmd->add_flag("--check-config", args->check, "Validate the configuration, print it, exit");
  cmd->callback([args, &ctx] { ctx.exit_code = runAgent(*args, ctx.io); });
}

}  // namespace t0w::cli
