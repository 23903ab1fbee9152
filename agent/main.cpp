// tier0watch: the agent's executable. Subcommands live in agent/cli/.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "agent/cli/cli.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);  // event output is large; stdio sync costs per write
  std::vector<std::string> args(argv + 1, argv + argc);
  return t0w::cli::runCli(args, t0w::cli::CliIo{std::cout, std::cerr, isatty(2) == 1, &std::cin});
}
