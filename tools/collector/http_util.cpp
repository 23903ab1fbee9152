#include "tools/collector/http_util.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

#include "common/core/time.h"
#include "common/text/ascii.h"

namespace t0w::collector {

int64_t systemNowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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

std::optional<std::string_view> bearerToken(const Request& req) {
  auto auth = req.find(http::field::authorization);
  if (auth == req.end()) return std::nullopt;
  std::string_view value = sv(auth->value());
  if (value.size() < 8 || lowerAscii(value.substr(0, 7)) != "bearer ") return std::nullopt;
  return value.substr(7);
}

Json isoTime(const std::optional<int64_t>& micros) {
  if (!micros) return nullptr;
  return formatFiletime(unixMicrosToFiletime(*micros));
}

Json parsedBody(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  return j.is_discarded() ? Json(body) : j;
}

}  // namespace t0w::collector
