// T0W_CHECK(cond, message): an invariant of the code, not a condition of the input. When it does
// not hold, the process prints file:line, the condition and the message to stderr and aborts.
//
// Why abort rather than return an error: a broken invariant means the process's own state is
// wrong (a bug, memory corruption), and nothing it does from there can be trusted, least of all
// a commit to the queue or an acknowledgement. Stopping is safe: the service manager (the Windows
// SCM, systemd) restarts the process, and the queue is durable, so what was accepted is shipped
// after the restart; at worst a batch is sent twice, which the collector deduplicates. Errors the
// input or the environment can cause (bad records, full disks, refused connections) are never
// checks: they are Result errors, reported and counted.
//
// Checks stay in release builds (unlike assert()). stderr, not spdlog: common/core links nothing,
// and the service's stderr is captured next to its log.
#pragma once

#include <string_view>

namespace t0w {

[[noreturn]] void checkFailed(const char* file, int line, const char* condition,
                              std::string_view message) noexcept;

}  // namespace t0w

#define T0W_CHECK(cond, message)                                \
  do {                                                          \
    if (!(cond)) [[unlikely]] {                                 \
      ::t0w::checkFailed(__FILE__, __LINE__, #cond, (message)); \
    }                                                           \
  } while (false)
