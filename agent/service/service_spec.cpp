#include "agent/service/service_spec.h"

namespace t0w {

std::string quoteWindowsArgument(std::string_view arg) {
  if (!arg.empty() && arg.find_first_of(" \t\n\v\"") == std::string_view::npos) {
    return std::string(arg);
  }
  std::string out = "\"";
  size_t backslashes = 0;
  for (char c : arg) {
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    if (c == '"') {
      out.append(backslashes * 2 + 1, '\\');
    } else {
      out.append(backslashes, '\\');
    }
    backslashes = 0;
    out += c;
  }
  out.append(backslashes * 2, '\\');  // before the closing quote
  out += '"';
  return out;
}

std::string serviceCommandLine(const ServiceSpec& spec) {
  // Always quoted: an unquoted path with spaces is the classic service hijack.
  std::string exe = spec.executable.string();
  std::string line =
      exe.find('"') == std::string::npos ? "\"" + exe + "\"" : quoteWindowsArgument(exe);
  line += " service run --config " + quoteWindowsArgument(spec.config.string());
  return line;
}

}  // namespace t0w
