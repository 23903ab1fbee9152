// A rule of an enabled pack that cannot fire on this host, and why (agent/rules/
// audit_prerequisites.h finds them; the heartbeat reports them).
#pragma once

#include <string>

namespace t0w {

struct RuleBlocker {
  std::string rule;    // title (id)
  std::string reason;  // "advanced audit policy Kerberos Service Ticket Operations is success; ..."
};

}  // namespace t0w
