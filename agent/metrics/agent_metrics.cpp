#include "agent/metrics/agent_metrics.h"

#include <fmt/format.h>

namespace t0w {

SourceMetrics& AgentMetrics::source(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& slot = sources_[name];
  if (!slot) slot = std::make_unique<SourceMetrics>();
  return *slot;
}

std::string prometheusLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

namespace {

void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}
void sample(std::string& out, std::string_view name, uint64_t value, std::string_view labels = {}) {
  if (labels.empty())
    out += fmt::format("{} {}\n", name, value);
  else
    out += fmt::format("{}{{{}}} {}\n", name, labels, value);
}

}  // namespace

std::string AgentMetrics::prometheusText(const std::optional<QueueStats>& queue,
                                         const ShipperCounters* shipper) const {
  std::string out;
  {
    std::lock_guard lock(mu_);
    struct Def {
      const char* name;
      const char* help;
      std::atomic<uint64_t> SourceMetrics::*field;
    };
    const Def defs[] = {
        {"t0w_source_events_total", "Events read by the source.", &SourceMetrics::events_in},
        {"t0w_source_input_errors_total", "Records the source could not read.",
         &SourceMetrics::input_errors},
        {"t0w_source_resume_skipped_total", "Records skipped because they were stored before.",
         &SourceMetrics::skipped_resume},
        {"t0w_source_enqueued_total", "Events of the source committed to the queue.",
         &SourceMetrics::enqueued},
        {"t0w_source_pause_waits_total", "Times the source waited for room in the queue.",
         &SourceMetrics::pause_waits},
    };
    for (const Def& d : defs) {
      metric(out, d.name, "counter", d.help);
      for (const auto& [name, m] : sources_) {
        sample(out, d.name, ((*m).*(d.field)).load(), "source=\"" + prometheusLabel(name) + "\"");
      }
    }
  }
  metric(out, "t0w_alerts_total", "counter", "Alerts raised by the rules.");
  sample(out, "t0w_alerts_total", alerts);
  metric(out, "t0w_enqueued_records_total", "counter", "Records committed to the queue.");
  sample(out, "t0w_enqueued_records_total", enqueued_records);
  metric(out, "t0w_dropped_events_total", "counter", "Events dropped, by reason.");
  sample(out, "t0w_dropped_events_total", dropped_queue_full, "reason=\"queue_full\"");
  sample(out, "t0w_dropped_events_total", dropped_too_large, "reason=\"too_large\"");
  sample(out, "t0w_dropped_events_total", dropped_invalid, "reason=\"invalid\"");
  metric(out, "t0w_enqueue_errors_total", "counter", "Failed queue writes.");
  sample(out, "t0w_enqueue_errors_total", enqueue_errors);
  metric(out, "t0w_correlation_state_bytes", "gauge",
         "Memory charged to the correlation state (all correlations, one budget).");
  sample(out, "t0w_correlation_state_bytes", correlation.state_bytes);
  metric(out, "t0w_correlation_budget_evictions_total", "counter",
         "Correlation windows dropped because the state reached its byte budget.");
  sample(out, "t0w_correlation_budget_evictions_total", correlation.budget_evictions);
  if (shipper != nullptr) {
    metric(out, "t0w_shipped_records_total", "counter", "Records the collector accepted.");
    sample(out, "t0w_shipped_records_total", shipper->records_shipped);
    metric(out, "t0w_upload_requests_total", "counter", "Upload requests made.");
    sample(out, "t0w_upload_requests_total", shipper->batches_sent);
    metric(out, "t0w_upload_retries_total", "counter", "Retryable answers (408/429/5xx).");
    sample(out, "t0w_upload_retries_total", shipper->retries);
    metric(out, "t0w_upload_transport_errors_total", "counter", "Uploads failed below HTTP.");
    sample(out, "t0w_upload_transport_errors_total", shipper->transport_errors);
    metric(out, "t0w_upload_non_collector_answers_total", "counter",
           "Answers without the collector's protocol header (a proxy or another server).");
    sample(out, "t0w_upload_non_collector_answers_total", shipper->non_collector_answers);
    metric(out, "t0w_upload_splits_total", "counter", "413 answers (batch halved).");
    sample(out, "t0w_upload_splits_total", shipper->splits);
    metric(out, "t0w_dead_lettered_records_total", "counter", "Records moved to dead letter.");
    sample(out, "t0w_dead_lettered_records_total", shipper->dead_lettered_records);
    metric(out, "t0w_upload_auth_pauses_total", "counter", "Pauses after 401/403.");
    sample(out, "t0w_upload_auth_pauses_total", shipper->auth_pauses);
  }
  if (queue) {
    metric(out, "t0w_queue_records", "gauge", "Unshipped records in the queue.");
    sample(out, "t0w_queue_records", queue->events);
    metric(out, "t0w_queue_bytes", "gauge", "Stored (compressed) bytes of unshipped records.");
    sample(out, "t0w_queue_bytes", queue->stored_bytes);
    metric(out, "t0w_queue_lag_seconds", "gauge", "Age of the oldest unshipped record.");
    sample(out, "t0w_queue_lag_seconds",
           queue->oldest_age ? static_cast<uint64_t>(queue->oldest_age->count() / 1000) : 0);
    metric(out, "t0w_queue_dead_letter_chunks", "gauge", "Chunks in the dead-letter table.");
    sample(out, "t0w_queue_dead_letter_chunks", queue->dead_letter_chunks);
    metric(out, "t0w_queue_dropped_events_total", "counter",
           "Events the queue dropped, by source.");
    for (const auto& [source, d] : queue->drops) {
      sample(out, "t0w_queue_dropped_events_total", d.events,
             "source=\"" + prometheusLabel(source) + "\"");
    }
  }
  return out;
}

std::string AgentMetrics::logLine(const std::optional<QueueStats>& queue,
                                  const ShipperCounters* shipper) const {
  uint64_t in = 0;
  uint64_t errors = 0;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, m] : sources_) {
      in += m->events_in;
      errors += m->input_errors;
    }
  }
  std::string line = fmt::format(
      "events in {} (input errors {}), alerts {}, enqueued {}, dropped {} (queue full) + {} (too "
      "large) + {} (invalid)",
      in, errors, alerts.load(), enqueued_records.load(), dropped_queue_full.load(),
      dropped_too_large.load(), dropped_invalid.load());
  if (shipper != nullptr) {
    line += fmt::format(
        ", shipped {}, requests {}, retries {}, transport errors {}, dead letters {}",
        shipper->records_shipped.load(), shipper->batches_sent.load(), shipper->retries.load(),
        shipper->transport_errors.load(), shipper->dead_lettered_records.load());
  }
  if (queue) {
    line += fmt::format(", queue {} records / {} bytes, lag {} ms", queue->events,
                        queue->stored_bytes, queue->oldest_age ? queue->oldest_age->count() : 0);
  }
  return line;
}

}  // namespace t0w
