// CollectorApp: what the collector answers on each route — batch ingest, the query API, the
// dashboard's login and files, /healthz and /metrics. The transport (HttpsServer) is apart so
// that this is plain request -> response.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tools/collector/batch_ingest.h"
#include "tools/collector/config.h"
#include "tools/collector/enrollment_endpoint.h"
#include "tools/collector/health.h"
#include "tools/collector/http_server.h"
#include "tools/collector/http_util.h"
#include "tools/collector/metrics.h"
#include "tools/collector/rate_limiter.h"
#include "tools/collector/storage.h"

namespace t0w::collector {

class CollectorApp {
 public:
  CollectorApp(const CollectorConfig& config, Storage& storage, Metrics& metrics,
               std::vector<std::string> forward_outputs, NowFn now = systemNowMicros);

  Response handle(const Request& req, const RequestContext& ctx);
  // The health evaluator the service's health loop runs (and the suppress API uses).
  HealthTracker& healthTracker() { return health_tracker_; }
  // HttpsServer's Authorizer for the large-body route: refuses an upload by its headers (no or
  // a wrong credential, another method) before its body is read.
  std::optional<Response> beforeBody(const Request& head, const RequestContext& ctx);

 private:
  struct Session {
    std::string token_hash;
    SessionRecord record;
  };

  Response login(const Request& req, const RequestContext& ctx);
  Response logout(const Request& req);
  Response sessionInfo(const Request& req, const Session& s);
  Response agents(const Request& req);
  Response agentDetail(const Request& req, const std::string& name);
  Response alerts(const Request& req, const std::string& query);
  Response alertDetail(const Request& req, int64_t id);
  Response acknowledge(const Request& req, int64_t id, const Session& s);
  Response events(const Request& req, const std::string& query);
  Response eventDetail(const Request& req, int64_t id);
  Response staticFile(const Request& req, const std::string& path);
  Response health(const Request& req);
  Response healthIssues(const Request& req, const std::string& query);
  Response suppressIssue(const Request& req, int64_t id, const Session& s);
  Response charts(const Request& req, const std::string& query);

  // The dashboard session named by the request's cookie, if any and not expired.
  std::optional<Session> session(const Request& req);
  Response storageFailure(const Request& req, const Error& e);

  const CollectorConfig& config_;
  Storage& storage_;
  Metrics& metrics_;
  NowFn now_;
  BatchIngest ingest_;
  EnrollmentEndpoint enroll_;
  RateLimiter login_limiter_;
  HealthTracker health_tracker_;
};

}  // namespace t0w::collector
