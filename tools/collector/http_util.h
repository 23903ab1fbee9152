// Small helpers of the collector's request handlers: JSON responses and refusals, header and
// query-string parsing, time formatting.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "tools/collector/http_server.h"

namespace t0w::collector {

using Json = nlohmann::json;

// Unix microseconds now; injected so tests control time.
using NowFn = std::function<int64_t()>;
int64_t systemNowMicros();

// Boost 1.74's Beast has its own string_view.
inline std::string_view sv(boost::beast::string_view v) { return {v.data(), v.size()}; }

// Serialises with invalid UTF-8 replaced (never throws on what an agent sent).
std::string dump(const Json& j);
Response jsonResponse(const Request& req, http::status status, const Json& body);
Response error(const Request& req, http::status status, const std::string& err,
               const std::string& detail);

std::string percentDecode(std::string_view s);
std::map<std::string, std::string> parseQuery(std::string_view q);
std::optional<int64_t> parseInt(std::string_view s);
std::optional<std::string> cookie(const Request& req, std::string_view name);
// The token of an `Authorization: Bearer <token>` header, if the request has one.
std::optional<std::string_view> bearerToken(const Request& req);

// ISO 8601 UTC with 7 fraction digits, or null.
Json isoTime(const std::optional<int64_t>& micros);
// Text stored as JSON, parsed back (or as a string when it is not JSON).
Json parsedBody(const std::string& body);

}  // namespace t0w::collector
