#include "tools/collector/security.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <vector>

namespace t0w::collector {
namespace {

std::string hex(const unsigned char* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 15]);
  }
  return out;
}

std::optional<std::vector<unsigned char>> unhex(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  std::vector<unsigned char> out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = nibble(s[i]);
    const int lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<unsigned char>(hi * 16 + lo));
  }
  return out;
}

std::optional<std::string> pbkdf2(std::string_view password, const std::vector<unsigned char>& salt,
                                  int64_t iterations) {
  unsigned char out[32];
  if (iterations < 1 || iterations > 100'000'000) return std::nullopt;
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        sizeof(out), out) != 1) {
    return std::nullopt;
  }
  return hex(out, sizeof(out));
}

}  // namespace

Result<std::string> randomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    return makeError(Errc::kInternal, "OpenSSL RAND_bytes failed");
  }
  return hex(buf.data(), buf.size());
}

Result<std::string> newToken() { return randomHex(32); }

std::string sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return hex(digest, len);
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

Sha256& Sha256::update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
  return *this;
}

std::string Sha256::hexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, &len);
  return hex(digest, len);
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<UserRecord> hashPassword(const std::string& name, std::string_view password,
                                int64_t iterations, int64_t now) {
  auto salt = randomHex(16);
  if (!salt) return salt.error();
  auto hash = pbkdf2(password, *unhex(*salt), iterations);
  if (!hash) return makeError(Errc::kInternal, "PBKDF2 failed");
  return UserRecord{name, *salt, *hash, iterations, now};
}

bool verifyPassword(const UserRecord& user, std::string_view password) {
  auto salt = unhex(user.salt);
  if (!salt) return false;
  auto hash = pbkdf2(password, *salt, user.iterations);
  return hash && constantTimeEquals(*hash, user.hash);
}

}  // namespace t0w::collector
