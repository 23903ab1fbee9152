#include "tools/collector/collector_app.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string_view>

#include "common/core/time.h"
#include "common/wire/bounded_json.h"
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

constexpr const char* kSessionCookie = "t0w_session";
constexpr int kMaxPage = 500;

// A time filter: Unix seconds or ISO 8601 (as the API returns it).
std::optional<int64_t> parseTimeParam(const std::string& s) {
  if (auto n = parseInt(s)) return *n * 1'000'000;
  if (auto ft = parseFiletime(s)) return filetimeToUnixMicros(*ft);
  return std::nullopt;
}

// Takes the filter parameters common to list endpoints; an unknown or malformed one is a 400.
struct PageParams {
  std::optional<int64_t> before;
  int limit = 100;
  std::optional<int64_t> since;
  std::optional<int64_t> until;
};

std::optional<std::string> takePage(std::map<std::string, std::string>& q, PageParams& p) {
  if (auto it = q.find("limit"); it != q.end()) {
    auto n = parseInt(it->second);
    if (!n || *n < 1 || *n > kMaxPage) return "limit must be 1.." + std::to_string(kMaxPage);
    p.limit = static_cast<int>(*n);
    q.erase(it);
  }
  if (auto it = q.find("before"); it != q.end()) {
    auto n = parseInt(it->second);
    if (!n) return "before must be an id";
    p.before = *n;
    q.erase(it);
  }
  for (const char* name : {"since", "until"}) {
    if (auto it = q.find(name); it != q.end()) {
      auto t = parseTimeParam(it->second);
      if (!t) return std::string(name) + " must be Unix seconds or an ISO 8601 UTC time";
      (std::string(name) == "since" ? p.since : p.until) = *t;
      q.erase(it);
    }
  }
  return std::nullopt;
}

std::optional<std::string> take(std::map<std::string, std::string>& q, const char* name) {
  auto it = q.find(name);
  if (it == q.end()) return std::nullopt;
  std::string v = it->second;
  q.erase(it);
  return v;
}

Json eventJson(const StoredEvent& e) {
  return Json{{"id", e.id},
              {"key", e.key},
              {"agent", e.agent},
              {"host", e.host},
              {"channel", e.channel},
              {"event_id", e.event_id},
              {"record_id", e.record_id},
              {"time", isoTime(e.time)},
              {"received", isoTime(e.received)},
              {"event", parsedBody(e.body)}};
}

Json alertJson(const StoredAlert& a, bool with_body) {
  Json j{{"id", a.id},
         {"key", a.key},
         {"agent", a.agent},
         {"host", a.host},
         {"rule_id", a.rule_id},
         {"rule_title", a.rule_title},
         {"level", a.level},
         {"time", isoTime(a.time)},
         {"received", isoTime(a.received)},
         {"event_key", a.event_key},
         {"acknowledged_by", a.acknowledged_by ? Json(*a.acknowledged_by) : Json(nullptr)},
         {"acknowledged_at", isoTime(a.acknowledged_at)}};
  if (with_body) j["alert"] = parsedBody(a.body);
  return j;
}

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
      login_limiter_(0.2, 10),
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

namespace {

Json agentJson(const AgentRecord& a, int64_t now, int silent_after_seconds) {
  std::string health = "never_seen";
  if (a.revoked_at) {
    health = "revoked";
  } else if (a.last_seen) {
    const bool silent = now - *a.last_seen > int64_t{silent_after_seconds} * 1'000'000;
    health = silent ? "silent" : (a.drops > 0 || a.gaps > 0 || a.conflicts > 0) ? "degraded" : "ok";
  }
  Json status = Json::parse(a.status, nullptr, false);
  if (status.is_discarded()) status = Json::object();
  Json j{
      {"name", a.name},
      {"agent_id", a.agent_id},
      {"hostname", a.hostname},
      {"version", a.version},
      {"enrolled_at", isoTime(a.enrolled_at)},
      {"last_seen", isoTime(a.last_seen)},
      {"seconds_since_seen", a.last_seen ? Json((now - *a.last_seen) / 1'000'000) : Json(nullptr)},
      {"last_batch", a.last_batch},
      {"batches", a.batches},
      {"events", a.events},
      {"alerts", a.alerts},
      {"drops", a.drops},
      {"gaps", a.gaps},
      {"conflicts", a.conflicts},
      {"enrolled_via", a.enrolled_via.empty() ? Json(nullptr) : Json(a.enrolled_via)},
      {"revoked", a.revoked_at.has_value()},
      {"revoked_at", isoTime(a.revoked_at)},
      {"credential_rotated_at", isoTime(a.rotated_at)},
      {"queue_depth", status.contains("queue_depth") ? status["queue_depth"] : Json(nullptr)},
      {"status", status},
      {"health", health}};
  return j;
}

}  // namespace

