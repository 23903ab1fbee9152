// The administration commands of tier0watch-collector (agents, sites, users) over a Storage.
// Secrets they create go to `out` once (stdout: for a pipe or a file of mode 0600), everything
// else to `err`; no secret is ever logged or stored in clear.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "tools/collector/storage.h"

namespace t0w::collector {

struct AdminIo {
  std::ostream& out;
  std::ostream& err;
  int64_t now;  // Unix microseconds
};

// Each returns the process exit status (0 done, 1 refused or failed, with a message on err).
int enrollAgentCommand(Storage& storage, const std::string& name, const AdminIo& io);
int listAgentsCommand(Storage& storage, const AdminIo& io);
int revokeAgentCommand(Storage& storage, const std::string& name, const AdminIo& io);
int rotateAgentCommand(Storage& storage, const std::string& name, const AdminIo& io);

struct SiteOptions {
  std::optional<int64_t> max_uses;
  std::optional<int64_t> expires_in_hours;
};
int addSiteCommand(Storage& storage, const std::string& name, const SiteOptions& options,
                   const AdminIo& io);
int listSitesCommand(Storage& storage, const AdminIo& io);
int revokeSiteCommand(Storage& storage, const std::string& name, const AdminIo& io);

// Names of agents, sites and users: 1-128 of letters, digits, - _ . @.
bool validName(const std::string& name);

}  // namespace t0w::collector
