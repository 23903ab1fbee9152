// SIEM outputs. Each output has its own durable queue (forward_queue rows written in the same
// transaction as the records), drained by a ForwardLoop thread: rows are deleted only after the
// SIEM accepted them, so an outage delays delivery but loses nothing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/core/result.h"
#include "tools/collector/config.h"
#include "tools/collector/metrics.h"
#include "tools/collector/storage.h"

namespace t0w::collector {

class Output {
 public:
  virtual ~Output() = default;
  virtual const std::string& name() const = 0;
  // Delivers the payloads (forward_queue rows) in order; fails as a whole.
  virtual Status deliver(const std::vector<ForwardItem>& items) = 0;
};

// Splunk HTTP Event Collector: POST <url>/services/collector/event, Authorization: Splunk <token>.
Result<std::unique_ptr<Output>> makeSplunkOutput(const SplunkOutputConfig& config);
// RFC 5424 messages over TLS with RFC 5425 octet-counting framing.
Result<std::unique_ptr<Output>> makeSyslogOutput(const SyslogOutputConfig& config);

// The RFC 5424 message for one forward_queue payload (exposed for tests).
std::string syslogMessage(const std::string& payload, const std::string& app_name);

class ForwardLoop {
 public:
  // claim_seconds: how long this instance holds the rows it is sending (forward.claim_seconds).
  ForwardLoop(Storage& storage, Metrics& metrics, std::unique_ptr<Output> output, int batch_size,
              int claim_seconds = 120);
  ~ForwardLoop();
  void start();
  void stop();
  // Wakes the loop early (new rows were queued).
  void notify();

 private:
  void run();
  Storage& storage_;
  Metrics& metrics_;
  std::unique_ptr<Output> output_;
  int batch_size_;
  int64_t claim_micros_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool pending_ = false;
  std::thread thread_;
};

}  // namespace t0w::collector