// The issues not closed, worst first, and the summary the fleet table sorts by.
static void addIssues(Json& agent, const std::vector<HealthIssue>& issues) {
  std::vector<const HealthIssue*> list;
  for (const auto& h : issues) {
    if (h.agent == agent["name"].get<std::string>()) list.push_back(&h);
  }
  std::stable_sort(list.begin(), list.end(), [](const HealthIssue* a, const HealthIssue* b) {
    const bool ao = a->state == "open", bo = b->state == "open";
    if (ao != bo) return ao;
    return severityRank(a->severity) > severityRank(b->severity);
  });
  Json out = Json::array();
  int open = 0;
  for (const auto* h : list) {
    out.push_back(healthIssueJson(*h));
    if (h->state == "open") ++open;
  }
  agent["health_issues"] = out;
  agent["open_issues"] = open;
  const bool worst_open = !list.empty() && list.front()->state == "open";
  agent["worst_issue"] = worst_open ? healthIssueJson(*list.front()) : Json(nullptr);
  agent["worst_severity"] = worst_open ? Json(list.front()->severity) : Json(nullptr);
}

Response CollectorApp::agents(const Request& req) {
  auto list = storage_.listAgents();
  if (!list) return storageFailure(req, list.error());
  HealthQuery hq;
  hq.not_closed = true;
  hq.limit = 100000;
  auto issues = storage_.queryHealth(hq);
  if (!issues) return storageFailure(req, issues.error());
  Json out = Json::array();
  const int64_t now = now_();
  for (const auto& a : *list) {
    Json j = agentJson(a, now, config_.silent_after_seconds);
    addIssues(j, *issues);
    out.push_back(std::move(j));
  }
  return jsonResponse(
      req, http::status::ok,
      Json{{"agents", out}, {"silent_after_seconds", config_.silent_after_seconds}});
}

Response CollectorApp::agentDetail(const Request& req, const std::string& name) {
  auto list = storage_.listAgents();
  if (!list) return storageFailure(req, list.error());
  auto it = std::find_if(list->begin(), list->end(), [&](const auto& a) { return a.name == name; });
  if (it == list->end())
    return error(req, http::status::not_found, "not_found", "no agent " + name);
  Json j = agentJson(*it, now_(), config_.silent_after_seconds);
  HealthQuery hq;
  hq.agent = name;
  hq.not_closed = true;
  auto issues = storage_.queryHealth(hq);
  if (!issues) return storageFailure(req, issues.error());
  addIssues(j, *issues);
  // Each source as the agent's latest heartbeat reports it (the figures `tier0watch status`
  // prints on the host).
  j["sources"] = j["status"].is_object() && j["status"].contains("sources") ? j["status"]["sources"]
                                                                            : Json::array();
  auto lag = storage_.channelLag(name);
  if (!lag) return storageFailure(req, lag.error());
  Json channels = Json::array();
  for (const auto& c : *lag) {
    channels.push_back(Json{
        {"channel", c.channel},
        {"last_event_time", isoTime(c.last_event_time)},
        {"last_received", isoTime(c.last_received)},
        // How far behind the newest stored event was when it arrived.
        {"lag_seconds", c.last_event_time
                            ? Json(static_cast<double>(c.last_received - *c.last_event_time) / 1e6)
                            : Json(nullptr)}});
  }
  j["channels"] = channels;
  // What the agent reported about itself (drops, quarantined queue files, gaps) and what it
  // re-sent with other content: both are what an owner of the agent must see.
  constexpr int kRecent = 20;
  auto statuses = storage_.recentStatuses(name, kRecent);
  if (!statuses) return storageFailure(req, statuses.error());
  Json reports = Json::array();
  for (const auto& s : *statuses) {
    reports.push_back(Json{{"id", s.id},
                           {"key", s.key},
                           {"type", s.type},
                           {"time", isoTime(s.time)},
                           {"received", isoTime(s.received)},
                           {"report", parsedBody(s.body)}});
  }
  j["recent_status_reports"] = reports;
  auto conflicts = storage_.recentConflicts(name, kRecent);
  if (!conflicts) return storageFailure(req, conflicts.error());
  Json conflict_list = Json::array();
  for (const auto& c : *conflicts) {
    conflict_list.push_back(Json{{"id", c.id},
                                 {"kind", c.kind},
                                 {"key", c.key},
                                 {"batch_id", c.batch_id},
                                 {"received", isoTime(c.received)},
                                 {"stored_hash", c.stored_hash},
                                 {"new_hash", c.new_hash},
                                 {"content", parsedBody(c.body)}});
  }
  j["recent_conflicts"] = conflict_list;
  return jsonResponse(req, http::status::ok, j);
}

