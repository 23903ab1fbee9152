#include "agent/agent.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <thread>

#include "agent/metrics/agent_metrics.h"
#include "agent/metrics/metrics_server.h"
#include "agent/pipeline.h"
#include "agent/queue/event_queue.h"
#include "agent/rules/rule_set.h"
#include "agent/shipper/batch_encoder.h"
#include "agent/shipper/beast_transport.h"
#include "agent/shipper/shipper.h"

#ifndef T0W_VERSION
#define T0W_VERSION "unknown"
#endif

namespace t0w {
namespace {

using std::chrono::milliseconds;

class StdRandom final : public Random {
 public:
  uint64_t uniform(uint64_t bound) override {
    return std::uniform_int_distribution<uint64_t>(0, bound - 1)(engine_);
  }

 private:
  std::mt19937_64 engine_{std::random_device{}()};
};

std::string hostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

std::optional<QueueStats> queueStats(EventQueue& queue) {
  auto st = queue.stats();
  if (!st) return std::nullopt;
  return *st;
}

}  // namespace

Agent::Agent(AgentConfig config) : config_(std::move(config)) {}
Agent::~Agent() = default;

void Agent::requestStop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

Result<AgentRunReport> Agent::run(AgentRunOptions options) {
  const AgentConfig& c = config_;
  spdlog::set_level(spdlog::level::from_str(c.log_level));
  spdlog::info("tier0watch {} starting; {}", T0W_VERSION, c.describe());

  auto agent_id = resolveAgentId(c);
  if (!agent_id) return agent_id.error();
  auto token = resolveToken(c);
  if (!token) return token.error();

  SystemClock clock;
  StdRandom random;
  QueueOptions qo;
  qo.path = c.queuePath();
  qo.max_bytes = static_cast<uint64_t>(c.queue_max_bytes);
  qo.overflow = c.queue_overflow == "pause_sources" ? OverflowPolicy::kPauseSources
                                                    : OverflowPolicy::kDropOldest;
  qo.sync = c.queue_synchronous == "full" ? SyncMode::kFull : SyncMode::kNormal;
  qo.max_chunk_records = static_cast<size_t>(c.queue_chunk_records);
  auto opened = EventQueue::open(qo, clock);
  if (!opened) return opened.error();
  EventQueue& queue = **opened;
  AgentMetrics metrics;

  // Rules.
  std::unique_ptr<RuleSet> rules;
  if (const auto paths = c.rulePathsToLoad(); !paths.empty()) {
    rules = std::make_unique<RuleSet>();
    RuleLoadReport report;
    for (const auto& p : paths) rules->loadPath(p, report);
    rules->finalize(report);
    for (const auto& issue : report.rejected) {
      spdlog::warn("rule rejected: {}: {}", issue.file, issue.message);
    }
    spdlog::info("rules: {} loaded from {} files ({} rejected, {} for other log sources)",
                 report.loaded, report.files, report.rejected.size(), report.out_of_scope);
  }

  // Upload stack.
  BeastTransportOptions to;
  to.url = c.url;
  to.ca_bundle_file = c.ca_bundle.string();
  to.client_cert_file = c.client_cert.string();
  to.client_key_file = c.client_key.string();
  to.allow_insecure = c.allow_insecure;
  to.proxy_url = c.proxy;
  to.user_agent = std::string("Tier0Watch/") + T0W_VERSION;
  auto transport = BeastTransport::create(to);
  if (!transport) return transport.error();
  const BatchEncoder encoder(AgentIdentity{*agent_id, hostName(), T0W_VERSION});
  ShipperOptions so;
  so.max_events = static_cast<size_t>(c.batch_max_events);
  so.max_bytes = static_cast<size_t>(c.batch_max_bytes);
  so.max_delay = milliseconds(c.batch_max_delay_ms);
  so.request_timeout = milliseconds(c.request_timeout_ms);
  so.lease_duration = std::max(milliseconds(60'000), 4 * so.request_timeout);
  so.bearer_token = *token;
  so.retry_budget = c.retry_budget;
  so.backoff.base = milliseconds(c.backoff_base_ms);
  so.backoff.cap = milliseconds(c.backoff_cap_ms);
  so.auth_pause = milliseconds(c.auth_pause_ms);
  Shipper shipper(queue, **transport, encoder, so, clock, random);

  Pipeline pipeline(
      c.sources, queue, rules.get(), metrics,
      [&shipper](size_t records, size_t bytes) { shipper.notifyEnqueued(records, bytes); });

  // A queue file that had to be replaced is reported to the collector like any event.
  if (const auto& incident = queue.incident()) {
    spdlog::error("queue: {}", incident->message());
    if (!pipeline.store({incident->toRecord()}, Checkpoint{"agent", "queue-incident"}, nullptr)) {
      spdlog::error("queue: could not store the incident report");
    }
  }

  std::unique_ptr<MetricsServer> metrics_server;
  if (c.metrics_listen) {
    auto server = MetricsServer::start(c.metrics_listen->host, c.metrics_listen->port, [&] {
      return metrics.prometheusText(queueStats(queue), &shipper.counters());
    });
    if (!server) return server.error();
    metrics_server = std::move(*server);
    std::ofstream(c.state_dir / "metrics.port", std::ios::trunc) << metrics_server->port() << "\n";
    spdlog::info("metrics: http://{}:{}/metrics", c.metrics_listen->host, metrics_server->port());
  }

  std::mutex shipper_mu;
  std::condition_variable shipper_cv;
  bool shipper_done = false;
  std::thread shipper_thread([&] {
    shipper.run();
    std::lock_guard lock(shipper_mu);
    shipper_done = true;
    shipper_cv.notify_all();
  });
  pipeline.start();
  spdlog::info("agent {} running: {} source(s), queue {}", *agent_id, c.sources.size(),
               c.queuePath().string());

  // Wait for a stop request; log the counters periodically.
  auto next_log = clock.monotonic() + milliseconds(c.metrics_log_interval_ms);
  {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, milliseconds(100));
      if (stop_) break;
      lock.unlock();
      if (c.metrics_log_interval_ms > 0 && clock.monotonic() >= next_log) {
        spdlog::info("metrics: {}", metrics.logLine(queueStats(queue), &shipper.counters()));
        next_log = clock.monotonic() + milliseconds(c.metrics_log_interval_ms);
      }
      if (options.exit_when_drained && pipeline.finished()) {
        auto st = queue.stats();
        if (st && st->events == 0) {
          lock.lock();
          break;
        }
      }
      lock.lock();
    }
  }

  // Shutdown: collectors first (their reads are stored), then flush within the deadline.
  const auto deadline = clock.monotonic() + milliseconds(c.shutdown_deadline_ms);
  spdlog::info("stopping: collectors first, then flushing the queue (deadline {} ms)",
               c.shutdown_deadline_ms);
  pipeline.stop();
  pipeline.join();
  shipper.stop();
  {
    std::unique_lock lock(shipper_mu);
    if (!shipper_cv.wait_until(lock, deadline, [&] { return shipper_done; })) {
      // An upload is still in flight (a server that hangs). Everything committed is durable:
      // ending the process now is what a crash after the last commit is, which the queue is
      // built for; the rows of that upload ship again at the next start.
      auto st = queueStats(queue);
      spdlog::warn("shutdown deadline passed during an upload; exiting with {} records queued",
                   st ? st->events : 0);
      spdlog::shutdown();
      std::_Exit(0);
    }
  }
  shipper_thread.join();
  shipper.drain(deadline);

  AgentRunReport report;
  report.shipped = shipper.counters().records_shipped;
  auto st = queueStats(queue);
  report.left_in_queue = st ? st->events : 0;
  report.deadline_passed = clock.monotonic() >= deadline;
  spdlog::info("metrics: {}", metrics.logLine(st, &shipper.counters()));
  spdlog::info("stopped: {} records shipped this run, {} left in the queue for the next start",
               report.shipped, report.left_in_queue);
  return report;
}

}  // namespace t0w
