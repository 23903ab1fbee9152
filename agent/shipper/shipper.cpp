#include "agent/shipper/shipper.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <nlohmann/json.hpp>

#include "agent/queue/chunk_codec.h"
#include "common/core/check.h"
#include "common/wire/wire_protocol.h"

namespace t0w {
namespace {

using std::chrono::milliseconds;
using Kind = Shipper::Step::Kind;

// The request was not sent: its batch could not be encoded (the caller dead-letters it).
TransportResult notEncoded(const Error& e, Status& encode_status) {
  encode_status = e;
  return TransportError{TransportErrorKind::kOther, e.toString()};
}

struct Range {
  size_t begin;
  size_t end;
  size_t size() const { return end - begin; }
};

}  // namespace

Shipper::Shipper(EventQueue& queue, Transport& transport, const BatchEncoder& encoder,
                 ShipperOptions options, const Clock& clock, Random& random)
    : queue_(queue),
      transport_(transport),
      encoder_(encoder),
      options_(std::move(options)),
      clock_(clock),
      backoff_(options_.backoff, random),
      limit_(std::max<size_t>(1, options_.max_events)) {}

void Shipper::recordStatus(const Outcome& outcome, const std::string& batch_id, size_t records) {
  nlohmann::json j;
  j["outcome"] = outcomeKindName(outcome.kind);
  j["status"] = outcome.status;
  j["detail"] = outcome.detail;
  j["batch_id"] = batch_id;
  j["records"] = records;
  j["time_ms"] = std::chrono::duration_cast<milliseconds>(clock_.now().time_since_epoch()).count();
  if (Status s = queue_.putStatus("shipper.last_outcome",
                                  j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      !s) {
    ++counters_.queue_errors;
    spdlog::warn("shipper: cannot store its status: {}", s.error().toString());
  }
}

void Shipper::noteCollectorVersion(const TransportResult& result) {
  if (!result.isResponse()) return;
  const auto value = result.response().header(kCollectorHeader);
  if (!value) return;  // not the collector (a proxy, another server): classifyOutcome says so
  collector_known_ = true;
  int version = 0;
  const auto* end = value->data() + value->size();
  if (std::from_chars(value->data(), end, version).ptr == end && version != collector_version_) {
    if (version >= 3 && collector_version_ < 3) {
      spdlog::info("shipper: the collector reads tier0watch.batch/{}: chunks go as stored (zstd)",
                   version);
    }
    collector_version_ = version;
  }
}

TransportResult Shipper::send(HttpRequest request, const std::string& content_encoding,
                              std::optional<std::chrono::steady_clock::time_point> deadline) {
  request.path = options_.path;
  request.headers = {{"Content-Type", "application/json"}, {"Content-Encoding", content_encoding}};
  request.timeout = options_.request_timeout;
  if (deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(*deadline - clock_.monotonic());
    request.timeout = std::clamp(left, milliseconds(1), options_.request_timeout);
  }
  ++counters_.batches_sent;
  const auto sent_at = clock_.now();
  TransportResult result = transport_.send(request);
  noteCollectorVersion(result);
  if (result.isResponse() && result.response().status / 100 == 2) {
    noteServerTime(result.response().body, sent_at, clock_.now());
  }
  return result;
}

TransportResult Shipper::sendStored(int64_t sequence, const Lease& lease,
                                    std::optional<std::chrono::steady_clock::time_point> deadline,
                                    const std::string& bearer, std::string& batch_id,
                                    Status& encode_status) {
  std::vector<StoredFragment> chunks;
  chunks.reserve(lease.chunks.size());
  for (const LeasedChunk& c : lease.chunks) chunks.push_back({c.payload, c.records, c.raw_bytes});
  auto batch = encoder_.encodeStoredV3(sequence, chunks);
  if (!batch) return notEncoded(batch.error(), encode_status);
  batch_id = batch->batch_id;
  HttpRequest request;
  request.bearer_token = bearer;
  request.body = std::move(batch->zstd);
  return send(std::move(request), "zstd", deadline);
}

TransportResult Shipper::sendRecords(int64_t sequence, std::span<const QueueRecord> records,
                                     std::optional<std::chrono::steady_clock::time_point> deadline,
                                     const std::string& bearer, std::string& batch_id,
                                     Status& encode_status) {
  HttpRequest request;
  request.bearer_token = bearer;
  if (collector_version_ >= 3) {
    auto batch = encoder_.encodeV3(sequence, records, 1);
    if (!batch) return notEncoded(batch.error(), encode_status);
    batch_id = batch->batch_id;
    request.body = std::move(batch->zstd);
    return send(std::move(request), "zstd", deadline);
  }
  // A collector older than v3 (or not yet heard from) reads v2 + gzip.
  auto batch = encoder_.encode(sequence, records);
  if (!batch) return notEncoded(batch.error(), encode_status);
  batch_id = batch->batch_id;
  request.body = std::move(batch->gzip);
  return send(std::move(request), "gzip", deadline);
}

void Shipper::noteServerTime(const std::string& body, std::chrono::system_clock::time_point sent,
                             std::chrono::system_clock::time_point received) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("server_time_ms") || !j["server_time_ms"].is_number_integer()) {
    return;
  }
  const auto mid = sent + (received - sent) / 2;
  const int64_t local = std::chrono::duration_cast<milliseconds>(mid.time_since_epoch()).count();
  counters_.clock_offset_ms = j["server_time_ms"].get<int64_t>() - local;
  counters_.clock_offset_known = true;
}

