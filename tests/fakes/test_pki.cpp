#include "tests/fakes/test_pki.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>

namespace t0w::fakes {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CertFree {
  void operator()(X509* p) const { X509_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;

bool addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// Whether both halves of the certificate's ECDSA signature (P-256) are 32 bytes long. Wine 8's
// crypt32 (CNG_PrepareSignatureECC) joins r and s without padding them to the key's size, so a
// signature with a shorter one (about 1 in 128) fails to verify there: TLS tests under Wine
// failed with WinHTTP 12157 that often (docs/windows-verification.md). Windows has no such limit.
bool fullLengthEcdsaSignature(const X509* cert) {
  const ASN1_BIT_STRING* sig = nullptr;
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(&sig, &alg, cert);
  const unsigned char* p = sig->data;
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, sig->length);
  if (ecdsa == nullptr) return true;  // not ECDSA
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(ecdsa, &r, &s);
  const bool full = BN_num_bytes(r) == 32 && BN_num_bytes(s) == 32;
  ECDSA_SIG_free(ecdsa);
  return full;
}

// issuer == nullptr makes a self-signed certificate.
CertPtr makeCert(EVP_PKEY* key, const std::string& common_name, X509* issuer, EVP_PKEY* issuer_key,
                 const std::vector<std::pair<int, std::string>>& extensions) {
  CertPtr cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  unsigned char serial_bytes[16];
  RAND_bytes(serial_bytes, sizeof(serial_bytes));
  serial_bytes[0] &= 0x7f;  // positive serial
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7 * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Tier0Watch tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  for (const auto& [nid, value] : extensions) {
    if (!addExtension(cert.get(), signer, nid, value)) return nullptr;
  }
  // ECDSA signs with a fresh random number each time: signed again until Wine can verify it.
  for (int attempt = 0; attempt < 64; ++attempt) {
    if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
      return nullptr;
    }
    if (fullLengthEcdsaSignature(cert.get())) return cert;
  }
  return nullptr;
}

bool writeCerts(const std::string& path, const std::vector<X509*>& certs) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = true;
  for (X509* cert : certs) ok = ok && PEM_write_X509(f, cert) == 1;
  return std::fclose(f) == 0 && ok;
}

bool writeKey(const std::string& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  return std::fclose(f) == 0 && ok;
}

}  // namespace

Result<TestPkiFiles> writeTestPki(const std::string& dir,
                                  const std::vector<std::string>& server_names,
                                  const std::string& ca_name) {
  if (server_names.empty()) return makeError(Errc::kInvalidArgument, "no server names");
  KeyPtr ca_key(EVP_EC_gen("P-256"));
  KeyPtr server_key(EVP_EC_gen("P-256"));
  KeyPtr client_key(EVP_EC_gen("P-256"));
  if (!ca_key || !server_key || !client_key) return makeError(Errc::kInternal, "EC key generation");

  CertPtr ca = makeCert(ca_key.get(), ca_name, nullptr, nullptr,
                        {{NID_basic_constraints, "critical,CA:TRUE"},
                         {NID_key_usage, "critical,keyCertSign,cRLSign"},
                         {NID_subject_key_identifier, "hash"}});
  std::string san;
  for (const auto& name : server_names) san += (san.empty() ? "" : ",") + name;
  const std::string& first = server_names.front();
  const std::string cn = first.substr(first.find(':') + 1);
  CertPtr server = ca ? makeCert(server_key.get(), cn, ca.get(), ca_key.get(),
                                 {{NID_basic_constraints, "critical,CA:FALSE"},
                                  {NID_ext_key_usage, "serverAuth"},
                                  {NID_subject_alt_name, san},
                                  {NID_authority_key_identifier, "keyid"}})
                      : nullptr;
  CertPtr client = ca ? makeCert(client_key.get(), "tier0watch-test-agent", ca.get(), ca_key.get(),
                                 {{NID_basic_constraints, "critical,CA:FALSE"},
                                  {NID_ext_key_usage, "clientAuth"},
                                  {NID_authority_key_identifier, "keyid"}})
                      : nullptr;
  if (!ca || !server || !client) return makeError(Errc::kInternal, "certificate generation");

  TestPkiFiles files{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key", dir + "/client.pem",
                     dir + "/client.key"};
  if (!writeCerts(files.ca_cert, {ca.get()}) ||
      !writeCerts(files.server_cert, {server.get(), ca.get()}) ||
      !writeKey(files.server_key, server_key.get()) ||
      !writeCerts(files.client_cert, {client.get(), ca.get()}) ||
      !writeKey(files.client_key, client_key.get())) {
    return makeError(Errc::kIo, "writing certificates into " + dir);
  }
  return files;
}

std::string hashedCaFileName(const std::string& pem_file) {
  FILE* f = std::fopen(pem_file.c_str(), "r");
  if (f == nullptr) return {};
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) return {};
  char name[16];
  std::snprintf(name, sizeof name, "%08lx.0", X509_subject_name_hash(cert));
  X509_free(cert);
  return name;
}

}  // namespace t0w::fakes
