// HttpsServer: the collector's listener (Boost.Beast over Asio + OpenSSL). It owns the limits
// that keep hostile clients from exhausting it (connections, handshake and idle timeouts, header
// and body sizes) and hands each complete request to one Handler.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "agent/core/result.h"
#include "tools/collector/metrics.h"

namespace t0w::collector {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct ServerLimits {
  size_t max_header_bytes = 16 << 10;
  size_t max_body_bytes = 16 << 20;
  std::chrono::seconds idle_timeout{30};
  std::chrono::seconds handshake_timeout{10};
  size_t max_connections = 512;
};

struct RequestContext {
  std::string remote;  // "ip:port"
};

using Handler = std::function<Response(const Request&, const RequestContext&)>;

// {"error": error, "detail": detail} with the status, as every refusal of the collector looks.
Response jsonError(unsigned version, http::status status, const std::string& error,
                   const std::string& detail);

class HttpsServer {
 public:
  HttpsServer(boost::asio::io_context& ioc, boost::asio::ssl::context& tls, ServerLimits limits,
              Handler handler, Metrics& metrics);
  ~HttpsServer();

  // Binds and starts accepting; returns the bound port (useful with port 0).
  Result<uint16_t> listen(const std::string& address, uint16_t port);
  // Stops accepting; open connections finish their current request and close.
  void stopAccepting();
  // Requests being handled now.
  int64_t inFlight() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace t0w::collector
