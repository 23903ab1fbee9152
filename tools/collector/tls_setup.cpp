#include "tools/collector/tls_setup.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace t0w::collector {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CertFree {
  void operator()(X509* p) const { X509_free(p); }
};

bool addExt(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

Result<CertFiles> ensureSelfSignedCert(const std::string& state_dir,
                                       const std::vector<std::string>& names) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(state_dir) / "tls";
  CertFiles files{(dir / "collector.pem").string(), (dir / "collector.key").string(), false};
  std::error_code ec;
  if (fs::exists(files.cert, ec) && fs::exists(files.key, ec)) return files;
  fs::create_directories(dir, ec);
  if (ec) return makeError(Errc::kIo, dir.string() + ": " + ec.message());

  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, CertFree> cert(X509_new());
  if (!key || !cert) return makeError(Errc::kInternal, "self-signed certificate: key generation");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Tier0Watch"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tier0watch-collector"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& n : names) san += (san.empty() ? "" : ",") + n;
  // CA:TRUE so that agents can trust this very certificate as their CA bundle.
  if (!addExt(cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !addExt(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign") ||
      !addExt(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !addExt(cert.get(), NID_subject_key_identifier, "hash") ||
      (!san.empty() && !addExt(cert.get(), NID_subject_alt_name, san)) ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return makeError(Errc::kInternal, "self-signed certificate: signing");
  }
  const mode_t old = umask(077);  // the key file is readable by the collector's user only
  FILE* kf = std::fopen(files.key.c_str(), "w");
  umask(old);
  if (kf == nullptr) return makeError(Errc::kIo, files.key + ": cannot write");
  const bool key_ok =
      PEM_write_PrivateKey(kf, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (std::fclose(kf) != 0 || !key_ok) return makeError(Errc::kIo, files.key + ": write failed");
  FILE* cf = std::fopen(files.cert.c_str(), "w");
  if (cf == nullptr) return makeError(Errc::kIo, files.cert + ": cannot write");
  const bool cert_ok = PEM_write_X509(cf, cert.get()) == 1;
  if (std::fclose(cf) != 0 || !cert_ok) return makeError(Errc::kIo, files.cert + ": write failed");
  files.generated = true;
  return files;
}

Result<std::unique_ptr<boost::asio::ssl::context>> makeServerTls(const CollectorConfig& config) {
  namespace ssl = boost::asio::ssl;
  std::string cert = config.tls_cert_file;
  std::string key = config.tls_key_file;
  if (cert.empty()) {
    char host[256] = {0};
    std::vector<std::string> names = {"DNS:localhost", "IP:127.0.0.1", "IP:::1"};
    if (gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0') {
      names.push_back(std::string("DNS:") + host);
    }
    auto files = ensureSelfSignedCert(config.state_dir, names);
    if (!files) return files.error();
    cert = files->cert;
    key = files->key;
  }
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  if (!ec) ctx->use_certificate_chain_file(cert, ec);
  if (ec) return makeError(Errc::kIo, cert + ": " + ec.message());
  ctx->use_private_key_file(key, ssl::context::pem, ec);
  if (ec) return makeError(Errc::kIo, key + ": " + ec.message());
  if (!config.tls_client_ca_file.empty()) {
    ctx->load_verify_file(config.tls_client_ca_file, ec);
    if (ec) return makeError(Errc::kIo, config.tls_client_ca_file + ": " + ec.message());
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    if (ec) return makeError(Errc::kInternal, "mutual TLS: " + ec.message());
  }
  return ctx;
}

}  // namespace t0w::collector
