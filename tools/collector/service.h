// CollectorService: a running collector (storage, TLS listener on its threads, retention timer,
// SIEM forward loops). main() runs one until SIGTERM/SIGINT; the integration tests run one
// in-process on port 0.
#pragma once

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/core/result.h"
#include "tools/collector/collector_app.h"
#include "tools/collector/config.h"
#include "tools/collector/forwarder.h"
#include "tools/collector/http_server.h"
#include "tools/collector/metrics.h"
#include "tools/collector/notifier.h"
#include "tools/collector/storage.h"

namespace t0w::collector {

class CollectorService {
 public:
  static Result<std::unique_ptr<CollectorService>> create(const CollectorConfig& config);
  ~CollectorService();

  // Listens and starts the worker threads; returns the bound port.
  Result<uint16_t> start();
  // Graceful: stops accepting, lets requests in flight finish (up to 10 s), stops the forward
  // loops and the retention timer, then the threads.
  void stop();
  // Blocks until SIGTERM or SIGINT, then stop().
  void runUntilSignal();

  Storage& storage() { return *storage_; }
  Metrics& metrics() { return metrics_; }
  const CollectorConfig& config() const { return config_; }

 private:
  explicit CollectorService(const CollectorConfig& config) : config_(config) {}
  void retentionLoop();
  void healthLoop();

  CollectorConfig config_;
  Metrics metrics_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::unique_ptr<CollectorApp> app_;
  boost::asio::io_context ioc_;
  std::unique_ptr<HttpsServer> server_;
  std::vector<std::unique_ptr<ForwardLoop>> forwarders_;
  std::vector<std::thread> threads_;
  std::thread retention_;
  std::thread health_;
  std::unique_ptr<HealthNotifier> notifier_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool started_ = false;
};

}  // namespace t0w::collector
