// The dashboard's query API: agents, health issues, charts, alerts and events, as JSON.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "common/core/time.h"
#include "common/wire/bounded_json.h"
#include "tools/collector/collector_app.h"
#include "tools/collector/http_util.h"

namespace t0w::collector {
namespace {

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
}  // namespace t0w::collector
