#include "agent/agent.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "agent/metrics/agent_metrics.h"
#include "agent/metrics/metrics_server.h"
#include "agent/pipeline.h"
#include "agent/platform/host_info.h"
#include "agent/queue/event_queue.h"
#include "agent/rules/rule_set.h"
#include "agent/rules/rule_sources.h"
#include "agent/shipper/batch_encoder.h"
#include "agent/shipper/credentials.h"
#include "agent/shipper/shipper.h"
#include "agent/shipper/transport_factory.h"
#include "collectors/eventlog/evt_api.h"

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

std::optional<QueueStats> queueStats(EventQueue& queue) {
  auto st = queue.stats();
  if (!st) return std::nullopt;
  return *st;
}

bool hasLiveSource(const std::vector<SourceConfig>& sources) {
  for (const auto& s : sources) {
    if (s.type == SourceType::kEventlog) return true;
  }
  return false;
}

}  // namespace

// Everything of a started agent, in construction order (destroyed in reverse: threads and
// users before what they use).
struct Agent::Running {
  SystemClock clock;
  StdRandom random;
  std::string agent_id;
  std::vector<SourceConfig> sources;
  std::unique_ptr<EventQueue> queue;
  AgentMetrics metrics;
  SourceStatusBoard source_status{clock};
  std::unique_ptr<RuleSet> rules;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<Credentials> credentials;
  std::unique_ptr<BatchEncoder> encoder;
  std::unique_ptr<Shipper> shipper;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<MetricsServer> metrics_server;
  std::mutex shipper_mu;
  std::condition_variable shipper_cv;
  bool shipper_done = false;
  std::thread shipper_thread;
};

Agent::Agent(AgentConfig config, AgentRunOptions options)
    : config_(std::move(config)), options_(std::move(options)) {}

Agent::~Agent() {
  if (supervisor_.joinable()) {
    stop();
    supervisor_.join();
  }
}

void Agent::stop(std::optional<milliseconds> flush_deadline) {
  {
    std::lock_guard lock(mu_);
    if (!stop_) flush_deadline_ = flush_deadline;
    stop_ = true;
  }
  cv_.notify_all();
}

