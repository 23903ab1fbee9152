// t0w-trust-ca: puts a PEM (or DER) certificate into a Windows system store, or takes it out
// again. The WinHTTP integration test runs it under Wine to trust t0w-fake-collector's CA in the
// Wine prefix's Root store (scripts/windows/trust-ca.sh runs it by hand).
// `check` exits 0 when the certificate is in the store as a new process reads it (1 when not):
// evidence when a TLS test under Wine fails as if the CA were missing.
//   t0w-trust-ca add|remove|check <certificate file> [--store Root] [--user]
#include <windows.h>
// wincrypt.h needs windows.h first.
#include <wincrypt.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: t0w-trust-ca add|remove|check <cert.pem> [--store Root] [--user]\n");
    return 2;
  }
  const std::string action = argv[1];
  const std::string path = argv[2];
  std::wstring store_name = L"Root";
  DWORD location = CERT_SYSTEM_STORE_LOCAL_MACHINE;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--user") {
      location = CERT_SYSTEM_STORE_CURRENT_USER;
    } else if (arg == "--store" && i + 1 < argc) {
      const std::string name = argv[++i];
      store_name.assign(name.begin(), name.end());
    } else {
      std::fprintf(stderr, "t0w-trust-ca: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  if (action != "add" && action != "remove" && action != "check") {
    std::fprintf(stderr, "t0w-trust-ca: action must be add, remove or check\n");
    return 2;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "t0w-trust-ca: cannot read %s\n", path.c_str());
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  const std::string data = text.str();
  DWORD der_size = 0;
  std::vector<BYTE> der;
  // CRYPT_STRING_BASE64_ANY takes PEM (with header) and bare base64; otherwise the file is DER.
  if (CryptStringToBinaryA(data.c_str(), static_cast<DWORD>(data.size()), CRYPT_STRING_BASE64_ANY,
                           nullptr, &der_size, nullptr, nullptr)) {
    der.resize(der_size);
    CryptStringToBinaryA(data.c_str(), static_cast<DWORD>(data.size()), CRYPT_STRING_BASE64_ANY,
                         der.data(), &der_size, nullptr, nullptr);
  } else {
    der.assign(data.begin(), data.end());
  }
  // The store's registry location itself, not the system store (a collection over it): through
  // the collection, Wine 8's delete wrote the certificate back at once (it stayed, and every
  // test's CA piled up in the prefix's Root).
  HCERTSTORE store =
      CertOpenStore(CERT_STORE_PROV_SYSTEM_REGISTRY_W, 0, 0, location, store_name.c_str());
  if (store == nullptr) {
    std::fprintf(stderr, "t0w-trust-ca: cannot open the store (error %lu)\n", GetLastError());
    return 1;
  }
  int rc = 0;
  if (action == "add") {
    if (!CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, der.data(),
                                          static_cast<DWORD>(der.size()),
                                          CERT_STORE_ADD_REPLACE_EXISTING, nullptr)) {
      std::fprintf(stderr, "t0w-trust-ca: adding %s failed (error %lu)\n", path.c_str(),
                   GetLastError());
      rc = 1;
    }
  } else {
    const CERT_CONTEXT* wanted =
        CertCreateCertificateContext(X509_ASN_ENCODING, der.data(), static_cast<DWORD>(der.size()));
    const CERT_CONTEXT* found =
        wanted == nullptr ? nullptr
                          : CertFindCertificateInStore(store, X509_ASN_ENCODING, 0,
                                                       CERT_FIND_EXISTING, wanted, nullptr);
    if (found != nullptr && action == "check") {
      CertFreeCertificateContext(found);
    } else if (found == nullptr || !CertDeleteCertificateFromStore(found)) {
      std::fprintf(stderr, "t0w-trust-ca: %s is not in the store\n", path.c_str());
      rc = 1;
    }
    if (wanted != nullptr) CertFreeCertificateContext(wanted);
  }
  CertCloseStore(store, 0);
  return rc;
}
