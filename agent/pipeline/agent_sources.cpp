#include "agent/pipeline/agent_sources.h"

#include <algorithm>
#include <string>

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
  std::vector<std::string> channels;
  std::vector<std::string> globs;
  for (size_t i = 0; i < sources.size(); ++i) {
    const SourceConfig& s = sources[i];
    if (s.type == SourceType::kTracefile) {
      const std::string glob = s.path.string();
      if (std::find(globs.begin(), globs.end(), glob) != globs.end()) {
        return makeError(Errc::kInvalidArgument,
                         "sources[" + std::to_string(i) + "] tracefile \"" + glob +
                             "\": the same path is configured twice (they would share a "
                             "checkpoint)");
      }
      globs.push_back(glob);
      continue;
    }
    if (s.type != SourceType::kEventlog) continue;
    const std::string where = "sources[" + std::to_string(i) + "] eventlog \"" + s.channel + "\"";
    if (platform != HostPlatform::kWindows) {
      return makeError(Errc::kUnsupported,
                       where + ": Windows event log subscriptions run on Windows only; on " +
                           hostPlatformName(platform) +
                           " replay exported logs with an evtx_replay or xml source");
    }
    const std::string key = lowerAscii(s.channel);
    if (std::find(channels.begin(), channels.end(), key) != channels.end()) {
      return makeError(Errc::kInvalidArgument,
                       where +
                           ": the channel is subscribed to twice (one subscription per "
                           "channel; combine the queries with XPath 'or')");
    }
    channels.push_back(key);
  }
  return {};
}

}  // namespace t0w
