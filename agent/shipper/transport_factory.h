// The platform's Transport built from the agent configuration (the `collector` section):
//   Linux:   BeastTransport (OpenSSL): system CA store + optional `ca_bundle` PEM file, client
//            certificate from `client_cert` + `client_key` PEM files, optional `proxy`.
//   Windows: WinHttpTransport: server validated against the Windows certificate store (trust the
//            collector's CA in LocalMachine\Root), client certificate chosen in LocalMachine\My
//            by `client_certificate` (thumbprint:|subject:|template:), the system proxy unless
//            `proxy` names one ("direct": none).
// Settings of the other platform are refused with an error that says what to use instead.
#pragma once

#include <memory>
#include <string>

#include "agent/config/agent_config.h"
#include "agent/platform/host_info.h"
#include "common/core/result.h"
#include "common/http/transport.h"

namespace t0w {

// kInvalidArgument naming the setting when `config` uses a transport setting that `platform`
// does not have, or a malformed client_certificate selector.
Status validateTransportConfig(const AgentConfig& config, HostPlatform platform = kThisPlatform);

// validateTransportConfig, then the transport of this platform.
Result<std::unique_ptr<Transport>> makeTransport(const AgentConfig& config,
                                                 const std::string& user_agent);

}  // namespace t0w
