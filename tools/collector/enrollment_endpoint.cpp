#include "tools/collector/enrollment_endpoint.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/core/agent_id.h"
#include "common/wire/bounded_json.h"
#include "tools/collector/security.h"

namespace t0w::collector {
namespace {

using Outcome = EnrollmentResult::Outcome;

std::optional<std::string> stringMember(const Json& j, const char* name, size_t max) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string() || it->get<std::string>().size() > max) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

EnrollmentEndpoint::EnrollmentEndpoint(Storage& storage, Metrics& metrics, NowFn now)
    : storage_(storage),
      metrics_(metrics),
      now_(std::move(now)),
      limiter_(1, 60, storage, "enroll") {}

Response EnrollmentEndpoint::handle(const Request& req, const RequestContext& ctx) {
  const std::string client = ctx.remote.substr(0, ctx.remote.rfind(':'));
  if (auto wait = limiter_.acquire(client, std::chrono::steady_clock::now())) {
    Response r = error(req, http::status::too_many_requests, "rate_limited",
                       "too many enrolments from this address; wait");
    r.set(http::field::retry_after,
          std::to_string(std::max<int64_t>(1, (wait->count() + 999) / 1000)));
    return r;
  }
  auto secret = bearerToken(req);
  if (!secret || secret->empty()) {
    Response r = error(req, http::status::unauthorized, "missing_token",
                       "send the site enrolment secret as Authorization: Bearer <secret>");
    r.set(http::field::www_authenticate, "Bearer");
    return r;
  }
  auto parsed = parseBoundedJson(req.body(), JsonLimits{4, 16, 1024});
  const Json body = parsed ? std::move(*parsed) : Json();
  const auto agent_id = body.is_object() ? stringMember(body, "agent_id", 256) : std::nullopt;
  const auto hostname = body.is_object() ? stringMember(body, "hostname", 255) : std::nullopt;
  const auto version = body.is_object() ? stringMember(body, "version", 64) : std::nullopt;
  if (!agent_id || !hostname || !version) {
    return error(req, http::status::bad_request, "malformed_request",
                 "send {\"agent_id\": \"...\", \"hostname\": \"...\", \"version\": \"...\"}");
  }
  if (!isValidAgentId(*agent_id)) {
    return error(req, http::status::bad_request, "invalid_agent_id",
                 "the agent id must be " + std::string(kAgentIdRule));
  }
  auto credential = newToken();
  if (!credential) {
    return error(req, http::status::internal_server_error, "internal_error", "no randomness");
  }
  EnrollmentRequest in{sha256Hex(*secret),     *agent_id, *hostname, *version,
                       sha256Hex(*credential), now_()};
  auto result = storage_.enrollWithSecret(in);
  if (!result) {
    ++metrics_.storage_errors;
    spdlog::error("storage ({}): {}", storage_.driver(), result.error().toString());
    return error(req, http::status::service_unavailable, "storage_unavailable",
                 "the collector could not reach its storage; retry later");
  }
  switch (result->outcome) {
    case Outcome::kEnrolled:
      ++metrics_.enrollments;
      spdlog::info("agent {} (agent id {}, host {}) enrolled from {} with site secret {}",
                   result->name, *agent_id, *hostname, client, result->secret);
      return jsonResponse(
          req, http::status::ok,
          Json{{"agent", result->name}, {"agent_id", *agent_id}, {"credential", *credential}});
    case Outcome::kAgentExists:
      ++metrics_.enrollment_refusals;
      spdlog::warn(
          "enrolment from {} refused: agent id {} is enrolled as {} (secret {}); rotate its "
          "credential instead",
          client, *agent_id, result->name, result->secret);
      return error(req, http::status::conflict, "agent_exists",
                   "agent id " + *agent_id +
                       " is enrolled already; an administrator issues it a new credential "
                       "(tier0watch-collector agents rotate NAME)");
    case Outcome::kUnknownSecret: {
      ++metrics_.enrollment_refusals;
      spdlog::warn("enrolment from {} refused: unknown enrolment secret", client);
      Response r = error(req, http::status::unauthorized, "unknown_secret",
                         "the enrolment secret is not known (tier0watch-collector sites add)");
      r.set(http::field::www_authenticate, "Bearer error=\"invalid_token\"");
      return r;
    }
    default: {
      ++metrics_.enrollment_refusals;
      const char* err = result->outcome == Outcome::kRevoked   ? "secret_revoked"
                        : result->outcome == Outcome::kExpired ? "secret_expired"
                                                               : "secret_exhausted";
      spdlog::warn("enrolment of agent id {} from {} refused: {} ({})", *agent_id, client, err,
                   result->secret);
      return error(req, http::status::forbidden, err,
                   "the site enrolment secret " + result->secret +
                       " is revoked, expired or used up; ask for a new one");
    }
  }
}

}  // namespace t0w::collector
