// Secrets of the collector: agent tokens and session cookies (random, stored only as SHA-256),
// dashboard passwords (PBKDF2-HMAC-SHA256 with a per-user salt), constant-time comparison.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/core/result.h"
#include "tools/collector/storage.h"

namespace t0w::collector {

// OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
inline constexpr int64_t kPbkdf2Iterations = 600'000;

// `bytes` random bytes from OpenSSL's CSPRNG as lower-case hex.
Result<std::string> randomHex(size_t bytes);
// A 256-bit agent token or session id.
Result<std::string> newToken();
std::string sha256Hex(std::string_view data);

// SHA-256 over pieces fed one by one (a batch's records, without joining them first).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256& update(std::string_view data);
  // Ends the hash; lower-case hex.
  std::string hexDigest();

 private:
  void* ctx_;  // EVP_MD_CTX
};
bool constantTimeEquals(std::string_view a, std::string_view b);

// A user record for `password` with a fresh 128-bit salt.
Result<UserRecord> hashPassword(const std::string& name, std::string_view password,
                                int64_t iterations, int64_t now);
bool verifyPassword(const UserRecord& user, std::string_view password);

}  // namespace t0w::collector
