// RateLimiter: a token bucket per agent. Time is passed in so tests need no clock.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace t0w::collector {

class RateLimiter {
 public:
  RateLimiter(double per_second, double burst) : rate_(per_second), burst_(burst) {}

  // nullopt when the request may proceed; otherwise how long until it would.
  std::optional<std::chrono::milliseconds> acquire(const std::string& key,
                                                   std::chrono::steady_clock::time_point now);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double rate_;
  double burst_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace t0w::collector
