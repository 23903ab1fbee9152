// Command lines the agent builds for Windows (the service's ImagePath, the MSI custom action's
// `install prepare`): one quoting rule, the one CommandLineToArgvW and the C runtime parse.
#pragma once

#include <string>
#include <string_view>

namespace t0w {

// One argument quoted only when needed; backslashes are literal except before a double quote,
// where they and the quote are escaped.
std::string quoteWindowsArgument(std::string_view arg);

}  // namespace t0w
