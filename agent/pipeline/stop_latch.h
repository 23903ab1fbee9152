// StopLatch: the pipeline's stop request, shared by its stages, with interruptible waits.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace t0w {

class StopLatch {
 public:
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  bool stopped() const { return stopped_; }
  // Waits `d` or until stop(); true when stopped.
  bool waitFor(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, d, [&] { return stopped_.load(); });
  }

 private:
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace t0w
