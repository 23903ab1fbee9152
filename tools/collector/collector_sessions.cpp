// The dashboard's sessions: login (rate-limited per client address), logout, the session named
// by the request's cookie.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/wire/bounded_json.h"
#include "tools/collector/collector_app.h"
#include "tools/collector/http_util.h"
#include "tools/collector/security.h"

namespace t0w::collector {
namespace {

constexpr const char* kSessionCookie = "t0w_session";

}  // namespace

std::optional<CollectorApp::Session> CollectorApp::session(const Request& req) {
  auto token = cookie(req, kSessionCookie);
  if (!token || token->size() != 64) return std::nullopt;
  const std::string hash = sha256Hex(*token);
  auto s = storage_.sessionByHash(hash, now_());
  if (!s) {
    ++metrics_.storage_errors;
    return std::nullopt;
  }
  if (!*s) return std::nullopt;
  return Session{hash, **s};
}

Response CollectorApp::login(const Request& req, const RequestContext& ctx) {
  const std::string client = ctx.remote.substr(0, ctx.remote.rfind(':'));
  if (auto wait = login_limiter_.acquire(client, std::chrono::steady_clock::now())) {
    Response r = error(req, http::status::too_many_requests, "rate_limited",
                       "too many login attempts; wait");
    r.set(http::field::retry_after, std::to_string(std::max<int64_t>(1, wait->count() / 1000)));
    return r;
  }
  // Small limits: a login needs two strings.
  auto parsed = parseBoundedJson(req.body(), JsonLimits{4, 16, 4096});
  const Json body = parsed ? std::move(*parsed) : Json();
  if (!body.is_object() || !body.contains("user") || !body.contains("password") ||
      !body["user"].is_string() || !body["password"].is_string()) {
    return error(req, http::status::bad_request, "malformed_request",
                 "send {\"user\": \"...\", \"password\": \"...\"}");
  }
  const std::string name = body["user"].get<std::string>();
  auto user = storage_.userByName(name);
  if (!user) return storageFailure(req, user.error());
  if (!*user || !verifyPassword(**user, body["password"].get<std::string>())) {
    spdlog::warn("dashboard login failed for user \"{}\" from {}", name, client);
    return error(req, http::status::unauthorized, "invalid_credentials",
                 "unknown user or wrong password");
  }
  auto token = newToken();
  auto csrf = newToken();
  if (!token || !csrf) {
    return error(req, http::status::internal_server_error, "internal_error", "no randomness");
  }
  const int64_t now = now_();
  const int64_t expires = now + int64_t{config_.session_hours} * 3600 * 1'000'000;
  if (Status s =
          storage_.createSession(sha256Hex(*token), SessionRecord{name, *csrf, now, expires});
      !s) {
    return storageFailure(req, s.error());
  }
  spdlog::info("dashboard login: user \"{}\" from {}", name, client);
  Response res = jsonResponse(req, http::status::ok, Json{{"user", name}, {"csrf", *csrf}});
  res.set(http::field::set_cookie, std::string(kSessionCookie) + "=" + *token +
                                       "; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=" +
                                       std::to_string(int64_t{config_.session_hours} * 3600));
  return res;
}

Response CollectorApp::logout(const Request& req) {
  auto token = cookie(req, kSessionCookie);
  if (token) {
    if (Status s = storage_.deleteSession(sha256Hex(*token)); !s) {
      return storageFailure(req, s.error());
    }
  }
  Response res = jsonResponse(req, http::status::ok, Json{{"status", "logged_out"}});
  res.set(http::field::set_cookie,
          std::string(kSessionCookie) + "=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
  return res;
}

Response CollectorApp::sessionInfo(const Request& req, const Session& s) {
  return jsonResponse(req, http::status::ok,
                      Json{{"user", s.record.user},
                           {"csrf", s.record.csrf},
                           {"silent_after_seconds", config_.silent_after_seconds}});
}

}  // namespace t0w::collector
