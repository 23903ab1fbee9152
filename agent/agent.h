// Agent: owns everything `tier0watch run` and the Windows service need (config, queue, rules,
// transport, shipper, pipeline, metrics) — no globals — and runs it until a stop request, then
// shuts down in order: collectors stop (what they read is stored with its checkpoint), the
// shipper flushes the queue to the collector within the deadline, and what is left stays queued
// for the next start.
//
// Life cycle, for hosts (the console `run` command, the Windows service host):
//   Agent agent(config, options);
//   Status started = agent.start();   // returns once running: SERVICE_RUNNING goes here
//   ... agent.stop(deadline) from any thread (SCM STOP/PRESHUTDOWN, Ctrl+C, SIGTERM) ...
//   Result<AgentRunReport> r = agent.wait();   // blocks until stopped; the report
// run() is start() + wait() for hosts that stop through stop() from another thread.
// This API is stable: the service host (agent/service) depends on it.
//
// Platform: everything is portable; the transport comes from agent/shipper/transport_factory
// (BeastTransport on Linux, WinHttpTransport on Windows) and the Event Log API of eventlog
// sources from PipelineOptions (wevtapi.dll on Windows; refused on Linux).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agent/config/agent_config.h"
#include "common/core/result.h"

namespace t0w {

struct AgentRunOptions {
  // Exit by itself once every source is read to its end and the queue is empty (benchmarks,
  // one-shot replays). Live sources (eventlog) never end: with one configured, the agent runs
  // until stop() as without this option.
  bool exit_when_drained = false;
  // Called when the shutdown deadline passes while an upload is still in flight, right before
  // the process ends with std::_Exit(0) (everything committed is durable; the in-flight rows ship
  // again at the next start). The service host reports SERVICE_STOPPED here.
  std::function<void()> before_forced_exit;
  // Where the configuration came from, reported in the heartbeat ("file", "group_policy",
  // "file+group_policy"; config_source.h configOrigin). Empty: "file" when the configuration
  // names its file, else "defaults".
  std::string config_origin;
};

struct AgentRunReport {
  uint64_t events_in = 0;  // records (events, alerts, status) stored this run
  uint64_t shipped = 0;
  uint64_t left_in_queue = 0;
  uint64_t gaps = 0;  // event log gap events stored
  bool deadline_passed = false;
};

class Agent {
 public:
  explicit Agent(AgentConfig config, AgentRunOptions options = {});
  ~Agent();  // stop() + wait() when still running
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Validates the configuration for this platform, opens the queue, loads the rules, builds the
  // transport, starts the shipper and the collectors, and returns: ok once running, or the
  // start-up failure (nothing left running; wait() returns the same error). Call once.
  Status start();
  // Asks to stop; safe from any thread, any number of times, before or after start().
  // `flush_deadline`: how long the queue flush may take from now (default: the configured
  // agent.shutdown_deadline_ms). The first call's deadline counts.
  void stop(std::optional<std::chrono::milliseconds> flush_deadline = std::nullopt);
  // Blocks until the agent has stopped (after stop(), or by itself when drained, see
  // AgentRunOptions) and returns the report, or the start-up error.
  Result<AgentRunReport> wait();

  // start() + wait(). Errors are start-up failures.
  Result<AgentRunReport> run();
  // Same as stop() (the name the console `run` command used first).
  void requestStop() { stop(); }

 private:
  struct Running;
  void supervise();
  void heartbeat();   // builds, stores and queues one agent_status record
  void checkAudit();  // audit prerequisites of the rules (Windows): at start and daily

  AgentConfig config_;
  AgentRunOptions options_;
  std::unique_ptr<Running> running_;
  std::thread supervisor_;
  std::optional<Error> start_error_;
  std::optional<AgentRunReport> report_;
  bool waited_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::optional<std::chrono::milliseconds> flush_deadline_;
};

}  // namespace t0w
