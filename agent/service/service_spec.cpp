#include "agent/service/service_spec.h"

namespace t0w {

std::string serviceCommandLine(const ServiceSpec& spec) {
  // Always quoted: an unquoted path with spaces is the classic service hijack.
  std::string exe = spec.executable.string();
  std::string line =
      exe.find('"') == std::string::npos ? "\"" + exe + "\"" : quoteWindowsArgument(exe);
  line += " service run --config " + quoteWindowsArgument(spec.config.string());
  return line;
}

}  // namespace t0w