Status Agent::start() {
  if (running_ || start_error_) {
    return makeError(Errc::kInvalidArgument, "Agent::start() called twice");
  }
  const AgentConfig& c = config_;
  spdlog::set_level(spdlog::level::from_str(c.log_level));
  spdlog::info("tier0watch {} starting on {}; {}", T0W_VERSION, hostPlatformName(kThisPlatform),
               c.describe());
  auto fail = [this](Error e) -> Status {
    start_error_ = e;
    running_.reset();
    return e;
  };

  auto r = std::make_unique<Running>();
  r->sources = agentSources(c);
  if (auto ok = checkSources(r->sources); !ok) return fail(ok.error());
  if (auto ok = validateTransportConfig(c); !ok) return fail(ok.error());
  auto agent_id = resolveAgentId(c);
  if (!agent_id) return fail(agent_id.error());
  r->agent_id = *agent_id;
  auto token = resolveToken(c);
  if (!token) return fail(token.error());

  // With a configured agent.id nothing else creates the state directory before the queue.
  std::error_code dir_error;
  std::filesystem::create_directories(c.state_dir, dir_error);
  if (dir_error) {
    return fail(makeError(
        Errc::kIo,
        c.state_dir.string() + ": cannot create the state directory: " + dir_error.message()));
  }
  QueueOptions qo;
  qo.path = c.queuePath();
  qo.max_bytes = static_cast<uint64_t>(c.queue_max_bytes);
  qo.overflow = c.queue_overflow == "pause_sources" ? OverflowPolicy::kPauseSources
                                                    : OverflowPolicy::kDropOldest;
  qo.sync = c.queue_synchronous == "full" ? SyncMode::kFull : SyncMode::kNormal;
  qo.max_chunk_records = static_cast<size_t>(c.queue_chunk_records);
  qo.random = &r->random;
  auto opened = EventQueue::open(qo, r->clock);
  if (!opened) return fail(opened.error());
  r->queue = std::move(*opened);
  EventQueue& queue = *r->queue;

  RuleSources rule_sources;
  rule_sources.paths = c.rule_paths;
  rule_sources.placeholders = c.rule_placeholders;
  std::vector<std::filesystem::path> pack_dirs;
  if (!c.rule_pack_dir.empty()) pack_dirs.push_back(c.rule_pack_dir);
  for (auto& d : packSearchDirs(executablePath())) pack_dirs.push_back(std::move(d));
  for (const auto& name : c.enabledRulePacks()) {
    auto dir = locatePack(name, pack_dirs);
    if (dir) {
      rule_sources.packs.push_back(*dir);
    } else if (c.isDefaultRulePack(name)) {
      // Only a build without its packs gets here (the MSI installs them): say so, run on.
      spdlog::warn("{}; running without it", dir.error().message);
    } else {
      return fail(dir.error());
    }
  }
  if (!rule_sources.paths.empty() || !rule_sources.packs.empty()) {
    LoadedRuleSet loaded = loadRuleSources(rule_sources);
    const RuleLoadReport& report = loaded.report;
    for (const auto& issue : report.rejected) {
      spdlog::warn("rule rejected: {}: {}", issue.file, issue.message);
    }
    for (const auto& pack : loaded.packs) {
      spdlog::info("rule pack {}: {}", pack.name, pack.dir.string());
    }
    spdlog::info("rules: {} loaded from {} files ({} rejected, {} for other log sources)",
                 report.loaded, report.files, report.rejected.size(), report.out_of_scope);
    r->rules = std::move(loaded.rules);
  }

  // Upload stack: the platform's transport (transport_factory.h).
  auto transport = makeTransport(c, std::string("Tier0Watch/") + T0W_VERSION);
  if (!transport) return fail(transport.error());
  r->transport = std::move(*transport);
  // The queue's epoch makes batch ids of this queue file unlike those of any earlier one.
  r->encoder = std::make_unique<BatchEncoder>(AgentIdentity{r->agent_id, hostName(), T0W_VERSION},
                                              queue.epoch());
  ShipperOptions so;
  so.max_events = static_cast<size_t>(c.batch_max_events);
  so.max_bytes = static_cast<size_t>(c.batch_max_bytes);
  so.max_delay = milliseconds(c.batch_max_delay_ms);
  so.request_timeout = milliseconds(c.request_timeout_ms);
  so.collector_url = c.url.ends_with('/') ? c.url.substr(0, c.url.size() - 1) : c.url;
  so.lease_duration = std::max(milliseconds(60'000), 4 * so.request_timeout);
  // A site enrolment secret is exchanged for the agent's own credential at the first upload.
  CredentialOptions co;
  co.configured = *token;
  co.credential_file = c.state_dir / "agent.credential";
  co.agent = AgentIdentity{r->agent_id, hostName(), T0W_VERSION};
  co.timeout = so.request_timeout;
  r->credentials = std::make_unique<Credentials>(std::move(co), *r->transport);
  so.credentials = r->credentials.get();
  so.retry_budget = c.retry_budget;
  so.backoff.base = milliseconds(c.backoff_base_ms);
  so.backoff.cap = milliseconds(c.backoff_cap_ms);
  so.auth_pause = milliseconds(c.auth_pause_ms);
  r->shipper =
      std::make_unique<Shipper>(queue, *r->transport, *r->encoder, so, r->clock, r->random);

  PipelineOptions po;
  po.clock = &r->clock;
  po.status_board = &r->source_status;
#ifdef _WIN32
  if (runningUnderWine()) {
    // Without a factory each eventlog source reports that the API is unavailable and ends.
    spdlog::warn(
        "running under Wine, whose wevtapi.dll aborts on EvtCreateBookmark: event log "
        "subscriptions are not started");
  } else {
    po.evt_api = [] { return makeWindowsEvtApi(); };
  }
#endif
  Shipper& shipper = *r->shipper;
  r->pipeline = std::make_unique<Pipeline>(
      r->sources, queue, r->rules.get(), r->metrics,
      [&shipper](size_t records, size_t bytes) { shipper.notifyEnqueued(records, bytes); }, po);

  // A queue file that had to be replaced is reported to the collector like any event.
  if (const auto& incident = queue.incident()) {
    spdlog::error("queue: {}", incident->message());
    if (!r->pipeline->store({incident->toRecord()}, Checkpoint{"agent", "queue-incident"},
                            nullptr)) {
      spdlog::error("queue: could not store the incident report");
    }
  }

  if (c.metrics_listen) {
    Running& run = *r;
    auto server = MetricsServer::start(c.metrics_listen->host, c.metrics_listen->port, [&run] {
      return run.metrics.prometheusText(queueStats(*run.queue), &run.shipper->counters());
    });
    if (!server) return fail(server.error());
    r->metrics_server = std::move(*server);
    std::ofstream(c.state_dir / "metrics.port", std::ios::trunc)
        << r->metrics_server->port() << "\n";
    spdlog::info("metrics: http://{}:{}/metrics", c.metrics_listen->host,
                 r->metrics_server->port());
  }

  Running& run = *r;
  r->shipper_thread = std::thread([&run] {
    run.shipper->run();
    std::lock_guard lock(run.shipper_mu);
    run.shipper_done = true;
    run.shipper_cv.notify_all();
  });
  r->pipeline->start();
  spdlog::info("agent {} running on {}: {} source(s), queue {} (epoch {})", r->agent_id, hostName(),
               r->sources.size(), c.queuePath().string(), queue.epoch());
  if (options_.exit_when_drained && hasLiveSource(r->sources)) {
    spdlog::warn("--exit-when-drained: event log subscriptions never end; running until stopped");
  }
  running_ = std::move(r);
  supervisor_ = std::thread([this] { supervise(); });
  return {};
}

void Agent::supervise() {
  Running& r = *running_;
  const AgentConfig& c = config_;
  EventQueue& queue = *r.queue;
  Pipeline& pipeline = *r.pipeline;
  Shipper& shipper = *r.shipper;

  // Wait for a stop request; log the counters periodically.
  auto next_log = r.clock.monotonic() + milliseconds(c.metrics_log_interval_ms);
  std::optional<milliseconds> flush_deadline;
  {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, milliseconds(100));
      if (stop_) break;
      lock.unlock();
      if (c.metrics_log_interval_ms > 0 && r.clock.monotonic() >= next_log) {
        spdlog::info("metrics: {}", r.metrics.logLine(queueStats(queue), &shipper.counters()));
        next_log = r.clock.monotonic() + milliseconds(c.metrics_log_interval_ms);
      }
      bool drained = false;
      if (options_.exit_when_drained && pipeline.finished()) {
        auto st = queue.stats();
        drained = st && st->events == 0;
      }
      lock.lock();
      if (drained) break;
    }
    flush_deadline = flush_deadline_;
  }

  // Shutdown: collectors first (their reads are stored), then flush within the deadline.
  const milliseconds budget = flush_deadline.value_or(milliseconds(c.shutdown_deadline_ms));
  const auto deadline = r.clock.monotonic() + budget;
  spdlog::info("stopping: collectors first, then flushing the queue (deadline {} ms)",
               budget.count());
  pipeline.stop();
  pipeline.join();
  shipper.stop();
  {
    std::unique_lock lock(r.shipper_mu);
    if (!r.shipper_cv.wait_until(lock, deadline, [&] { return r.shipper_done; })) {
      // An upload is still in flight (a server that hangs). Everything committed is durable:
      // ending the process now is what a crash after the last commit is, which the queue is
      // built for; the rows of that upload ship again at the next start.
      auto st = queueStats(queue);
      spdlog::warn("shutdown deadline passed during an upload; exiting with {} records queued",
                   st ? st->events : 0);
      if (options_.before_forced_exit) options_.before_forced_exit();
      spdlog::shutdown();
      std::_Exit(0);
    }
  }
  r.shipper_thread.join();
  shipper.drain(deadline);

  AgentRunReport report;
  report.events_in = r.metrics.enqueued_records;
  report.shipped = shipper.counters().records_shipped;
  report.gaps = pipeline.gaps();
  auto st = queueStats(queue);
  report.left_in_queue = st ? st->events : 0;
  report.deadline_passed = r.clock.monotonic() >= deadline;
  spdlog::info("metrics: {}", r.metrics.logLine(st, &shipper.counters()));
  spdlog::info("stopped: {} records shipped this run, {} left in the queue for the next start",
               report.shipped, report.left_in_queue);
  report_ = report;
}

Result<AgentRunReport> Agent::wait() {
  if (start_error_) return *start_error_;
  if (waited_) return *report_;
  if (!running_) return makeError(Errc::kInvalidArgument, "Agent::wait() before start()");
  supervisor_.join();
  waited_ = true;
  running_.reset();  // closes the queue: the agent has stopped
  return *report_;
}

Result<AgentRunReport> Agent::run() {
  if (auto started = start(); !started) return started.error();
  return wait();
}

}  // namespace t0w