Shipper::Step Shipper::failure(const Lease& lease, const Outcome& outcome, uint64_t sent_records) {
  Step step;
  if (outcome.kind == OutcomeKind::kPauseAuth || outcome.kind == OutcomeKind::kPauseConfig) {
    ++counters_.auth_pauses;
    if (Status s = queue_.release(lease, false); !s) ++counters_.queue_errors;
    spdlog::error("shipper: the collector refused the agent ({}); pausing uploads for {} s",
                  outcome.detail, options_.auth_pause.count() / 1000);
    step.kind = Kind::kPaused;
    step.delay = options_.auth_pause;
    return step;
  }
  // kRetry: the collector (or the network) is in trouble, not the batch... unless the same batch
  // keeps failing past the budget.
  if (outcome.spends_retry_budget) {
    ++counters_.retries;
    const int64_t head = lease.chunk_ids.empty() ? -1 : lease.chunk_ids.front();
    failures_ = head == failing_chunk_ ? failures_ + 1 : 1;
    failing_chunk_ = head;
    if (options_.retry_budget > 0 && failures_ >= options_.retry_budget) {
      const std::string reason = "retry budget of " + std::to_string(options_.retry_budget) +
                                 " attempts spent; last: " + outcome.detail;
      if (Status s = queue_.deadLetter(lease, reason); !s) {
        ++counters_.queue_errors;
        spdlog::error("shipper: dead-letter failed: {}", s.error().toString());
      } else {
        ++counters_.dead_lettered_batches;
        counters_.dead_lettered_records += lease.record_count - sent_records;
        spdlog::error("shipper: dead-lettered {} records: {}", lease.record_count, reason);
      }
      failures_ = 0;
      failing_chunk_ = -1;
    } else if (Status s = queue_.release(lease, true); !s) {
      ++counters_.queue_errors;
    }
  } else {
    ++counters_.transport_errors;
    if (outcome.not_collector) ++counters_.non_collector_answers;
    if (Status s = queue_.release(lease, false); !s) ++counters_.queue_errors;
  }
  step.kind = Kind::kBackoff;
  step.delay = backoff_.next(outcome.retry_after);
  if (outcome.not_collector) {
    spdlog::error(
        "shipper: {}{} answered HTTP {} without the collector's {} header: a proxy or another "
        "server is in the way; {} records stay queued, next attempt in {} ms",
        options_.collector_url, options_.path, outcome.status, kCollectorHeader,
        lease.record_count - sent_records, step.delay.count());
  } else {
    spdlog::warn("shipper: upload failed ({}); next attempt in {} ms", outcome.detail,
                 step.delay.count());
  }
  return step;
}

Shipper::Step Shipper::credentialFailure(const Outcome& outcome) {
  ++counters_.enrolment_failures;
  Step step;
  if (outcome.kind == OutcomeKind::kRetry) {
    step.kind = Kind::kBackoff;
    step.delay = backoff_.next(outcome.retry_after);
    spdlog::warn("shipper: {}; next attempt in {} ms", outcome.detail, step.delay.count());
  } else {
    ++counters_.auth_pauses;
    step.kind = Kind::kPaused;
    step.delay = options_.auth_pause;
    spdlog::error("shipper: {}; pausing uploads for {} s (events stay queued)", outcome.detail,
                  options_.auth_pause.count() / 1000);
  }
  recordStatus(outcome, "", 0);
  return step;
}

