// The fakes' PKI: every ECDSA signature has both halves at full length (32 bytes), which Wine 8's
// crypt32 needs to verify it (see test_pki.cpp); without that, about one certificate in 128 failed.
#include "tests/fakes/test_pki.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>

#include "tests/support/temp_dir.h"

namespace t0w::fakes {
namespace {

// The lengths of r and s of each certificate in a PEM file.
std::vector<std::pair<int, int>> signatureHalves(const std::string& path) {
  std::vector<std::pair<int, int>> out;
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return out;
  while (X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
    const ASN1_BIT_STRING* sig = nullptr;
    const X509_ALGOR* alg = nullptr;
    X509_get0_signature(&sig, &alg, cert);
    const unsigned char* p = sig->data;
    if (ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, sig->length)) {
      const BIGNUM* r = nullptr;
      const BIGNUM* s = nullptr;
      ECDSA_SIG_get0(ecdsa, &r, &s);
      out.emplace_back(BN_num_bytes(r), BN_num_bytes(s));
      ECDSA_SIG_free(ecdsa);
    }
    X509_free(cert);
  }
  std::fclose(f);
  return out;
}

TEST(TestPki, EverySignatureHasFullLengthHalves) {
  t0w::testing::TempDir dir;
  // 200 PKIs, 600 signatures: without the re-signing, one or more short halves in 99 % of runs.
  size_t seen = 0;
  for (int i = 0; i < 200; ++i) {
    auto files = writeTestPki(dir.path().string(), {"DNS:localhost"});
    ASSERT_TRUE(files) << files.error().toString();
    for (const std::string& path : {files->server_cert, files->client_cert}) {
      for (const auto& [r, s] : signatureHalves(path)) {
        EXPECT_EQ(r, 32);
        EXPECT_EQ(s, 32);
        ++seen;
      }
    }
  }
  EXPECT_EQ(seen, 800u);  // two certificates in each chain file: leaf and CA
}

}  // namespace
}  // namespace t0w::fakes
