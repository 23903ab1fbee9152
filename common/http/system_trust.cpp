#include "common/http/system_trust.h"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace t0w {
namespace {

// "<8 hex digits>.<digits>": the names c_rehash / update-ca-certificates give certificates.
bool isHashName(std::string_view name) {
  if (name.size() < 10 || name[8] != '.') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = i < 8 ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
                          : (i == 8 || (c >= '0' && c <= '9'));
    if (!ok) return false;
  }
  return true;
}

// True when one of `dirs` (':'-separated, as OpenSSL reads them) holds a hashed certificate.
bool hasHashedCertificate(std::string_view dirs) {
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    const std::string dir(dirs.substr(0, colon));
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (isHashName(it->path().filename().native())) return true;
    }
  }
  return false;
}

}  // namespace

Status addSystemTrust(SSL_CTX* ctx) {
  const char* file_env = std::getenv(X509_get_default_cert_file_env());
  const char* dir_env = std::getenv(X509_get_default_cert_dir_env());
  const std::string dirs = dir_env != nullptr ? dir_env : X509_get_default_cert_dir();
  if (file_env == nullptr && hasHashedCertificate(dirs)) {
    X509_LOOKUP* lookup =
        X509_STORE_add_lookup(SSL_CTX_get_cert_store(ctx), X509_LOOKUP_hash_dir());
    // X509_FILETYPE_DEFAULT: SSL_CERT_DIR or OpenSSL's directory, the ones checked above.
    if (lookup != nullptr && X509_LOOKUP_add_dir(lookup, nullptr, X509_FILETYPE_DEFAULT) == 1) {
      return {};
    }
  }
  if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return makeError(Errc::kIo, "the system CA store is unavailable");
  }
  return {};
}

}  // namespace t0w
