// Transport: one HTTP exchange with the collector. Implementations (BeastTransport here,
// WinHttpTransport on Windows) only move bytes; deciding what a response means is outcome.h's job.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace t0w {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive lookup of the first header with this name.
std::optional<std::string_view> findHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method = "POST";
  std::string path = "/";  // origin-form target, appended to the transport's base URL
  // Sent as "Authorization: Bearer <token>". Kept apart from `headers` so that nothing that
  // prints headers can leak it; transports never put it in logs or error messages.
  std::string bearer_token;
  HttpHeaders headers;  // e.g. Content-Type, Content-Encoding: gzip
  std::string body;     // bytes as sent (already gzip-compressed by the batch encoder)
  // Deadline for the whole exchange (DNS, connect, proxy, TLS, write, read), measured from the
  // call to send(). A server that hangs yields TransportErrorKind::kTimeout.
  std::chrono::milliseconds timeout{30'000};
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;

  std::optional<std::string_view> header(std::string_view name) const {
    return findHeader(headers, name);
  }
};

enum class TransportErrorKind {
  kConnectRefused,   // nothing listens, or the network is unreachable
  kDns,              // host name did not resolve
  kTlsVerification,  // the server's certificate chain or host name failed verification
  kTls,              // any other TLS failure (handshake, protocol, alert)
  kTimeout,          // the request deadline passed
  kReset,            // connection reset or closed early by the peer
  kProxy,            // the proxy refused the CONNECT or answered garbage
  kProtocol,         // malformed HTTP, or a response above the size limit
  kOther,
};

const char* transportErrorKindName(TransportErrorKind kind);

struct TransportError {
  TransportErrorKind kind = TransportErrorKind::kOther;
  std::string message;  // names host and step; never contains the bearer token

  std::string toString() const {
    return std::string(transportErrorKindName(kind)) + ": " + message;
  }
};

// Either the server answered (any status), or the exchange failed below HTTP.
class TransportResult {
 public:
  TransportResult(HttpResponse response) : v_(std::move(response)) {}  // NOLINT: implicit
  TransportResult(TransportError error) : v_(std::move(error)) {}      // NOLINT: implicit

  bool isResponse() const { return v_.index() == 0; }
  const HttpResponse& response() const { return std::get<0>(v_); }
  const TransportError& error() const { return std::get<1>(v_); }

 private:
  std::variant<HttpResponse, TransportError> v_;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Blocks until the exchange completes, fails, or the request's deadline passes.
  virtual TransportResult send(const HttpRequest& request) = 0;
};

}  // namespace t0w
