// StopSignal: how a console process is asked to stop, per platform, as one blocking wait.
//   Linux:   SIGTERM, SIGINT (taken with sigwait by whoever calls wait(): no work runs inside a
//            signal handler).
//   Windows: Ctrl+C, Ctrl+Break, closing the console window, logoff and shutdown
//            (SetConsoleCtrlHandler). For close/logoff/shutdown Windows ends the process as soon
//            as the handler returns, so the handler holds it until the StopSignal is destroyed
//            (the agent has flushed) — Windows itself bounds that wait (about 5 s for close).
// The Windows service host stops the agent through the SCM instead (agent/service), not this.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/core/result.h"

namespace t0w {

class StopSignal {
 public:
  // Installs the handling. POSIX: call it before starting any thread (the signal mask is
  // inherited), so that no other thread takes SIGTERM/SIGINT. One instance per process.
  static Result<std::unique_ptr<StopSignal>> install();
  virtual ~StopSignal() = default;

  // Blocks until a stop request ("SIGTERM", "SIGINT", "Ctrl+C", "Ctrl+Break", "console close",
  // "logoff", "shutdown") or cancel() (nullopt).
  virtual std::optional<std::string> wait() = 0;
  // Ends wait() without a request (the agent stopped by itself); safe from any thread, also
  // before wait() is called.
  virtual void cancel() = 0;
};

}  // namespace t0w
