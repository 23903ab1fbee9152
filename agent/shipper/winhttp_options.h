// Options of WinHttpTransport (Windows, winhttp_transport.h) and their validation, kept portable
// so the rules are unit-tested on every platform. Semantics follow BeastTransportOptions where
// they apply; server validation always uses the Windows certificate store.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "agent/shipper/cert_store_select.h"
#include "common/core/result.h"
#include "common/http/url.h"

namespace t0w {

struct WinHttpTransportOptions {
  // Collector base URL: "https://host[:port][/prefix]". HttpRequest::path is appended.
  std::string url;
  bool allow_insecure = false;  // permit an http:// URL (logs a warning)
  // "" (default): the system proxy configuration (WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY, or
  // WINHTTP_ACCESS_TYPE_DEFAULT_PROXY before Windows 8.1); "direct": no proxy;
  // "http://[user:password@]host:port": this proxy (the credentials answer a 407).
  std::string proxy_url;
  size_t max_response_bytes = 1 << 20;  // a larger response fails with kProtocol
  std::string user_agent = "Tier0Watch";
  // Client certificate for mutual TLS (kNone: send none), looked up in this store.
  ClientCertSelector client_cert;
  CertStoreLocation client_cert_location = CertStoreLocation::kLocalMachine;
  std::string client_cert_store = "My";
};

enum class ProxyMode { kSystem, kDirect, kNamed };

struct WinHttpTarget {
  Url url;
  ProxyMode proxy_mode = ProxyMode::kSystem;
  std::optional<Url> proxy;  // set for kNamed
};

// kInvalidArgument on a bad URL, http without allow_insecure, credentials in the collector URL,
// a proxy that is not http://host:port, a zero response limit, or a user agent with CR/LF.
Result<WinHttpTarget> validateWinHttpOptions(const WinHttpTransportOptions& options);

}  // namespace t0w