Result<Shipper::Step> Shipper::shipOnce(
    std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::string bearer = options_.bearer_token;
  if (options_.credentials != nullptr) {
    auto token = options_.credentials->token(clock_.now());
    if (const auto* outcome = std::get_if<Outcome>(&token)) return credentialFailure(*outcome);
    bearer = std::move(std::get<std::string>(token));
  }
  // Until the collector's version is known a lease is decoded and sent as v2 + gzip, about
  // thirty times the cost of sending its stored chunks: that first lease is one chunk only.
  const size_t lease_limit = collector_known_ || !encoder_.writesV3() ? limit_ : 1;
  auto reserved = queue_.reserve(lease_limit, options_.max_bytes, options_.lease_duration,
                                 LeaseContent::kStoredChunks);
  if (!reserved) {
    ++counters_.queue_errors;
    return reserved.error();
  }
  const Lease& lease = *reserved;
  Step step;
  if (lease.empty()) return step;
  const size_t total = lease.record_count;
  step.records = total;
  step.full = total >= limit_ || lease.raw_bytes >= options_.max_bytes;

  // The whole lease goes as stored when the collector reads v3 and every chunk is in the wire
  // encoding; otherwise (and for the halves after a 413) it is decoded into records.
  bool as_stored = collector_version_ >= 3;
  for (const LeasedChunk& c : lease.chunks) as_stored = as_stored && isWireChunk(c.payload);
  std::vector<QueueRecord> records;
  auto decode = [&]() -> Status {
    if (!records.empty()) return {};
    auto decoded = decodeLease(lease);
    if (!decoded) return decoded.error();
    if (decoded->size() != total) {
      return makeError(Errc::kCorrupt, "lease holds " + std::to_string(decoded->size()) +
                                           " records, its rows say " + std::to_string(total));
    }
    records = std::move(*decoded);
    return {};
  };
  auto undecodable = [&](const Error& e) {
    // Checked by reserve(), so this is damage after the check: keep it for inspection.
    (void)queue_.deadLetter(lease, "cannot decode: " + e.message);
    ++counters_.dead_lettered_batches;
    counters_.dead_lettered_records += total;
    return step;
  };
  if (!as_stored) {
    if (Status s = decode(); !s) return undecodable(s.error());
  }

  // Ranges still to send; the first goes under the lease's own sequence, later ones (halves
  // after a 413) under fresh sequence numbers so that every batch id names one set of records.
  std::deque<Range> ranges{Range{0, total}};
  std::vector<std::string> refused;  // keys of single records the collector refused with 413
  bool first = true;
  uint64_t sent = 0;
  while (!ranges.empty()) {
    const Range r = ranges.front();
    // Halves of a range of two or more records are never empty, and a lease holds records.
    T0W_CHECK(r.size() > 0 && r.end <= total, "shipper: an empty or outside range");
    int64_t sequence = lease.id;
    if (!first) {
      auto seq = queue_.nextSequence();
      if (!seq) {
        ++counters_.queue_errors;
        (void)queue_.release(lease, false);
        return seq.error();
      }
      sequence = *seq;
    }
    const bool whole_as_stored = first && as_stored;
    first = false;
    std::string batch_id;
    Status encoded;
    const TransportResult result =
        whole_as_stored
            ? sendStored(sequence, lease, deadline, bearer, batch_id, encoded)
            : sendRecords(sequence,
                          std::span<const QueueRecord>(records).subspan(r.begin, r.size()),
                          deadline, bearer, batch_id, encoded);
    if (!encoded) {
      // A record the encoder cannot write will never ship: keep it for inspection.
      (void)queue_.deadLetter(lease, "cannot encode: " + encoded.error().message);
      ++counters_.dead_lettered_batches;
      counters_.dead_lettered_records += total;
      return step;
    }
    Outcome outcome = classifyOutcome(result, clock_.now(), batch_id);
    if (outcome.kind == OutcomeKind::kSplit && outcome.not_collector && r.size() == 1) {
      // A proxy's body limit: the record may pass another way; only the collector may refuse it.
      outcome.kind = OutcomeKind::kRetry;
    }
    recordStatus(outcome, batch_id, r.size());
    switch (outcome.kind) {
      case OutcomeKind::kAck:
        ranges.pop_front();
        sent += r.size();
        continue;
      case OutcomeKind::kSplit: {
        ++counters_.splits;
        ranges.pop_front();
        if (Status d = decode(); !d) return undecodable(d.error());
        if (r.size() > 1) {
          const size_t mid = r.begin + r.size() / 2;
          ranges.push_front(Range{mid, r.end});
          ranges.push_front(Range{r.begin, mid});
          limit_ = std::max<size_t>(1, std::min(limit_, r.size() / 2));
          acks_at_limit_ = 0;
          spdlog::info("shipper: collector answered 413 for {} records; sending halves", r.size());
        } else {
          refused.push_back(records[r.begin].key);
        }
        continue;
      }
      case OutcomeKind::kDeadLetter: {
        const std::string reason = "collector refused the batch: " + outcome.detail;
        if (Status s = queue_.deadLetter(lease, reason); !s) {
          ++counters_.queue_errors;
          return s.error();
        }
        ++counters_.dead_lettered_batches;
        counters_.dead_lettered_records += total - sent;
        spdlog::error("shipper: dead-lettered {} records ({})", total, reason);
        backoff_.reset();
        step.kind = Kind::kShipped;
        return step;
      }
      default:
        return failure(lease, outcome, sent);
    }
  }

  backoff_.reset();
  failures_ = 0;
  failing_chunk_ = -1;
  step.kind = Kind::kShipped;
  if (!refused.empty()) {
    // Everything else was delivered; the lease (with the refused records) goes to the dead-letter
    // table so that an operator can see what the collector would not take.
    std::string reason = "collector answered 413 to single records (too large):";
    for (size_t i = 0; i < refused.size() && i < 5; ++i) reason += " " + refused[i];
    if (refused.size() > 5) reason += " and " + std::to_string(refused.size() - 5) + " more";
    if (Status s = queue_.deadLetter(lease, reason); !s) {
      ++counters_.queue_errors;
      return s.error();
    }
    ++counters_.dead_lettered_batches;
    counters_.dead_lettered_records += refused.size();
    counters_.records_shipped += sent;
    spdlog::error("shipper: {}", reason);
    return step;
  }
  auto acked = queue_.ack(lease);
  if (!acked) {
    ++counters_.queue_errors;
    return acked.error();
  }
  ++counters_.batches_acked;
  counters_.records_shipped += *acked;
  if (limit_ < options_.max_events && ++acks_at_limit_ >= options_.regrow_after) {
    limit_ = std::min(options_.max_events, limit_ * 2);
    acks_at_limit_ = 0;
  }
  return step;
}

