// HttpsServer: the collector's listener (Boost.Beast over Asio + OpenSSL). It owns the limits
// that keep hostile clients from exhausting it (connections in all and per address, deadlines
// set once per phase so that a slow client cannot stretch them, header and body sizes) and hands
// each complete request to one Handler, which runs on a worker pool: the network threads only
// do TLS and HTTP, so storage, decoding and PBKDF2 never stall other connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/result.h"
#include "tools/collector/metrics.h"

namespace t0w::collector {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct ServerLimits {
  size_t max_header_bytes = 16 << 10;
  size_t max_body_bytes = 16 << 20;      // batch uploads (kLargeBodyPath)
  size_t max_api_body_bytes = 64 << 10;  // every other request
  // Until a request's headers are in (from the handshake or the previous answer).
  std::chrono::seconds idle_timeout{30};
  // Reading the body, and writing the answer: each a deadline set once, not per read.
  std::chrono::seconds request_timeout{60};
  std::chrono::seconds handshake_timeout{10};
  size_t max_connections = 512;
  size_t max_connections_per_ip = 64;
  size_t worker_threads = 4;
};

// The one route that accepts large bodies.
inline constexpr std::string_view kLargeBodyPath = "/api/v1/batches";

struct RequestContext {
  std::string remote;  // "ip:port"
};

using Handler = std::function<Response(const Request&, const RequestContext&)>;
// Runs on the worker pool with a request's headers only (empty body), for the large-body route,
// before its body is read: a refusal is answered and the body discarded unread (bounded), so an
// unauthenticated client never makes the collector hold max_body_bytes.
using Authorizer = std::function<std::optional<Response>(const Request&, const RequestContext&)>;

// {"error": error, "detail": detail} with the status, as every refusal of the collector looks.
Response jsonError(unsigned version, http::status status, const std::string& error,
                   const std::string& detail);

class HttpsServer {
 public:
  HttpsServer(boost::asio::io_context& ioc, boost::asio::ssl::context& tls, ServerLimits limits,
              Handler handler, Metrics& metrics, Authorizer before_body = {});
  ~HttpsServer();

  // Binds and starts accepting; returns the bound port (useful with port 0).
  Result<uint16_t> listen(const std::string& address, uint16_t port);
  // Stops accepting; open connections finish their current request and close.
  void stopAccepting();
  // Requests being handled now.
  int64_t inFlight() const;
  // Waits for the handlers queued or running on the worker pool (after stopAccepting()).
  void joinWorkers();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace t0w::collector
