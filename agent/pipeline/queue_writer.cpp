#include "agent/pipeline/queue_writer.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "agent/queue/chunk_codec.h"

namespace t0w {

bool QueueWriter::store(std::span<const QueueRecord> records, const Checkpoint& checkpoint,
                        SourceMetrics* source) {
  for (;;) {
    auto result = queue_.enqueue(records, checkpoint);
    if (!result) {
      if (result.error().code == Errc::kLimit && records.size() > 1) {
        // Larger than the whole cap: store it in halves, the first half without advancing the
        // checkpoint past records not yet stored.
        const auto first = records.first(records.size() / 2);
        const auto second = records.subspan(records.size() / 2);
        auto previous = queue_.checkpoint(checkpoint.source);
        // No checkpoint yet: an empty position reads as "from the beginning", which is right.
        Checkpoint keep{checkpoint.source, previous && *previous ? **previous : std::string()};
        if (!store(first, keep, source)) return false;
        return store(second, checkpoint, source);
      }
      if (result.error().code == Errc::kLimit) {
        ++metrics_.dropped_too_large;
        spdlog::error("{}: record {} is larger than the whole queue; dropped", checkpoint.source,
                      records.empty() ? "" : records.front().key);
        records = {};
        continue;  // store the checkpoint alone
      }
      if (result.error().code == Errc::kInvalidArgument) {
        // A record the queue refuses by its shape is refused at every retry: waiting would stall
        // the source for good (and log every retry). It is dropped, named and counted; the
        // others are stored with the checkpoint.
        std::vector<QueueRecord> valid;
        size_t refused = 0;
        for (const QueueRecord& r : records) {
          if (Status s = validateRecord(r); s) {
            valid.push_back(r);
          } else {
            ++refused;
            spdlog::error("{}: record dropped: {}", checkpoint.source, s.error().message);
          }
        }
        if (refused > 0) {
          metrics_.dropped_invalid += refused;
          return store(valid, checkpoint, source);
        }
      }
      ++metrics_.enqueue_errors;
      spdlog::error("{}: cannot store events: {}; retrying", checkpoint.source,
                    result.error().toString());
    } else if (result->stored()) {
      size_t bytes = 0;
      for (const auto& r : records) bytes += r.body.size();
      metrics_.enqueued_records += records.size();
      metrics_.dropped_queue_full += result->dropped_events;
      if (result->dropped_events > 0) {
        spdlog::warn("queue full: dropped the {} oldest events (reported to the collector)",
                     result->dropped_events);
      }
      if (listener_ && !records.empty()) listener_(records.size(), bytes);
      // Self-protection: over its CPU or memory ceiling the agent slows its sources' reading
      // and rule evaluation here, after each stored batch (nothing is dropped for it).
      if (source != nullptr && throttle_ != nullptr) {
        const auto delay = throttle_->delayFor(LoadThrottle::Work::kRules);
        if (delay.count() > 0) stop_.waitFor(delay);
      }
      return true;
    } else if (source != nullptr) {
      ++source->pause_waits;  // kFull with pause_sources: wait for the shipper to make room
    }
    if (stop_.waitFor(full_retry_)) return false;
  }
}

}  // namespace t0w
