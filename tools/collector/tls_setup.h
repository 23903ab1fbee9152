// The collector's TLS: a configured certificate, or a self-signed one generated on first run
// into the state directory; optional mutual TLS against a client CA.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "common/core/result.h"
#include "tools/collector/config.h"

namespace t0w::collector {

struct CertFiles {
  std::string cert;
  std::string key;
  bool generated = false;
};

// Writes state_dir/tls/collector.pem and collector.key (ECDSA P-256, one year) unless both exist.
// `names` become subjectAltNames ("DNS:localhost", "IP:127.0.0.1").
Result<CertFiles> ensureSelfSignedCert(const std::string& state_dir,
                                       const std::vector<std::string>& names);

Result<std::unique_ptr<boost::asio::ssl::context>> makeServerTls(const CollectorConfig& config);

}  // namespace t0w::collector
