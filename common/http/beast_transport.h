// BeastTransport: the portable HTTPS transport (Boost.Beast + OpenSSL), see docs/adr/0001.
// TLS verification cannot be switched off: the server's chain is checked against the system CA
// store plus an optional bundle, and its name against the URL's host. Plain http:// needs
// `allow_insecure`. One request at a time (the shipper thread owns it); the connection is
// kept alive between requests and reopened when it breaks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/core/result.h"
#include "common/http/transport.h"

namespace t0w {

struct BeastTransportOptions {
  // Collector base URL: "https://host[:port][/prefix]". HttpRequest::path is appended.
  std::string url;
  std::string ca_bundle_file;    // optional PEM bundle, trusted instead of the system store
  std::string client_cert_file;  // optional PEM chain for mutual TLS (needs client_key_file)
  std::string client_key_file;   // optional PEM private key for mutual TLS
  bool allow_insecure = false;   // permit an http:// URL (logs a warning)
  // Optional HTTP proxy reached with CONNECT: "http://[user:password@]host:port".
  std::string proxy_url;
  size_t max_response_bytes = 1 << 20;  // a larger response fails with kProtocol
  std::string user_agent = "Tier0Watch";
};

class BeastTransport final : public Transport {
 public:
  // Fails (kInvalidArgument / kIo) on a bad URL, an http URL without allow_insecure, or an
  // unreadable CA bundle / client certificate / key.
  static Result<std::unique_ptr<BeastTransport>> create(BeastTransportOptions options);
  ~BeastTransport() override;

  TransportResult send(const HttpRequest& request) override;

  // Drops the kept-alive connection; the next send() connects afresh (e.g. after a config
  // change, or to spread load after a long pause).
  void closeConnection();

  // Connections opened so far; stays at 1 while keep-alive reuse works.
  uint64_t connectionsOpened() const;

 private:
  class Impl;
  explicit BeastTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace t0w
