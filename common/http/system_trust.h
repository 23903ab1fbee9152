// The system's trusted CAs for an OpenSSL client context (Linux; Windows uses its certificate
// store through WinHTTP).
#pragma once

#include <openssl/ssl.h>

#include "common/core/result.h"

namespace t0w {

// Where the system keeps a hashed directory (Debian's /etc/ssl/certs, or SSL_CERT_DIR), its CAs
// are looked up when a chain needs one: OpenSSL's SSL_CTX_set_default_verify_paths also parses the
// whole bundle file first (about 140 certificates, 20 ms of CPU at every start). Without such a
// directory, or with SSL_CERT_FILE set, the default paths are loaded as OpenSSL does.
Status addSystemTrust(SSL_CTX* ctx);

}  // namespace t0w
