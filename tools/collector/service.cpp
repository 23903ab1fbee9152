#include "tools/collector/service.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <csignal>
#include <filesystem>

#include "tools/collector/notifier.h"
#include "tools/collector/tls_setup.h"

namespace t0w::collector {

Result<std::unique_ptr<CollectorService>> CollectorService::create(const CollectorConfig& config) {
  std::unique_ptr<CollectorService> s(new CollectorService(config));
  if (Status st = createPrivateDirectory(config.state_dir); !st) return st.error();
  auto storage =
      openStorage(config.storage_driver, config.storageTarget(),
                  StorageOptions{config.sqlite_synchronous == "full", config.search_index});
  if (!storage) return storage.error();
  s->storage_ = std::move(*storage);
  auto tls = makeServerTls(config);
  if (!tls) return tls.error();
  s->tls_ = std::move(*tls);
  std::vector<std::string> outputs;
  if (config.splunk.enabled) {
    auto out = makeSplunkOutput(config.splunk);
    if (!out) return out.error();
    outputs.push_back((*out)->name());
    s->forwarders_.push_back(
        std::make_unique<ForwardLoop>(*s->storage_, s->metrics_, std::move(*out),
                                      config.splunk.batch_size, config.forward_claim_seconds));
  }
  if (config.syslog.enabled) {
    auto out = makeSyslogOutput(config.syslog);
    if (!out) return out.error();
    outputs.push_back((*out)->name());
    s->forwarders_.push_back(
        std::make_unique<ForwardLoop>(*s->storage_, s->metrics_, std::move(*out),
                                      config.syslog.batch_size, config.forward_claim_seconds));
  }
  if (config.webhook.enabled) {
    auto out = makeWebhookOutput(config.webhook);
    if (!out) return out.error();
    outputs.push_back((*out)->name());
    s->forwarders_.push_back(
        std::make_unique<ForwardLoop>(*s->storage_, s->metrics_, std::move(*out),
                                      config.webhook.batch_size, config.forward_claim_seconds));
  }
  s->notifier_ = std::make_unique<HealthNotifier>(*s->storage_, outputs);
  Storage* st = s->storage_.get();
  s->metrics_.setGaugeSource([st, outputs] {
    std::map<std::string, int64_t> depth;
    for (const auto& o : outputs) {
      auto n = st->forwardDepth(o);
      if (n) depth[o] = *n;
    }
    return depth;
  });
  s->app_ = std::make_unique<CollectorApp>(s->config_, *s->storage_, s->metrics_, outputs);
  ServerLimits limits;
  limits.max_header_bytes = static_cast<size_t>(config.max_header_bytes);
  limits.max_body_bytes = static_cast<size_t>(config.max_body_bytes);
  limits.max_api_body_bytes = static_cast<size_t>(config.max_api_body_bytes);
  limits.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  limits.request_timeout = std::chrono::seconds(config.request_timeout_seconds);
  limits.handshake_timeout = std::chrono::seconds(config.handshake_timeout_seconds);
  limits.max_connections = static_cast<size_t>(config.max_connections);
  limits.max_connections_per_ip = static_cast<size_t>(config.max_connections_per_ip);
  limits.worker_threads = static_cast<size_t>(config.worker_threads);
  CollectorApp* app = s->app_.get();
  s->server_ = std::make_unique<HttpsServer>(
      s->ioc_, *s->tls_, limits,
      [app](const Request& req, const RequestContext& ctx) { return app->handle(req, ctx); },
      s->metrics_,
      [app](const Request& head, const RequestContext& ctx) { return app->beforeBody(head, ctx); });
  return s;
}

CollectorService::~CollectorService() { stop(); }

namespace {

// An instance id is "host:pid:tag". A holder on this host whose process is gone (a crash, a
// SIGKILL) gets nothing done with its leases and claims: they are released at once instead of
// when they run out. A pid reused by another process only keeps them until they run out.
bool deadOnThisHost(const std::string& holder) {
  const size_t a = holder.find(':');
  const size_t b = holder.find(':', a == std::string::npos ? a : a + 1);
  if (a == std::string::npos || b == std::string::npos) return false;
  char host[256] = {};
  (void)gethostname(host, sizeof(host) - 1);
  if (holder.substr(0, a) != host) return false;
  const std::string pid_text = holder.substr(a + 1, b - a - 1);
  if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const long pid = std::stol(pid_text);
  if (pid <= 0 || pid == static_cast<long>(getpid())) return false;
  return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

Result<uint16_t> CollectorService::start() {
  if (auto held = storage_->holders(); held) {
    for (const std::string& h : *held) {
      if (!deadOnThisHost(h)) continue;
      if (Status s = storage_->releaseHolder(h); s) {
        spdlog::info("released the leases and forward claims of {} (its process is gone)", h);
      }
    }
  }
  auto port = server_->listen(config_.listen_address, static_cast<uint16_t>(config_.listen_port));
  if (!port) return port.error();
  started_ = true;
  for (int i = 0; i < config_.threads; ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
  for (auto& f : forwarders_) f->start();
  retention_ = std::thread([this] { retentionLoop(); });
  health_ = std::thread([this] { healthLoop(); });
  spdlog::info("tier0watch-collector listening on https://{}:{} (storage: {}, instance {})",
               config_.listen_address, *port, storage_->driver(), storage_->instanceId());
  return port;
}

void CollectorService::retentionLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    std::optional<int64_t> older;
    if (config_.retention_max_age_days > 0) {
      older = systemNowMicros() - int64_t{config_.retention_max_age_days} * 86400 * 1'000'000;
    }
    // One instance of those sharing the database applies retention (two would each delete the
    // same excess); the lease outlives a round and passes on when its holder stops renewing.
    const int64_t now = systemNowMicros();
    auto leader = storage_->holdLease(
        "retention", now, now + int64_t{config_.retention_interval_seconds} * 2 * 1'000'000);
    Result<RetentionResult> r = RetentionResult{};
    if (!leader) {
      r = leader.error();
    } else if (*leader) {
      r = storage_->applyRetention(older, config_.retention_max_bytes,
                                   config_.retention_max_bytes_per_agent);
    }
    if (!r) {
      ++metrics_.storage_errors;
      spdlog::error("retention: {}", r.error().toString());
    } else if (r->deleted > 0) {
      spdlog::info("retention: deleted {} records ({} of agents over their quota)", r->deleted,
                   r->quota_deleted);
    }
    lock.lock();
    wake_.wait_for(lock, std::chrono::seconds(config_.retention_interval_seconds),
                   [&] { return stopping_; });
  }
}

// Health issues: evaluated every health.evaluate_interval_seconds (agent_silent needs a clock,
// not an arrival); what opened or closed goes to the webhook and the SIEM outputs.
void CollectorService::healthLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    // One instance evaluates for the fleet (two would open the same issue twice and notify it
    // twice). Its lease lasts three rounds: when it stops, another instance takes over within
    // 3 x evaluate_interval_seconds.
    const int64_t now = systemNowMicros();
    auto leader = storage_->holdLease(
        "health", now, now + int64_t{config_.health.evaluate_interval_seconds} * 3 * 1'000'000);
    Result<std::vector<HealthChange>> changes = std::vector<HealthChange>{};
    if (!leader) {
      changes = leader.error();
    } else if (*leader) {
      changes = app_->healthTracker().evaluate(systemNowMicros());
    }
    if (!changes) {
      ++metrics_.storage_errors;
      spdlog::error("health: {}", changes.error().toString());
    } else if (!changes->empty()) {
      if (Status s = notifier_->notify(*changes, systemNowMicros()); !s) {
        ++metrics_.storage_errors;
        spdlog::error("health notifications: {}", s.error().toString());
      }
      for (auto& f : forwarders_) f->notify();
    }
    lock.lock();
    wake_.wait_for(lock, std::chrono::seconds(config_.health.evaluate_interval_seconds),
                   [&] { return stopping_; });
  }
}

void CollectorService::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (!started_) return;
  server_->stopAccepting();
  // Requests in flight finish; idle keep-alive connections are simply dropped.
  for (int i = 0; i < 1000 && server_->inFlight() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& f : forwarders_) f->stop();
  if (retention_.joinable()) retention_.join();
  if (health_.joinable()) health_.join();
  // Nothing of this instance is in flight now: another takes over its work at once.
  if (Status s = storage_->releaseInstance(); !s) {
    spdlog::warn("stop: leases and claims not released (they run out): {}", s.error().toString());
  }
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  server_->joinWorkers();
  spdlog::info("tier0watch-collector stopped");
}

void CollectorService::runUntilSignal() {
  boost::asio::io_context sig_ioc;
  boost::asio::signal_set signals(sig_ioc, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
  });
  sig_ioc.run();
  stop();
}

}  // namespace t0w::collector
