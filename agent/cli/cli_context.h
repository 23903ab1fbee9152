// What every subcommand of the tier0watch executable shares: its streams and its exit status.
#pragma once

#include <istream>
#include <ostream>

namespace t0w::cli {

enum ExitCode : int {
  kExitOk = 0,           // every input was read
  kExitInputErrors = 1,  // some input could not be read; the rest was processed
  kExitUsage = 2,        // bad command line (unknown option, missing or nonexistent PATH)
};

struct CliIo {
  std::ostream& out;
  std::ostream& err;
  bool err_is_terminal = false;  // progress output only goes to a terminal
  std::istream* in = nullptr;    // standard input, for secrets that must not be arguments
};

// A subcommand's callback records its result here; runCli returns it.
struct CliContext {
  CliIo io;
  int exit_code = kExitOk;
};

}  // namespace t0w::cli
