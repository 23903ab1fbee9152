// RateLimiter: a token bucket per key (an agent, a client address). Time is passed in so tests
// need no clock.
//
// In memory by default (SQLite: one collector process). Given a Storage on PostgreSQL, where
// several instances share the database (docs/scaling.md), the buckets live in the database
// (Storage::takeRateToken: one statement on the database's clock), so N instances together
// allow the configured rate, not N times it. When that statement fails, the in-memory bucket
// decides (each instance then allows the rate on its own) and `fallbacks()` counts it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace t0w::collector {

class Storage;

class RateLimiter {
 public:
  RateLimiter(double per_second, double burst) : rate_(per_second), burst_(burst) {}
  // Shared through `storage` when it is PostgreSQL; `scope` prefixes the keys in the database
  // (agent, login, enroll), so that the limiters never share a bucket.
  RateLimiter(double per_second, double burst, Storage& storage, std::string scope);

  // nullopt when the request may proceed; otherwise how long until it would.
  std::optional<std::chrono::milliseconds> acquire(const std::string& key,
                                                   std::chrono::steady_clock::time_point now);

  bool shared() const { return shared_ != nullptr; }
  uint64_t fallbacks() const { return fallbacks_.load(); }

 private:
  std::optional<std::chrono::milliseconds> acquireLocal(const std::string& key,
                                                        std::chrono::steady_clock::time_point now);
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double rate_;
  double burst_;
  Storage* shared_ = nullptr;
  std::string scope_;
  std::atomic<uint64_t> fallbacks_{0};
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace t0w::collector
