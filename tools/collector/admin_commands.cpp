#include "tools/collector/admin_commands.h"

#include <cctype>
#include <ostream>

#include "common/core/time.h"
#include "tools/collector/enrollment_endpoint.h"
#include "tools/collector/security.h"

namespace t0w::collector {
namespace {

int fail(const AdminIo& io, const std::string& message) {
  io.err << "tier0watch-collector: " << message << "\n";
  return 1;
}

std::string when(const std::optional<int64_t>& micros) {
  return micros ? formatFiletime(unixMicrosToFiletime(*micros)) : std::string("-");
}

}  // namespace

bool validName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (unsigned char ch : name) {
    if (!(std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '@')) return false;
  }
  return true;
}

int enrollAgentCommand(Storage& storage, const std::string& name, const AdminIo& io) {
  if (!validName(name)) return fail(io, "agent name must be 1-128 of letters, digits, - _ . @");
  auto token = newToken();
  if (!token) return fail(io, token.error().toString());
  if (auto s = storage.enrollAgent(name, sha256Hex(*token), io.now); !s) {
    return fail(io, s.error().message);
  }
  io.err << "Enrolled agent " << name
         << ". The token is shown only now; put it in the agent's configuration:\n";
  io.out << *token << std::endl;
  return 0;
}

int listAgentsCommand(Storage& storage, const AdminIo& io) {
  auto all = storage.listAgents();
  if (!all) return fail(io, all.error().toString());
  for (const auto& a : *all) {
    io.out << a.name << "\t" << (a.agent_id.empty() ? "-" : a.agent_id) << "\t"
           << (a.hostname.empty() ? "-" : a.hostname) << "\t" << a.events << " events\t"
           << (a.revoked_at ? "revoked " + when(a.revoked_at) : std::string("active")) << "\t"
           << (a.enrolled_via.empty() ? "cli" : "site " + a.enrolled_via) << "\n";
  }
  return 0;
}

int revokeAgentCommand(Storage& storage, const std::string& name, const AdminIo& io) {
  auto done = storage.revokeAgent(name, io.now);
  if (!done) return fail(io, done.error().toString());
  if (!*done) return fail(io, "no agent " + name);
  io.err << "Revoked agent " << name
         << ": its credential is refused (401) from now on; its records stay.\n";
  return 0;
}

int rotateAgentCommand(Storage& storage, const std::string& name, const AdminIo& io) {
  auto token = newToken();
  if (!token) return fail(io, token.error().toString());
  auto done = storage.rotateAgentCredential(name, sha256Hex(*token), io.now);
  if (!done) return fail(io, done.error().toString());
  if (!*done) return fail(io, "no agent " + name);
  io.err << "New credential for agent " << name
         << " (the old one is refused from now on). It is shown only now; write it to the "
            "agent's <state_dir>/agent.credential (or its token file); the queue is kept:\n";
  io.out << *token << std::endl;
  return 0;
}

int addSiteCommand(Storage& storage, const std::string& name, const SiteOptions& options,
                   const AdminIo& io) {
  if (!validName(name)) return fail(io, "site name must be 1-128 of letters, digits, - _ . @");
  if (options.max_uses && *options.max_uses < 1) return fail(io, "--max-uses must be positive");
  if (options.expires_in_hours && *options.expires_in_hours < 1) {
    return fail(io, "--expires-in-hours must be positive");
  }
  auto random = newToken();
  if (!random) return fail(io, random.error().toString());
  const std::string secret = std::string(kSiteSecretPrefix) + *random;
  EnrollmentSecret s;
  s.name = name;
  s.secret_hash = sha256Hex(secret);
  s.created = io.now;
  s.max_uses = options.max_uses;
  if (options.expires_in_hours) s.expires = io.now + *options.expires_in_hours * 3'600'000'000;
  if (auto st = storage.addEnrollmentSecret(s); !st) return fail(io, st.error().message);
  io.err << "Site enrolment secret " << name << " (expires " << when(s.expires) << ", uses "
         << (s.max_uses ? std::to_string(*s.max_uses) : std::string("unlimited"))
         << "). Shown only now; give it to the agents of the site (token_file, or the MSI):\n";
  io.out << secret << std::endl;
  return 0;
}

int listSitesCommand(Storage& storage, const AdminIo& io) {
  auto all = storage.listEnrollmentSecrets();
  if (!all) return fail(io, all.error().toString());
  for (const auto& s : *all) {
    const bool expired = s.expires && *s.expires <= io.now;
    io.out << s.name << "\tcreated " << when(s.created) << "\texpires " << when(s.expires)
           << "\tuses " << s.uses << "/"
           << (s.max_uses ? std::to_string(*s.max_uses) : std::string("unlimited")) << "\t"
           << (s.revoked_at ? "revoked"
               : expired    ? "expired"
                            : "active")
           << "\n";
  }
  return 0;
}

int revokeSiteCommand(Storage& storage, const std::string& name, const AdminIo& io) {
  auto done = storage.revokeEnrollmentSecret(name, io.now);
  if (!done) return fail(io, done.error().toString());
  if (!*done) return fail(io, "no site enrolment secret " + name);
  io.err << "Revoked site enrolment secret " << name
         << "; agents enrolled with it keep their own credentials.\n";
  return 0;
}

}  // namespace t0w::collector
