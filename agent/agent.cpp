#include "agent/agent.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "agent/config/config_source.h"
#include "agent/metrics/agent_metrics.h"
#include "agent/metrics/heartbeat.h"
#include "agent/metrics/load_governor.h"
#include "agent/metrics/metrics_server.h"
#include "agent/metrics/process_usage.h"
#include "agent/pipeline/pipeline.h"
#include "agent/platform/host_info.h"
#include "agent/queue/event_queue.h"
#include "agent/rules/audit_prerequisites.h"
#include "agent/rules/pack_coverage.h"
#include "agent/rules/rule_set.h"
#include "agent/rules/rule_sources.h"
#include "agent/shipper/credentials.h"
#include "agent/shipper/shipper.h"
#include "agent/shipper/transport_factory.h"
#include "collectors/eventlog/evt_api.h"
#include "collectors/registry.h"
#include "common/core/std_random.h"
#include "common/wire/batch_encoder.h"

#ifndef T0W_VERSION
#define T0W_VERSION "unknown"
#endif

namespace t0w {
namespace {

using std::chrono::milliseconds;

std::optional<QueueStats> queueStats(EventQueue& queue) {
  auto st = queue.stats();
  if (!st) return std::nullopt;
  return *st;
}

bool hasLiveSource(const std::vector<SourceConfig>& sources) {
  for (const auto& s : sources) {
    if (!sourceTraits(s.type).ends) return true;
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
  std::chrono::system_clock::time_point started = clock.now();
  std::unique_ptr<ProcessUsage> usage = makeProcessUsage();
  std::unique_ptr<LoadGovernor> governor;
  std::string config_digest;
  uint64_t rules_loaded = 0;
  std::vector<std::string> rules_rejected;
  std::optional<std::vector<RuleBlocker>> audit;    // rules that cannot fire (Windows check)
  std::unique_ptr<AuditPolicyReader> audit_reader;  // null where the platform has none
  std::vector<RuleNeeds> rule_needs;
  uint64_t heartbeat_seq = 0;
  uint64_t heartbeats_skipped = 0;
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
    rule_sources.cache_file = c.state_dir / "rule-cache.bin";
    rule_sources.cache_stamp = executableStamp(T0W_VERSION);
    LoadedRuleSet loaded = loadRuleSources(rule_sources);
    loaded.rules->setMinimumAlertLevel(alertLevelRank(c.rule_min_alert_level));
    if (!loaded.cache_problem.empty())
      spdlog::warn("rule cache: {}; rules parsed from their files", loaded.cache_problem);
    const RuleLoadReport& report = loaded.report;
    for (const auto& issue : report.rejected) {
      spdlog::warn("rule rejected: {}: {}", issue.file, issue.message);
    }
    for (const auto& pack : loaded.packs) {
      spdlog::info("rule pack {}: {}", pack.name, pack.dir.string());
    }
    spdlog::info("rules: {} loaded from {} files ({} rejected, {} for other log sources)",
                 report.loaded, report.files, report.rejected.size(), report.out_of_scope);
    r->audit_reader = makeAuditPolicyReader();
    if (r->audit_reader) {
      // What each rule needs of the host, for the audit prerequisite check (Windows).
      for (const auto& rule : computeCoverage(loaded, {}).rules) {
        RuleNeeds needs{rule.title + " (" + rule.id + ")", rule.prereqs, {}};
        for (const auto& ch : rule.channels) {
          if (ch.rfind("provider ", 0) != 0 && ch != "any log") needs.channels.push_back(ch);
        }
        r->rule_needs.push_back(std::move(needs));
      }
    }
    r->rules = std::move(loaded.rules);
    r->rules_loaded = report.loaded;
    for (const auto& issue : report.rejected) {
      r->rules_rejected.push_back(issue.file + ": " + issue.message);
    }
  }
  {
    std::string settings;
    for (const auto& s : effectiveSettings(c)) settings += s.key + "=" + s.value.dump() + "\n";
    r->config_digest = configDigest(settings);
  }
  LoadCeilings ceilings;
  ceilings.cpu_percent = c.max_cpu_percent;
  ceilings.memory_bytes = static_cast<uint64_t>(c.max_memory_mb) << 20;
  r->governor = std::make_unique<LoadGovernor>(ceilings);

  // Upload stack: the platform's transport (transport_factory.h).
  auto transport = makeTransport(c, std::string("Tier0Watch/") + T0W_VERSION);
  if (!transport) return fail(transport.error());
  r->transport = std::move(*transport);
  // The queue's epoch makes batch ids of this queue file unlike those of any earlier one.
  // gzip (v2) only reaches collectors older than v3 and the first batch before any answer:
  // level 1 costs half of level 6 for a ratio of about 10 instead of 12.5 (docs/adr/0005).
  r->encoder = std::make_unique<BatchEncoder>(AgentIdentity{r->agent_id, hostName(), T0W_VERSION},
                                              queue.epoch(), 1);
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
  po.sources.clock = &r->clock;
  po.sources.board = &r->source_status;
  po.sources.computer = hostName();  // trace-file events carry no Computer of their own
  po.load_throttle = r->governor.get();
#ifdef _WIN32
  if (runningUnderWine()) {
    // Without a factory each eventlog source reports that the API is unavailable and ends.
    spdlog::warn(
        "running under Wine, whose wevtapi.dll aborts on EvtCreateBookmark: event log "
        "subscriptions are not started");
  } else {
    po.sources.evt_api = [] { return makeWindowsEvtApi(); };
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
    spdlog::warn(
        "--exit-when-drained: event log subscriptions and trace files never end; running until "
        "stopped");
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

  // Wait for a stop request; log the counters periodically; sample the agent's own load every
  // second and send a heartbeat every status_interval_ms (the first one at once).
  auto next_log = r.clock.monotonic() + milliseconds(c.metrics_log_interval_ms);
  auto next_sample = r.clock.monotonic();
  auto next_heartbeat = r.clock.monotonic();
  auto next_audit = r.clock.monotonic();  // at start, then daily
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
      if (r.clock.monotonic() >= next_sample) {
        if (auto sample = r.usage->sample()) r.governor->observe(*sample, r.clock.monotonic());
        next_sample = r.clock.monotonic() + milliseconds(1000);
      }
      if (r.audit_reader && r.clock.monotonic() >= next_audit) {
        checkAudit();
        next_audit = r.clock.monotonic() + std::chrono::hours(24);
      }
      if (r.clock.monotonic() >= next_heartbeat) {
        heartbeat();
        next_heartbeat = r.clock.monotonic() + milliseconds(c.status_interval_ms);
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

void Agent::checkAudit() {
  Running& r = *running_;
  std::vector<std::string> subscribed;
  for (const auto& s : r.sources) {
    if (s.type == SourceType::kEventlog) subscribed.push_back(s.channel);
  }
  auto blocked = checkAuditPrerequisites(r.rule_needs, subscribed, *r.audit_reader);
  for (const auto& b : blocked)
    spdlog::warn("rule cannot fire on this host: {}: {}", b.rule, b.reason);
  spdlog::info("audit prerequisites: {} of {} rules cannot fire on this host", blocked.size(),
               r.rule_needs.size());
  r.audit = std::move(blocked);
}

void Agent::heartbeat() {
  Running& r = *running_;
  HeartbeatInputs in;
  in.version = T0W_VERSION;
  in.now = r.clock.now();
  in.started = r.started;
  in.config_digest = r.config_digest;
  in.config_origin = !options_.config_origin.empty() ? options_.config_origin
                     : !config_.config_file.empty()  ? "file"
                                                     : "defaults";
  in.sources = r.source_status.snapshot();
  in.queue = queueStats(*r.queue);
  in.queue_max_bytes = static_cast<uint64_t>(config_.queue_max_bytes);
  in.gaps = r.pipeline->gaps();
  in.dead_lettered_batches = r.shipper->counters().dead_lettered_batches;
  in.rules_loaded = r.rules_loaded;
  in.rules_rejected = r.rules_rejected;
  in.process = r.usage->sample();
  in.load = r.governor->state();
  in.ceilings = r.governor->ceilings();
  if (r.shipper->counters().clock_offset_known.load()) {
    in.clock_offset_ms = r.shipper->counters().clock_offset_ms.load();
  }
  in.audit = r.audit;
  in.heartbeats_skipped = r.heartbeats_skipped;
  const auto body = buildHeartbeat(in);
  const std::string text =
      body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  // The latest snapshot for `tier0watch status`, whatever the queue's state.
  if (Status s = r.queue->putStatus("agent.heartbeat", text); !s) {
    spdlog::warn("heartbeat: cannot store the status snapshot: {}", s.error().toString());
  }
  // Priority lane: shipped before events, never dropped to make room; a full queue with
  // pause_sources refuses it, and the next one (which counts the skip) tries again.
  const int64_t run_id =
      std::chrono::duration_cast<milliseconds>(r.started.time_since_epoch()).count();
  QueueRecord record = heartbeatRecord(body, run_id, ++r.heartbeat_seq, in.now);
  // Near the cap a heartbeat would displace events (drop_oldest): it is skipped instead and
  // counted; its counters are cumulative, so the next one that fits carries them all.
  const double cap = static_cast<double>(config_.queue_max_bytes);
  if (in.queue && static_cast<double>(in.queue->stored_bytes + record.body.size()) > 0.9 * cap) {
    ++r.heartbeats_skipped;
    return;
  }
  auto stored = r.queue->enqueue(std::span(&record, 1), Checkpoint{"agent.heartbeat", record.key});
  if (stored && stored->stored()) {
    r.shipper->notifyEnqueued(1, record.body.size());
  } else {
    ++r.heartbeats_skipped;
    spdlog::warn("heartbeat: not queued ({})",
                 stored ? std::string("queue full") : stored.error().toString());
  }
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
