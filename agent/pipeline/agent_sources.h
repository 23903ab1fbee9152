// The sources the agent runs, from its configuration.
#pragma once

#include <vector>

#include "agent/config/agent_config.h"
#include "agent/platform/host_info.h"
#include "common/core/result.h"

namespace t0w {

// `config.sources`, then on Windows the channels of the `windows` section
// (AgentConfig::channelSubscriptions) that `sources` does not list already, and the Entra Connect
// trace globs when `windows.entra_connect_trace` is on.
std::vector<SourceConfig> agentSources(const AgentConfig& config,
                                       HostPlatform platform = kThisPlatform);

// kUnsupported for an eventlog source on Linux, kInvalidArgument for two subscriptions to one
// channel or two tails of one glob (they would share a checkpoint); the message names the source.
Status checkSources(const std::vector<SourceConfig>& sources,
                    HostPlatform platform = kThisPlatform);

}  // namespace t0w
