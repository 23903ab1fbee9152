#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "agent/platform/host_stop_signal.h"

namespace t0w {
namespace {

class PosixStopSignal final : public StopSignal {
 public:
  explicit PosixStopSignal(sigset_t set) : set_(set) {}

  ~PosixStopSignal() override {
    // A cancel() or a late signal may still be pending: take it, so that unblocking does not
    // deliver it with its default action (terminate).
    timespec zero{};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_UNBLOCK, &set_, nullptr);
  }

  std::optional<std::string> wait() override {
    for (;;) {
      int sig = 0;
      if (sigwait(&set_, &sig) != 0) continue;
      if (cancelled_) return std::nullopt;
      return sig == SIGTERM ? "SIGTERM" : "SIGINT";
    }
  }

  void cancel() override {
    cancelled_ = true;
    // Every thread has the signals blocked: the pending SIGTERM wakes sigwait (now or later).
    kill(getpid(), SIGTERM);
  }

 private:
  sigset_t set_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

Result<std::unique_ptr<StopSignal>> StopSignal::install() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (const int e = pthread_sigmask(SIG_BLOCK, &set, nullptr); e != 0) {
    return makeError(Errc::kIo, std::string("pthread_sigmask: ") + std::strerror(e));
  }
  return std::unique_ptr<StopSignal>(std::make_unique<PosixStopSignal>(set));
}

}  // namespace t0w
