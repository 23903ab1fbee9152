#include "common/text/windows_argument.h"

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
    // Backslashes before a quote are doubled, and the quote escaped; elsewhere they are literal.
    out.append(c == '"' ? backslashes * 2 + 1 : backslashes, '\\');
    backslashes = 0;
    out.push_back(c);
  }
  // Before the closing quote every backslash is doubled, so that it does not escape it.
  out.append(backslashes * 2, '\\');
  out.push_back('"');
  return out;
}

}  // namespace t0w
