// EnrollmentEndpoint: POST /api/v1/enroll. An agent presents a site enrolment secret
// (Authorization: Bearer t0wsite_...) and its identity {"agent_id", "hostname", "version"}; the
// collector checks the secret (expiry, use limit, revocation), refuses an agent id that is
// enrolled already, and answers with a credential of the agent's own, bound to its agent id,
// shown this once (stored as SHA-256). Secrets and credentials are never logged.
#pragma once

#include "tools/collector/http_util.h"
#include "tools/collector/metrics.h"
#include "tools/collector/rate_limiter.h"
#include "tools/collector/storage.h"

namespace t0w::collector {

// Site secrets carry this prefix so that an agent (and a secret scanner) can tell them from a
// per-agent credential.
inline constexpr std::string_view kSiteSecretPrefix = "t0wsite_";

class EnrollmentEndpoint {
 public:
  EnrollmentEndpoint(Storage& storage, Metrics& metrics, NowFn now);

  Response handle(const Request& req, const RequestContext& ctx);

 private:
  Storage& storage_;
  Metrics& metrics_;
  NowFn now_;
  RateLimiter limiter_;  // per client address: secrets are not for guessing
};

}  // namespace t0w::collector
