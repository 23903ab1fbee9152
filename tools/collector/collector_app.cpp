#include "tools/collector/collector_app.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>

#include "agent/core/time.h"
#include "agent/shipper/batch_encoder.h"
#include "tools/collector/security.h"

namespace t0w::collector {
namespace {

using Json = nlohmann::json;

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

// Boost 1.74's Beast has its own string_view.
std::string_view sv(boost::beast::string_view v) { return {v.data(), v.size()}; }

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Response jsonResponse(const Request& req, http::status status, const Json& body) {
  Response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = dump(body);
  res.prepare_payload();
  return res;
}

Response error(const Request& req, http::status status, const std::string& err,
               const std::string& detail) {
  return jsonError(req.version(), status, err, detail);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string percentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      out[percentDecode(part)] = "";
    } else {
      out[percentDecode(part.substr(0, eq))] = percentDecode(part.substr(eq + 1));
    }
  }
  return out;
}

std::optional<int64_t> parseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// A time filter: Unix seconds or ISO 8601 (as the API returns it).
std::optional<int64_t> parseTimeParam(const std::string& s) {
  if (auto n = parseInt(s)) return *n * 1'000'000;
  if (auto ft = parseFiletime(s)) return filetimeToUnixMicros(*ft);
  return std::nullopt;
}

Json isoTime(const std::optional<int64_t>& micros) {
  if (!micros) return nullptr;
  return formatFiletime(unixMicrosToFiletime(*micros));
}

Json parsedBody(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  return j.is_discarded() ? Json(body) : j;
}

