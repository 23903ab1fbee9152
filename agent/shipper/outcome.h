// What the shipper does with a batch after one delivery attempt (architecture.md section 3).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/transport.h"

namespace t0w {

// Only the collector's own answers (wire_protocol.h: the Tier0Watch-Collector header, or for an
// acknowledgement a body naming the batch) may delete queued events. Anything else that answers
// (a proxy's 404/405, a web server's 200 behind a wrong URL) is treated like a transport error.
enum class OutcomeKind {
  kAck,          // 2xx from the collector: delete the leased rows
  kRetry,        // 408/429/5xx, a transport error, or an answer not from the collector: release
                 // the lease, back off, try again
  kSplit,        // 413: halve the batch and send the halves
  kPauseAuth,    // 401/403: stop shipping until the config changes or a long pause elapses
  kPauseConfig,  // 1xx/3xx, or a collector's 4xx about the request rather than the batch (wrong
                 // path, method, content type): the configuration is wrong; stop and report
  kDeadLetter,   // the collector refused this batch's content (Tier0Watch-Refusal: batch)
};

const char* outcomeKindName(OutcomeKind kind);

struct Outcome {
  OutcomeKind kind = OutcomeKind::kRetry;
  // Transport errors retry without spending the batch's retry budget: the collector never saw
  // the batch, so the batch is not at fault.
  bool spends_retry_budget = false;
  // From a Retry-After header on a retryable status; a floor for the backoff delay.
  std::optional<std::chrono::milliseconds> retry_after;
  // The answer came from something other than the collector (no protocol header): nothing is
  // deleted on it, and a 413 from it never dead-letters a single record.
  bool not_collector = false;
  int status = 0;      // HTTP status, 0 for transport errors
  std::string detail;  // for logs and reports: "HTTP 503", "timeout: ..."; never a secret
};

// `now` converts an HTTP-date Retry-After into a delay. `batch_id`, when given, lets a 2xx whose
// JSON body names that batch count as the collector's acknowledgement without the header (a
// collector older than the header).
Outcome classifyOutcome(const TransportResult& result, std::chrono::system_clock::time_point now,
                        std::string_view batch_id = {});

// The answer carries the collector's protocol header, or (with a batch id) is a 2xx whose body
// names the batch.
bool isCollectorAnswer(const HttpResponse& response, std::string_view batch_id);

// Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date. A date in the past gives 0.
// Returns nullopt when the value is neither.
std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

// HTTP-date in any of the three forms recipients must accept: IMF-fixdate
// ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
// ("Sun Nov  6 08:49:37 1994"). `now` resolves RFC 850's two-digit year.
std::optional<std::chrono::system_clock::time_point> parseHttpDate(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace t0w
