// Agent: owns everything `tier0watch run` needs (config, queue, rules, transport, shipper,
// pipeline, metrics) — no globals — and runs it until a stop request, then shuts down in order:
// collectors stop (what they read is stored with its checkpoint), the shipper flushes the queue
// to the collector within the configured deadline, and what is left stays queued for next start.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "agent/config/agent_config.h"
#include "agent/core/result.h"

namespace t0w {

struct AgentRunOptions {
  // Exit by itself once every source is read to its end and the queue is empty (benchmarks,
  // one-shot replays). Otherwise run until requestStop().
  bool exit_when_drained = false;
};

struct AgentRunReport {
  uint64_t events_in = 0;
  uint64_t shipped = 0;
  uint64_t left_in_queue = 0;
  bool deadline_passed = false;
};

class Agent {
 public:
  explicit Agent(AgentConfig config);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Blocks until requestStop() (or drained, see options). Errors are start-up failures.
  Result<AgentRunReport> run(AgentRunOptions options = {});
  // Safe from any thread (the signal-waiting thread calls it).
  void requestStop();

 private:
  AgentConfig config_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace t0w
