#include "installer/ca/action_data.h"

#include <array>

namespace t0w::installer {

std::optional<PrepareActionData> parsePrepareActionData(std::string_view data) {
  std::array<std::string_view, 5> fields;
  for (auto& field : fields) {
    const size_t bar = data.find('|');
    if (bar == std::string_view::npos) return std::nullopt;
    field = data.substr(0, bar);
    data.remove_prefix(bar + 1);
  }
  PrepareActionData out{std::string(fields[0]),
                        std::string(fields[1]),
                        std::string(fields[2]),
                        std::string(fields[3]),
                        {},
                        std::string(data)};
  std::string_view sources = fields[4];
  while (!sources.empty()) {
    const size_t semi = sources.find(';');
    const std::string_view item = sources.substr(0, semi);
    sources = semi == std::string_view::npos ? std::string_view{} : sources.substr(semi + 1);
    // "key=" is a property left empty: the source stays as configured.
    const size_t eq = item.find('=');
    if (eq != std::string_view::npos && eq + 1 < item.size()) out.sources.emplace_back(item);
  }
  if (out.exe.empty() || out.data_dir.empty() || out.default_config.empty()) return std::nullopt;
  return out;
}

std::string prepareCommandLine(const PrepareActionData& data) {
  std::string cmd = quoteWindowsArgument(data.exe) + " install prepare --data-dir " +
                    quoteWindowsArgument(data.data_dir) + " --default-config " +
                    quoteWindowsArgument(data.default_config);
  if (!data.collector_url.empty()) {
    cmd += " --collector-url " + quoteWindowsArgument(data.collector_url);
  }
  for (const std::string& source : data.sources) {
    cmd += " --source " + quoteWindowsArgument(source);
  }
  if (!data.token.empty()) cmd += " --token-stdin";
  return cmd;
}

}  // namespace t0w::installer