void Shipper::notifyEnqueued(size_t records, size_t bytes) {
  std::lock_guard lock(mu_);
  const bool first = pending_records_ == 0;
  if (first) first_pending_ = clock_.monotonic();
  pending_records_ += records;
  pending_bytes_ += bytes;
  // The first record starts the max_delay clock of a loop that sleeps without a deadline.
  if (first || pending_records_ >= limit_ || pending_bytes_ >= options_.max_bytes) {
    cv_.notify_all();
  }
}

void Shipper::stop() {
  std::lock_guard lock(mu_);
  stop_ = true;
  cv_.notify_all();
}

void Shipper::wait(milliseconds delay) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, delay, [&] { return stop_; });
}

void Shipper::run() {
  bool backlog = true;  // the queue may hold records from before a restart
  for (;;) {
    uint64_t taken = 0;
    {
      std::unique_lock lock(mu_);
      for (;;) {
        if (stop_) return;
        if (backlog || pending_records_ >= limit_ || pending_bytes_ >= options_.max_bytes) break;
        if (pending_records_ > 0) {
          const auto due = first_pending_ + options_.max_delay;
          if (clock_.monotonic() >= due) break;
          cv_.wait_until(lock, due);
        } else {
          cv_.wait(lock);
        }
      }
      taken = pending_records_;
    }
    auto step = shipOnce();
    if (!step) {
      spdlog::error("shipper: {}", step.error().toString());
      wait(milliseconds(1000));
      backlog = true;
      continue;
    }
    {
      std::lock_guard lock(mu_);
      pending_records_ -= std::min(pending_records_, taken);
      if (pending_records_ == 0) pending_bytes_ = 0;
      if (pending_records_ > 0) first_pending_ = clock_.monotonic();
    }
    switch (step->kind) {
      case Kind::kIdle:
        backlog = false;
        break;
      case Kind::kShipped:
        // Leases hold whole chunks, so a lease below the limits does not prove the queue is
        // empty: only an empty reserve does.
        backlog = true;
        break;
      case Kind::kBackoff:
      case Kind::kPaused:
        wait(step->delay);
        backlog = true;
        break;
    }
  }
}

uint64_t Shipper::drain(std::chrono::steady_clock::time_point deadline) {
  const uint64_t before = counters_.records_shipped;
  while (clock_.monotonic() < deadline) {
    auto step = shipOnce(deadline);
    if (!step) break;
    if (step->kind == Kind::kIdle) break;
    if (step->kind == Kind::kBackoff || step->kind == Kind::kPaused) {
      // Waiting out a backoff is only worth it when the deadline leaves time to try again.
      if (clock_.monotonic() + step->delay >= deadline) break;
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, step->delay);
    }
  }
  return counters_.records_shipped - before;
}

}  // namespace t0w