Response CollectorApp::healthIssues(const Request& req, const std::string& query) {
  auto q = parseQuery(query);
  PageParams page;
  if (auto e = takePage(q, page)) return error(req, http::status::bad_request, "bad_parameter", *e);
  HealthQuery hq;
  hq.agent = take(q, "agent");
  hq.code = take(q, "code");
  hq.state = take(q, "state");
  hq.limit = page.limit;
  if (hq.state && *hq.state != "open" && *hq.state != "closed" && *hq.state != "suppressed") {
    return error(req, http::status::bad_request, "bad_parameter",
                 "state must be open, closed or suppressed");
  }
  if (hq.code) {
    const auto& codes = healthCodes();
    if (std::find(codes.begin(), codes.end(), *hq.code) == codes.end()) {
      return error(req, http::status::bad_request, "bad_parameter",
                   "unknown health code " + *hq.code);
    }
  }
  if (!q.empty()) {
    return error(req, http::status::bad_request, "bad_parameter",
                 "unknown parameter " + q.begin()->first + " (agent, code, state, limit)");
  }
  auto list = storage_.queryHealth(hq);
  if (!list) return storageFailure(req, list.error());
  Json out = Json::array();
  for (const auto& h : *list) out.push_back(healthIssueJson(h));
  return jsonResponse(req, http::status::ok, Json{{"issues", out}, {"codes", healthCodes()}});
}

Response CollectorApp::suppressIssue(const Request& req, int64_t id, const Session& s) {
  auto parsed = parseBoundedJson(req.body(), JsonLimits{4, 16, 4096});
  const Json body = parsed ? std::move(*parsed) : Json();
  if (!body.is_object() || !body.contains("hours") || !body["hours"].is_number() ||
      body["hours"].get<double>() <= 0 || body["hours"].get<double>() > 24 * 365) {
    return error(req, http::status::bad_request, "malformed_request",
                 "send {\"hours\": N} with 0 < N <= 8760");
  }
  const int64_t until =
      now_() + static_cast<int64_t>(body["hours"].get<double>() * 3600.0 * 1'000'000.0);
  auto h = health_tracker_.suppress(id, until, s.record.user);
  if (!h) return storageFailure(req, h.error());
  if (!*h) {
    return error(req, http::status::not_found, "not_found",
                 "no open health issue " + std::to_string(id));
  }
  spdlog::info("health issue {} ({} on {}) suppressed by {} until {}", id, (*h)->code, (*h)->agent,
               s.record.user, isoTime(until).get<std::string>());
  return jsonResponse(req, http::status::ok, healthIssueJson(**h));
}

// The dashboard's charts: events/s and lag per agent and source from the heartbeats of the last
// `hours` (default 24), and alerts per hour by level.
Response CollectorApp::charts(const Request& req, const std::string& query) {
  auto q = parseQuery(query);
  int64_t hours = 24;
  if (auto h = take(q, "hours")) {
    auto n = parseInt(*h);
    if (!n || *n < 1 || *n > 24 * 31) {
      return error(req, http::status::bad_request, "bad_parameter", "hours must be 1..744");
    }
    hours = *n;
  }
  if (!q.empty()) {
    return error(req, http::status::bad_request, "bad_parameter",
                 "unknown parameter " + q.begin()->first + " (hours)");
  }
  const int64_t now = now_();
  const int64_t since = now - hours * 3600 * 1'000'000;
  auto agents = storage_.listAgents();
  if (!agents) return storageFailure(req, agents.error());
  Json series = Json::array();
  for (const auto& a : *agents) {
    auto beats = storage_.statusHistory(a.name, "agent_status", since, 5000);
    if (!beats) return storageFailure(req, beats.error());
    std::map<std::string, Json> by_source;
    for (const auto& b : *beats) {
      Json body = Json::parse(b.body, nullptr, false);
      if (!body.is_object() || !body.contains("sources") || !body["sources"].is_array()) continue;
      for (const auto& src : body["sources"]) {
        const std::string name = src.value("name", "");
        Json& points = by_source[name];
        if (points.is_null()) points = Json::array();
        points.push_back(
            Json{{"t", b.received / 1000},
                 {"rate", src.value("rate_per_second", 0.0)},
                 {"lag", src.contains("lag_seconds") ? src["lag_seconds"] : Json(nullptr)}});
      }
    }
    for (auto& [source, points] : by_source) {
      series.push_back(Json{{"agent", a.name}, {"source", source}, {"points", points}});
    }
  }
  const int64_t bucket = 3600LL * 1'000'000;
  auto hist = storage_.alertHistogram(since, bucket);
  if (!hist) return storageFailure(req, hist.error());
  Json alerts = Json::array();
  for (const auto& b : *hist) {
    alerts.push_back(Json{{"t", b.bucket / 1000}, {"level", b.level}, {"count", b.count}});
  }
  return jsonResponse(req, http::status::ok,
                      Json{{"since", since / 1000},
                           {"until", now / 1000},
                           {"bucket_ms", bucket / 1000},
                           {"sources", series},
                           {"alerts", alerts}});
}

