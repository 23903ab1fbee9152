// BatchIngest: POST /api/v1/batches. Authenticates the agent by its bearer token, rate-limits
// it, decodes the batch within the configured limits, turns it into the rows the storage keeps
// (with the content hash that tells a re-sent batch from a reused id) and answers.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "tools/collector/config.h"
#include "tools/collector/http_util.h"
#include "tools/collector/metrics.h"
#include "tools/collector/rate_limiter.h"
#include "tools/collector/storage.h"

namespace t0w::collector {

class BatchIngest {
 public:
  BatchIngest(const CollectorConfig& config, Storage& storage, Metrics& metrics,
              std::vector<std::string> forward_outputs, NowFn now);

  Response handle(const Request& req);

  // The agent that the request's bearer token names, or the refusal (401, 503). Run on the
  // headers alone, before the body is read, and again by handle().
  std::variant<AgentRecord, Response> authenticate(const Request& req);

 private:
  Response storageFailure(const Request& req, const Error& e);

  const CollectorConfig& config_;
  Storage& storage_;
  Metrics& metrics_;
  std::vector<std::string> forward_outputs_;
  NowFn now_;
  RateLimiter limiter_;
};

}  // namespace t0w::collector
