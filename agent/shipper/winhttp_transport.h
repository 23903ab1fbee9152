// WinHttpTransport: the Windows HTTPS transport (WinHTTP), see docs/adr/0001. The server is
// validated by WinHTTP against the Windows certificate store; no SECURITY_FLAG_IGNORE_* flag is
// ever set. Proxy: the system's by default, or a configured one. Mutual TLS with a certificate
// from a system store (winhttp_options.h). One request at a time (the shipper thread owns it);
// WinHTTP keeps the connection alive in the session's pool between requests.
// Windows only.
#pragma once

#include <cstdint>
#include <memory>

#include "agent/shipper/winhttp_options.h"
#include "common/core/result.h"
#include "common/http/transport.h"

namespace t0w {

class WinHttpTransport final : public Transport {
 public:
  // Fails (kInvalidArgument) on invalid options (validateWinHttpOptions), (kNotFound) when a
  // client certificate is configured and none qualifies, (kIo) when WinHTTP cannot start.
  static Result<std::unique_ptr<WinHttpTransport>> create(WinHttpTransportOptions options);
  ~WinHttpTransport() override;

  TransportResult send(const HttpRequest& request) override;

  // Drops the session and its pooled connections; the next send() starts afresh and selects
  // the client certificate again (a renewed one wins).
  void closeConnection();

  // TCP connections opened so far (WINHTTP_CALLBACK_STATUS_CONNECTED_TO_SERVER); stays at 1
  // while keep-alive reuse works.
  uint64_t connectionsOpened() const;

  // The proxy access type WinHttpOpen accepted: "automatic", "default", "named" or "direct".
  const char* proxyAccess() const;

 private:
  class Impl;
  explicit WinHttpTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace t0w
