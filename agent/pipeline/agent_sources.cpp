#include "agent/pipeline/agent_sources.h"

#include <algorithm>
#include <string>

#include "collectors/registry.h"
#include "common/text/ascii.h"

namespace t0w {

// Channel names (Event Log service) and Windows paths are case-insensitive: compared through
// lowerAscii.

std::vector<SourceConfig> agentSources(const AgentConfig& config, HostPlatform platform) {
  std::vector<SourceConfig> out = config.sources;
  if (platform != HostPlatform::kWindows) return out;
  std::vector<std::string> listed;
  for (const auto& s : out) {
    if (s.type == SourceType::kEventlog) listed.push_back(lowerAscii(s.channel));
  }
  for (const ChannelSubscription& sub : config.channelSubscriptions()) {
    const std::string key = lowerAscii(sub.channel);
    if (std::find(listed.begin(), listed.end(), key) != listed.end()) continue;
    listed.push_back(key);
    SourceConfig s;
    s.type = SourceType::kEventlog;
    s.channel = sub.channel;
    s.query = sub.query;
    s.format_messages = sub.format_messages;
    out.push_back(std::move(s));
  }
  // Backfill: the source's own setting, else its `start`, else windows.backfill.
  for (SourceConfig& s : out) {
    if (s.type != SourceType::kEventlog) continue;
    s.backfill_cpu_share = static_cast<double>(config.backfill_cpu_percent) / 100.0;
    if (s.backfill) continue;
    BackfillSetting b = config.backfill;
    if (s.start == EventlogStart::kFuture) b.kind = BackfillSetting::Kind::kNone;
    if (s.start == EventlogStart::kOldest) b.kind = BackfillSetting::Kind::kAll;
    s.backfill = b;
  }
  if (config.entra_connect_trace) {
    for (const char* glob : kEntraConnectTraceGlobs) {
      const bool listed_already = std::any_of(out.begin(), out.end(), [&](const SourceConfig& s) {
        return s.type == SourceType::kTracefile &&
               lowerAscii(s.path.string()) == lowerAscii(std::string(glob));
      });
      if (listed_already) continue;
      SourceConfig s;
      s.type = SourceType::kTracefile;
      s.path = glob;
      out.push_back(std::move(s));
    }
  }
  return out;
}

Status checkSources(const std::vector<SourceConfig>& sources, HostPlatform platform) {
  std::vector<std::string> names;  // checkpoint names: one source each
  for (size_t i = 0; i < sources.size(); ++i) {
    const SourceConfig& s = sources[i];
    const SourceTraits traits = sourceTraits(s.type);
    const std::string where = "sources[" + std::to_string(i) + "] " + sourceTypeName(s.type) +
                              " \"" + configuredName(s) + "\"";
    if (traits.windows_only && platform != HostPlatform::kWindows) {
      return makeError(Errc::kUnsupported,
                       where + ": " + traits.windows_only_reason + "; on " +
                           hostPlatformName(platform) +
                           " replay exported logs with an evtx_replay or xml source");
    }
    const std::string name = traits.case_insensitive ? lowerAscii(sourceName(s)) : sourceName(s);
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return makeError(Errc::kInvalidArgument, where + ": " + traits.twice);
    }
    names.push_back(name);
  }
  return {};
}

}  // namespace t0w