std::optional<std::string> cookie(const Request& req, std::string_view name) {
  for (auto it = req.find(http::field::cookie);
       it != req.end() && it->name() == http::field::cookie; ++it) {
    std::string_view v = sv(it->value());
    while (!v.empty()) {
      const size_t semi = v.find(';');
      std::string_view part = v.substr(0, semi);
      v = semi == std::string_view::npos ? std::string_view{} : v.substr(semi + 1);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      if (part.size() > name.size() && part.substr(0, name.size()) == name &&
          part[name.size()] == '=') {
        return std::string(part.substr(name.size() + 1));
      }
    }
  }
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

const Json* path(const Json& j, std::initializer_list<const char*> keys) {
  const Json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string stringAt(const Json& j, std::initializer_list<const char*> keys) {
  const Json* v = path(j, keys);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

int64_t intAt(const Json& j, std::initializer_list<const char*> keys) {
  const Json* v = path(j, keys);
  if (v == nullptr) return 0;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_string()) return parseInt(v->get<std::string>()).value_or(0);
  return 0;
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

int64_t systemNowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CollectorApp::CollectorApp(const CollectorConfig& config, Storage& storage, Metrics& metrics,
                           std::vector<std::string> forward_outputs, NowFn now)
    : config_(config),
      storage_(storage),
      metrics_(metrics),
      forward_outputs_(std::move(forward_outputs)),
      now_(std::move(now)),
      agent_limiter_(config.agent_requests_per_second, config.agent_burst),
      // Login attempts per client address: enough for people, too few for guessing.
      login_limiter_(0.2, 10) {}

Response CollectorApp::storageFailure(const Request& req, const Error& e) {
  ++metrics_.storage_errors;
  spdlog::error("storage ({}): {}", storage_.driver(), e.toString());
  return error(req, http::status::service_unavailable, "storage_unavailable",
               "the collector could not reach its storage; retry later");
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
    return ingest(req);
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

Response CollectorApp::ingest(const Request& req) {
  // Who: the bearer token, compared by its SHA-256 (the only form stored).
  auto auth = req.find(http::field::authorization);
  if (auth == req.end()) {
    Response r = error(req, http::status::unauthorized, "missing_token",
                       "send the agent's enrolment token as Authorization: Bearer <token>");
    r.set(http::field::www_authenticate, "Bearer");
    return r;
  }
  std::string_view value = sv(auth->value());
  if (value.size() < 8 || lower(value.substr(0, 7)) != "bearer ") {
    Response r = error(req, http::status::unauthorized, "missing_token",
                       "the Authorization header must use the Bearer scheme");
    r.set(http::field::www_authenticate, "Bearer");
    return r;
  }
  const std::string hash = sha256Hex(value.substr(7));
  auto agent = storage_.agentByTokenHash(hash);
  if (!agent) return storageFailure(req, agent.error());
  if (!*agent) {
    Response r = error(req, http::status::unauthorized, "unknown_token",
                       "the token is not enrolled (tier0watch-collector agents enroll NAME)");
    r.set(http::field::www_authenticate, "Bearer error=\"invalid_token\"");
    return r;
  }
  const AgentRecord& enrolled = **agent;

  if (auto wait = agent_limiter_.acquire(enrolled.name, std::chrono::steady_clock::now())) {
    Response r = error(req, http::status::too_many_requests, "rate_limited",
                       "agent " + enrolled.name + " sends faster than allowed");
    r.set(http::field::retry_after,
          std::to_string(std::max<int64_t>(1, (wait->count() + 999) / 1000)));
    return r;
  }

  auto ct = req.find(http::field::content_type);
  if (ct == req.end() || lower(sv(ct->value())).rfind("application/json", 0) != 0) {
    return error(req, http::status::unsupported_media_type, "unsupported_content_type",
                 "Content-Type must be application/json (tier0watch.batch/1)");
  }
  std::string encoding = "identity";
  if (auto ce = req.find(http::field::content_encoding); ce != req.end())
    encoding = lower(sv(ce->value()));
  Result<DecodedBatch> decoded = makeError(Errc::kInternal, "unset");
  const auto max_decompressed = static_cast<size_t>(config_.max_decompressed_bytes);
  if (encoding == "gzip") {
    decoded = decodeBatch(req.body(), max_decompressed);
  } else if (encoding == "identity") {
    decoded = parseBatchJson(req.body());
  } else {
    return error(req, http::status::unsupported_media_type, "unsupported_content_encoding",
                 "Content-Encoding must be gzip or identity, not " + encoding);
  }
  if (!decoded) {
    if (decoded.error().code == Errc::kLimit) {
      return error(
          req, http::status::payload_too_large, "decompressed_too_large",
          "the batch decompresses to more than " + std::to_string(max_decompressed) + " bytes");
    }
    return error(req, http::status::bad_request, "malformed_batch", decoded.error().message);
  }
  DecodedBatch& batch = *decoded;
  if (static_cast<int64_t>(batch.records.size()) > config_.max_records_per_batch) {
    return error(req, http::status::payload_too_large, "too_many_records",
                 "the batch has " + std::to_string(batch.records.size()) +
                     " records; the limit is " + std::to_string(config_.max_records_per_batch));
  }
  // A token belongs to one agent installation: the first batch binds its agent id.
  if (!enrolled.agent_id.empty() && enrolled.agent_id != batch.agent.id) {
    return error(req, http::status::forbidden, "agent_mismatch",
                 "this token is bound to another agent id than " + batch.agent.id);
  }

  IngestBatch in;
  in.agent = enrolled.name;
  in.agent_id = batch.agent.id;
  in.hostname = batch.agent.hostname;
  in.version = batch.agent.version;
  in.batch_id = batch.batch_id;
  in.received = now_();
  in.forward_outputs = forward_outputs_;
  in.records.reserve(batch.records.size());
  for (DecodedRecord& d : batch.records) {
    IngestRecord r;
    r.kind = d.kind;
    r.key = std::move(d.key);
    if (d.time) {
      if (auto ft = parseFiletime(*d.time)) r.time = filetimeToUnixMicros(*ft);
    }
    if (d.kind == RecordKind::kEvent) {
      r.host = stringAt(d.body, {"System", "Computer"});
      r.channel = stringAt(d.body, {"System", "Channel"});
      r.event_id = intAt(d.body, {"System", "EventID"});
      r.record_id = intAt(d.body, {"System", "EventRecordID"});
    } else if (d.kind == RecordKind::kAlert) {
      r.rule_id = stringAt(d.body, {"rule_id"});
      r.rule_title = stringAt(d.body, {"rule_title"});
      r.level = stringAt(d.body, {"level"});
      r.host = stringAt(d.body, {"event", "System", "Computer"});
      const std::string channel = stringAt(d.body, {"event", "System", "Channel"});
      if (!channel.empty()) {
        // The stored key of the event that matched (agent id | channel | EventRecordID).
        r.event_key = batch.agent.id + "|" + channel + "|" +
                      std::to_string(intAt(d.body, {"event", "System", "EventRecordID"}));
      }
      if (!r.time) {
        if (auto ft = parseFiletime(stringAt(d.body, {"time"}))) r.time = filetimeToUnixMicros(*ft);
      }
    } else {
      r.status_type = stringAt(d.body, {"type"});
      if (r.status_type == "queue_drop")
        in.drops += std::max<int64_t>(1, intAt(d.body, {"dropped_events"}));
      if (r.status_type.find("gap") != std::string::npos) ++in.gaps;
      if (r.status_type == "agent_status") in.status = dump(d.body);
    }
    if (r.host.empty()) r.host = batch.agent.hostname;
    r.body = dump(d.body);
    in.records.push_back(std::move(r));
  }
  auto stored = storage_.ingest(in);
  if (!stored) return storageFailure(req, stored.error());
  if (stored->duplicate_batch) {
    ++metrics_.duplicate_batches;
    metrics_.dedup_hits += in.records.size();
  } else {
    ++metrics_.batches;
    metrics_.dedup_hits += static_cast<uint64_t>(stored->duplicates);
    metrics_.events += static_cast<uint64_t>(stored->stored_events);
    metrics_.alerts += static_cast<uint64_t>(stored->stored_alerts);
  }
  return jsonResponse(
      req, http::status::ok,
      Json{{"batch_id", in.batch_id},
           {"status", stored->duplicate_batch ? "duplicate" : "stored"},
           {"stored", stored->stored},
           {"duplicates", stored->duplicate_batch ? static_cast<int64_t>(in.records.size())
                                                  : stored->duplicates}});
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
  Json body = Json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("user") ||
      !body.contains("password") || !body["user"].is_string() || !body["password"].is_string()) {
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
  if (a.last_seen) {
    const bool silent = now - *a.last_seen > int64_t{silent_after_seconds} * 1'000'000;
    health = silent ? "silent" : (a.drops > 0 || a.gaps > 0) ? "degraded" : "ok";
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
      {"queue_depth", status.contains("queue_depth") ? status["queue_depth"] : Json(nullptr)},
      {"status", status},
      {"health", health}};
  return j;
}

}  // namespace

Response CollectorApp::agents(const Request& req) {
  auto list = storage_.listAgents();
  if (!list) return storageFailure(req, list.error());
  Json out = Json::array();
  const int64_t now = now_();
  for (const auto& a : *list) out.push_back(agentJson(a, now, config_.silent_after_seconds));
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
  return jsonResponse(req, http::status::ok, j);
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
