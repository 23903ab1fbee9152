#include "tools/collector/metrics.h"

namespace t0w::collector {
namespace {

void counter(std::string& out, const char* name, const char* help, uint64_t value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name +
         " " + std::to_string(value) + "\n";
}

}  // namespace

void Metrics::countRequest(int status) {
  std::lock_guard lock(mutex_);
  ++requests_by_status_[status];
}

void Metrics::setGaugeSource(std::function<std::map<std::string, int64_t>()> source) {
  std::lock_guard lock(mutex_);
  queue_depth_ = std::move(source);
}

std::string Metrics::render() const {
  std::string out;
  std::function<std::map<std::string, int64_t>()> depth;
  {
    std::lock_guard lock(mutex_);
    out +=
        "# HELP t0w_collector_http_requests_total HTTP requests answered, by status.\n"
        "# TYPE t0w_collector_http_requests_total counter\n";
    for (const auto& [status, n] : requests_by_status_) {
      out += "t0w_collector_http_requests_total{status=\"" + std::to_string(status) + "\"} " +
             std::to_string(n) + "\n";
    }
    depth = queue_depth_;
  }
  counter(out, "t0w_collector_batches_total", "Batches accepted (new).", batches);
  counter(out, "t0w_collector_duplicate_batches_total", "Batches acknowledged again (re-sent).",
          duplicate_batches);
  counter(out, "t0w_collector_events_total", "Events stored.", events);
  counter(out, "t0w_collector_alerts_total", "Alerts stored.", alerts);
  counter(out, "t0w_collector_dedup_hits_total", "Records not stored again (key seen before).",
          dedup_hits);
  counter(out, "t0w_collector_conflicts_total",
          "Batch ids and record keys re-sent with other content (kept and alerted).", conflicts);
  counter(out, "t0w_collector_enrollments_total", "Agents enrolled with a site secret.",
          enrollments);
  counter(out, "t0w_collector_enrollment_refusals_total",
          "Enrolments refused (unknown, revoked, expired or used-up secret; agent id taken).",
          enrollment_refusals);
  counter(out, "t0w_collector_storage_errors_total", "Storage operations that failed.",
          storage_errors);
  counter(out, "t0w_collector_rejected_connections_total",
          "Connections closed at accept because max_connections was reached.",
          rejected_connections);
  counter(out, "t0w_collector_refused_before_body_total",
          "Uploads refused by their headers (credential, method) before the body was read.",
          refused_before_body);
  counter(out, "t0w_collector_tls_handshake_failures_total", "TLS handshakes that failed.",
          tls_handshake_failures);
  counter(out, "t0w_collector_forwarded_total", "Records delivered to SIEM outputs.", forwarded);
  counter(out, "t0w_collector_forward_errors_total", "Failed SIEM delivery attempts.",
          forward_errors);
  out +=
      "# HELP t0w_collector_open_connections Connections open now.\n"
      "# TYPE t0w_collector_open_connections gauge\nt0w_collector_open_connections " +
      std::to_string(open_connections.load()) + "\n";
  out +=
      "# HELP t0w_collector_forward_queue_depth Records waiting for a SIEM output.\n"
      "# TYPE t0w_collector_forward_queue_depth gauge\n";
  if (depth) {
    for (const auto& [output, n] : depth()) {
      out += "t0w_collector_forward_queue_depth{output=\"" + output + "\"} " + std::to_string(n) +
             "\n";
    }
  }
  return out;
}

}  // namespace t0w::collector
