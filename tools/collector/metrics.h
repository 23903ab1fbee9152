// Metrics: the collector's counters, rendered in the Prometheus text exposition format.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace t0w::collector {

class Metrics {
 public:
  void countRequest(int status);
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> duplicate_batches{0};
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> alerts{0};
  std::atomic<uint64_t> dedup_hits{0};
  std::atomic<uint64_t> conflicts{0};
  std::atomic<uint64_t> enrollments{0};
  std::atomic<uint64_t> enrollment_refusals{0};
  std::atomic<uint64_t> storage_errors{0};
  std::atomic<uint64_t> rejected_connections{0};
  // Uploads refused by their headers (credential, method) before their body was read.
  std::atomic<uint64_t> refused_before_body{0};
  std::atomic<uint64_t> tls_handshake_failures{0};
  std::atomic<uint64_t> forwarded{0};
  std::atomic<uint64_t> forward_errors{0};
  std::atomic<int64_t> open_connections{0};

  // Gauges computed at scrape time (forward queue depth per output).
  void setGaugeSource(std::function<std::map<std::string, int64_t>()> source);

  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<int, uint64_t> requests_by_status_;
  std::function<std::map<std::string, int64_t>()> queue_depth_;
};

}  // namespace t0w::collector
