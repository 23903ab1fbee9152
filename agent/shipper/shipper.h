// Shipper: the upload loop. reserve → encode (batch id = agent id + queue epoch + sequence) →
// Transport::send → act on the outcome class (outcome.h):
//   2xx          ack the lease
//   408/429/5xx  release(count_retry) and back off (Retry-After as a floor); after
//                `retry_budget` failures of the same batch, dead-letter it (0: never)
//   transport    release without spending the retry budget, back off; so is any answer
//                without the collector's protocol header (a proxy's 404/405/502, a web
//                server's 200), logged with the URL and counted in non_collector_answers
//   413          split the batch in halves (each half its own batch id) down to one record;
//                a single record still refused by the collector is dead-lettered with its lease
//   401/403      release, pause for `auth_pause` and report
//   4xx + Tier0Watch-Refusal: batch   dead-letter (the collector refused the content)
//   other 4xx from the collector      release, pause (the URL or configuration is wrong)
// Encoding: until a collector answer says it reads tier0watch.batch/3 (Tier0Watch-Collector: 3
// or more), batches go as v2 + gzip, decoded from the chunks; from then on a lease's chunks go as
// stored (v3 + zstd, compressed once when queued) and only a 413 split decodes them.
// shipOnce() does one lease and returns what should happen next, so that unit tests drive it with
// a fake Transport, Clock and Random and never sleep; run() is the thread loop around it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "agent/queue/event_queue.h"
#include "agent/shipper/backoff.h"
#include "agent/shipper/credentials.h"
#include "agent/shipper/outcome.h"
#include "common/core/clock.h"
#include "common/core/result.h"
#include "common/http/transport.h"
#include "common/wire/batch_encoder.h"

namespace t0w {

struct ShipperOptions {
  size_t max_events = 5000;
  size_t max_bytes = 8 << 20;
  std::chrono::milliseconds max_delay{1000};
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds lease_duration{300'000};
  std::string path = "/api/v1/batches";
  std::string collector_url;  // base URL, for log lines only
  std::string bearer_token;   // never logged
  // When set, the token comes from here (a site secret is exchanged for the agent's own
  // credential at the first upload); bearer_token is then unused.
  Credentials* credentials = nullptr;
  int64_t retry_budget = 0;
  BackoffPolicy backoff;
  std::chrono::milliseconds auth_pause{600'000};
  // After this many acknowledged batches in a row at a size reduced by 413, the size doubles
  // again (towards max_events).
  int regrow_after = 32;
};

// Counters for metrics and the periodic log line; read from any thread.
struct ShipperCounters {
  std::atomic<uint64_t> batches_sent{0};  // HTTP requests made (any outcome)
  std::atomic<uint64_t> batches_acked{0};
  std::atomic<uint64_t> records_shipped{0};  // records in acknowledged leases
  std::atomic<uint64_t> retries{0};          // retryable statuses (budget spent)
  std::atomic<uint64_t> transport_errors{0};
  // Of those: answers without the collector's protocol header (a proxy or another server).
  std::atomic<uint64_t> non_collector_answers{0};
  std::atomic<uint64_t> splits{0};  // 413 answers
  std::atomic<uint64_t> dead_lettered_batches{0};
  std::atomic<uint64_t> dead_lettered_records{0};
  std::atomic<uint64_t> auth_pauses{0};
  std::atomic<uint64_t> enrolment_failures{0};
  std::atomic<uint64_t> queue_errors{0};
  // Collector clock minus agent clock (ms), from "server_time_ms" of the last accepted batch's
  // answer, taken at the midpoint of the exchange; known once one batch was accepted.
  std::atomic<int64_t> clock_offset_ms{0};
  std::atomic<bool> clock_offset_known{false};
};

class Shipper {
 public:
  Shipper(EventQueue& queue, Transport& transport, const BatchEncoder& encoder,
          ShipperOptions options, const Clock& clock, Random& random);

  struct Step {
    enum class Kind {
      kIdle,     // nothing to ship
      kShipped,  // a lease was delivered (or dead-lettered): try again at once if `full`
      kBackoff,  // a failure: wait `delay` before the next attempt
      kPaused,   // 401/403 or misdirected: wait `delay`
    };
    Kind kind = Kind::kIdle;
    std::chrono::milliseconds delay{0};
    bool full = false;  // the lease hit max_events / max_bytes: more is probably waiting
    size_t records = 0;
  };

  // One lease, start to finish. `deadline` (monotonic) bounds each request's timeout during a
  // shutdown flush. Errors are queue failures (the lease, if any, is left to expire).
  Result<Step> shipOnce(std::optional<std::chrono::steady_clock::time_point> deadline = {});

  // The thread loop: ships when max_events / max_bytes are pending or the oldest pending record
  // waited max_delay, backs off on failures; returns after stop().
  void run();
  // Called by the pipeline after each committed enqueue.
  void notifyEnqueued(size_t records, size_t bytes);
  void stop();
  // Shutdown flush (after run() returned): ships until the queue is empty, the collector fails,
  // or the deadline passes. Returns the number of records delivered.
  uint64_t drain(std::chrono::steady_clock::time_point deadline);

  const ShipperCounters& counters() const { return counters_; }
  size_t currentBatchLimit() const { return limit_; }

 private:
  Step failure(const Lease& lease, const Outcome& outcome, uint64_t sent_records);
  // No token (enrolment failed): nothing was leased; back off or pause.
  Step credentialFailure(const Outcome& outcome);
  void recordStatus(const Outcome& outcome, const std::string& batch_id, size_t records);
  // The collector's wire version from an answer's Tier0Watch-Collector header.
  void noteCollectorVersion(const TransportResult& result);
  TransportResult sendStored(int64_t sequence, const Lease& lease,
                             std::optional<std::chrono::steady_clock::time_point> deadline,
                             const std::string& bearer, std::string& batch_id,
                             Status& encode_status);
  TransportResult send(HttpRequest request, const std::string& content_encoding,
                       std::optional<std::chrono::steady_clock::time_point> deadline);
  TransportResult sendRecords(int64_t sequence, std::span<const QueueRecord> records,
                              std::optional<std::chrono::steady_clock::time_point> deadline,
                              const std::string& bearer, std::string& batch_id,
                              Status& encode_status);
  void wait(std::chrono::milliseconds delay);
  void noteServerTime(const std::string& body, std::chrono::system_clock::time_point sent,
                      std::chrono::system_clock::time_point received);

  EventQueue& queue_;
  Transport& transport_;
  const BatchEncoder& encoder_;
  ShipperOptions options_;
  const Clock& clock_;
  Backoff backoff_;
  ShipperCounters counters_;
  size_t limit_;  // max events per batch now (halved by 413)
  int acks_at_limit_ = 0;
  int64_t failing_chunk_ = -1;    // first chunk of the batch that failed last
  int64_t failures_ = 0;          // budget-spending failures of that batch in a row
  int collector_version_ = 0;     // 0 until an answer names it
  bool collector_known_ = false;  // an answer carried the collector's header

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint64_t pending_records_ = 0;  // notified since the last lease took them
  uint64_t pending_bytes_ = 0;
  std::chrono::steady_clock::time_point first_pending_{};
};

}  // namespace t0w
