// CollectorApp: the routing of each request, /healthz, /metrics and the dashboard's files. The
// query API is in collector_query_api.cpp, the dashboard sessions in collector_sessions.cpp,
// batch ingest in batch_ingest.cpp.
#include "tools/collector/collector_app.h"

#include <spdlog/spdlog.h>

#include <string_view>

#include "tools/collector/http_util.h"
#include "tools/collector/security.h"

namespace t0w::collector {
namespace {

struct WebAsset {
  std::string_view path;
  std::string_view type;
  std::string_view body;
};
constexpr WebAsset kWebAssets[] = {
#include "collector_web_assets.inc"
};

}  // namespace

CollectorApp::CollectorApp(const CollectorConfig& config, Storage& storage, Metrics& metrics,
                           std::vector<std::string> forward_outputs, NowFn now)
    : config_(config),
      storage_(storage),
      metrics_(metrics),
      now_(now),
      ingest_(config, storage, metrics, std::move(forward_outputs), now),
      enroll_(storage, metrics, now),
      // Login attempts per client address: enough for people, too few for guessing.
      login_limiter_(0.2, 10, storage, "login"),
      health_tracker_(storage, healthPolicyOf(config)) {}

Response CollectorApp::storageFailure(const Request& req, const Error& e) {
  ++metrics_.storage_errors;
  spdlog::error("storage ({}): {}", storage_.driver(), e.toString());
  return error(req, http::status::service_unavailable, "storage_unavailable",
               "the collector could not reach its storage; retry later");
}

std::optional<Response> CollectorApp::beforeBody(const Request& head, const RequestContext&) {
  const std::string_view target = sv(head.target());
  if (target.substr(0, target.find('?')) != kLargeBodyPath) return std::nullopt;
  if (head.method() != http::verb::post) {
    return error(head, http::status::method_not_allowed, "method_not_allowed", "use POST");
  }
  auto who = ingest_.authenticate(head);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  return std::nullopt;
}

Response CollectorApp::handle(const Request& req, const RequestContext& ctx) {
  const std::string_view target = sv(req.target());
  const size_t qpos = target.find('?');
  const std::string route(target.substr(0, qpos));
  const std::string query(qpos == std::string_view::npos ? "" : target.substr(qpos + 1));
  const auto method = req.method();

  if (route == "/api/v1/batches") {
    if (method != http::verb::post) {
      return error(req, http::status::method_not_allowed, "method_not_allowed", "use POST");
    }
    return ingest_.handle(req);
  }
  if (route == "/api/v1/enroll") {
    if (method != http::verb::post) {
      return error(req, http::status::method_not_allowed, "method_not_allowed", "use POST");
    }
    return enroll_.handle(req, ctx);
  }
  if (route == "/healthz") return health(req);
  if (route == "/metrics") {
    Response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = metrics_.render();
    res.prepare_payload();
    return res;
  }
  if (route == "/api/v1/login") {
    if (method != http::verb::post) {
      return error(req, http::status::method_not_allowed, "method_not_allowed", "use POST");
    }
    return login(req, ctx);
  }
  if (route.rfind("/api/", 0) == 0) {
    auto s = session(req);
    if (!s) {
      return error(req, http::status::unauthorized, "login_required",
                   "log in to the dashboard first (POST /api/v1/login)");
    }
    const bool changes = method != http::verb::get && method != http::verb::head;
    if (changes) {
      // CSRF: a state-changing request must echo the session's token in a header, which a
      // cross-site form cannot set (SameSite=Strict is the second line).
      auto h = req.find("X-CSRF-Token");
      if (h == req.end() || !constantTimeEquals(sv(h->value()), s->record.csrf)) {
        return error(req, http::status::forbidden, "csrf_token_invalid",
                     "send the session's CSRF token in X-CSRF-Token");
      }
    }
    if (route == "/api/v1/logout" && method == http::verb::post) return logout(req);
    if (route == "/api/v1/session" && method == http::verb::get) return sessionInfo(req, *s);
    if (route == "/api/v1/agents" && method == http::verb::get) return agents(req);
    if (route.rfind("/api/v1/agents/", 0) == 0 && method == http::verb::get) {
      return agentDetail(req, percentDecode(route.substr(15)));
    }
    if (route == "/api/v1/health" && method == http::verb::get) return healthIssues(req, query);
    if (route == "/api/v1/charts" && method == http::verb::get) return charts(req, query);
    if (route.rfind("/api/v1/health/", 0) == 0 && method == http::verb::post) {
      std::string rest = route.substr(15);
      const std::string suffix = "/suppress";
      if (rest.size() > suffix.size() && rest.substr(rest.size() - suffix.size()) == suffix) {
        auto id = parseInt(rest.substr(0, rest.size() - suffix.size()));
        if (id) return suppressIssue(req, *id, *s);
      }
      return error(req, http::status::not_found, "not_found", "no such health issue");
    }
    if (route == "/api/v1/alerts" && method == http::verb::get) return alerts(req, query);
    if (route == "/api/v1/events" && method == http::verb::get) return events(req, query);
    if (route.rfind("/api/v1/alerts/", 0) == 0) {
      std::string rest = route.substr(15);
      const bool ack = rest.size() > 4 && rest.substr(rest.size() - 4) == "/ack";
      if (ack) rest.resize(rest.size() - 4);
      auto id = parseInt(rest);
      if (!id) return error(req, http::status::not_found, "not_found", "no such alert");
      if (ack && method == http::verb::post) return acknowledge(req, *id, *s);
      if (!ack && method == http::verb::get) return alertDetail(req, *id);
    }
    if (route.rfind("/api/v1/events/", 0) == 0 && method == http::verb::get) {
      auto id = parseInt(route.substr(15));
      if (!id) return error(req, http::status::not_found, "not_found", "no such event");
      return eventDetail(req, *id);
    }
    return error(req, http::status::not_found, "not_found",
                 std::string(req.method_string()) + " " + route + " is not an API endpoint");
  }
  if (method == http::verb::get || method == http::verb::head) return staticFile(req, route);
  return error(req, http::status::method_not_allowed, "method_not_allowed",
               "only GET is served outside /api");
}

Response CollectorApp::health(const Request& req) {
  auto depth = storage_.forwardDepth("health-check");
  if (!depth) {
    ++metrics_.storage_errors;
    return jsonResponse(req, http::status::service_unavailable,
                        Json{{"status", "storage_unavailable"}, {"storage", storage_.driver()}});
  }
  return jsonResponse(req, http::status::ok,
                      Json{{"status", "ok"}, {"storage", storage_.driver()}});
}

Response CollectorApp::staticFile(const Request& req, const std::string& route) {
  const std::string name = route == "/" ? "/index.html" : route;
  for (const WebAsset& a : kWebAssets) {
    if (a.path != name) continue;
    Response res{http::status::ok, req.version()};
    res.set(http::field::content_type, std::string(a.type));
    // Everything the page loads comes from here: no CDN, no inline script.
    res.set("Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.set("Strict-Transport-Security", "max-age=31536000");
    res.set(http::field::cache_control, "no-cache");
    if (req.method() != http::verb::head) res.body() = std::string(a.body);
    res.prepare_payload();
    return res;
  }
  return error(req, http::status::not_found, "not_found", "no file " + route);
}

}  // namespace t0w::collector
