#include "tools/collector/rate_limiter.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tools/collector/storage.h"

namespace t0w::collector {

RateLimiter::RateLimiter(double per_second, double burst, Storage& storage, std::string scope)
    : rate_(per_second), burst_(burst), scope_(std::move(scope)) {
  if (std::strcmp(storage.driver(), "postgres") == 0) shared_ = &storage;
}

std::optional<std::chrono::milliseconds> RateLimiter::acquire(
    const std::string& key, std::chrono::steady_clock::time_point now) {
  if (shared_ != nullptr) {
    auto wait = shared_->takeRateToken(scope_ + ":" + key, rate_, burst_);
    if (wait) {
      if (!*wait) return std::nullopt;
      return std::chrono::milliseconds((**wait + 999) / 1000);
    }
    // The database is out of reach: this instance limits on its own meanwhile.
    if (fallbacks_.fetch_add(1) % 1000 == 0) {
      spdlog::warn("rate limit {}: shared bucket unavailable, limiting in memory: {}", scope_,
                   wait.error().toString());
    }
  }
  return acquireLocal(key, now);
}

std::optional<std::chrono::milliseconds> RateLimiter::acquireLocal(
    const std::string& key, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!inserted && now > b.last) {
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait_s = (1.0 - b.tokens) / rate_;
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(wait_s * 1000.0)));
}

}  // namespace t0w::collector