Response CollectorApp::alerts(const Request& req, const std::string& query) {
  auto q = parseQuery(query);
  PageParams page;
  if (auto e = takePage(q, page)) return error(req, http::status::bad_request, "bad_parameter", *e);
  AlertQuery aq;
  aq.rule_id = take(q, "rule");
  aq.level = take(q, "level");
  aq.host = take(q, "host");
  if (auto ack = take(q, "acknowledged")) {
    if (*ack != "true" && *ack != "false") {
      return error(req, http::status::bad_request, "bad_parameter",
                   "acknowledged must be true or false");
    }
    aq.acknowledged = *ack == "true";
  }
  if (!q.empty()) {
    return error(req, http::status::bad_request, "bad_parameter",
                 "unknown parameter " + q.begin()->first +
                     " (rule, level, host, since, until, acknowledged, before, limit)");
  }
  aq.since = page.since;
  aq.until = page.until;
  aq.before_id = page.before;
  aq.limit = page.limit;
  auto list = storage_.queryAlerts(aq);
  if (!list) return storageFailure(req, list.error());
  Json out = Json::array();
  for (const auto& a : *list) out.push_back(alertJson(a, false));
  Json next = list->size() == static_cast<size_t>(aq.limit) ? Json(list->back().id) : Json(nullptr);
  return jsonResponse(req, http::status::ok, Json{{"alerts", out}, {"next_before", next}});
}

Response CollectorApp::alertDetail(const Request& req, int64_t id) {
  auto a = storage_.alertById(id);
  if (!a) return storageFailure(req, a.error());
  if (!*a)
    return error(req, http::status::not_found, "not_found", "no alert " + std::to_string(id));
  Json j = alertJson(**a, true);
  j["stored_event"] = nullptr;
  if (!(*a)->event_key.empty()) {
    auto e = storage_.eventByKey((*a)->event_key);
    if (!e) return storageFailure(req, e.error());
    if (*e) j["stored_event"] = eventJson(**e);
  }
  return jsonResponse(req, http::status::ok, j);
}

Response CollectorApp::acknowledge(const Request& req, int64_t id, const Session& s) {
  auto ok = storage_.acknowledgeAlert(id, s.record.user, now_());
  if (!ok) return storageFailure(req, ok.error());
  if (!*ok)
    return error(req, http::status::not_found, "not_found", "no alert " + std::to_string(id));
  return alertDetail(req, id);
}

Response CollectorApp::events(const Request& req, const std::string& query) {
  auto q = parseQuery(query);
  PageParams page;
  if (auto e = takePage(q, page)) return error(req, http::status::bad_request, "bad_parameter", *e);
  EventQuery eq;
  eq.host = take(q, "host");
  eq.channel = take(q, "channel");
  if (auto id = take(q, "event_id")) {
    auto n = parseInt(*id);
    if (!n)
      return error(req, http::status::bad_request, "bad_parameter", "event_id must be a number");
    eq.event_id = *n;
  }
  eq.text = take(q, "q");
  if (eq.text && eq.text->empty()) eq.text.reset();
  if (!q.empty()) {
    return error(req, http::status::bad_request, "bad_parameter",
                 "unknown parameter " + q.begin()->first +
                     " (host, channel, event_id, q, since, until, before, limit)");
  }
  eq.since = page.since;
  eq.until = page.until;
  eq.before_id = page.before;
  eq.limit = page.limit;
  auto list = storage_.queryEvents(eq);
  if (!list) return storageFailure(req, list.error());
  Json out = Json::array();
  for (const auto& e : *list) out.push_back(eventJson(e));
  Json next = list->size() == static_cast<size_t>(eq.limit) ? Json(list->back().id) : Json(nullptr);
  return jsonResponse(req, http::status::ok, Json{{"events", out}, {"next_before", next}});
}

Response CollectorApp::eventDetail(const Request& req, int64_t id) {
  auto e = storage_.eventById(id);
  if (!e) return storageFailure(req, e.error());
  if (!*e)
    return error(req, http::status::not_found, "not_found", "no event " + std::to_string(id));
  return jsonResponse(req, http::status::ok, eventJson(**e));
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
