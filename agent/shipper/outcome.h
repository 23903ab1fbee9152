// What the shipper does with a batch after one delivery attempt (architecture.md section 3).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "agent/shipper/transport.h"

namespace t0w {

enum class OutcomeKind {
  kAck,          // 2xx: delete the leased rows
  kRetry,        // 408/429/5xx or a transport error: release the lease, back off, try again
  kSplit,        // 413: halve the batch and send the halves
  kPauseAuth,    // 401/403: stop shipping until the config changes or a long pause elapses
  kPauseConfig,  // 1xx/3xx/unknown status: the URL points somewhere wrong; stop and report
  kDeadLetter,   // other 4xx: the collector will never accept this batch
};

const char* outcomeKindName(OutcomeKind kind);

struct Outcome {
  OutcomeKind kind = OutcomeKind::kRetry;
  // Transport errors retry without spending the batch's retry budget: the collector never saw
  // the batch, so the batch is not at fault.
  bool spends_retry_budget = false;
  // From a Retry-After header on a retryable status; a floor for the backoff delay.
  std::optional<std::chrono::milliseconds> retry_after;
  int status = 0;      // HTTP status, 0 for transport errors
  std::string detail;  // for logs and reports: "HTTP 503", "timeout: ..."; never a secret
};

// `now` converts an HTTP-date Retry-After into a delay.
Outcome classifyOutcome(const TransportResult& result, std::chrono::system_clock::time_point now);

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
