#include "tools/collector/sql_enrollment.h"

#include <cctype>

namespace t0w::collector {
namespace {

using Outcome = EnrollmentResult::Outcome;

// Agent names: letters, digits, - _ . @ (as `agents enroll` requires), at most 64 from the host.
std::string nameFromHost(const std::string& host) {
  std::string out;
  for (unsigned char c : host) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(std::tolower(c));
    }
    if (out.size() == 64) break;
  }
  return out;
}

}  // namespace

Result<EnrollmentResult> SqlEnrollment::enroll(const EnrollmentRequest& r) {
  // Taking a use and checking the secret is one statement, so that concurrent enrolments
  // cannot both take the last use.
  auto secret = c_.query(
      "UPDATE enrollment_secrets SET uses = uses + 1 WHERE secret_hash = ? AND revoked_at IS "
      "NULL AND (expires IS NULL OR expires > ?) AND (max_uses IS NULL OR uses < max_uses) "
      "RETURNING name",
      {r.secret_hash, r.now});
  if (!secret) return secret.error();
  if (secret->empty()) return refusal(r);
  EnrollmentResult out;
  out.secret = (*secret)[0][0].value_or("");
  auto holder = c_.query("SELECT name FROM agents WHERE agent_id = ?", {r.agent_id});
  if (!holder) return holder.error();
  if (!holder->empty()) {
    // The caller rolls back: the use is not spent.
    out.outcome = Outcome::kAgentExists;
    out.name = (*holder)[0][0].value_or("");
    return out;
  }
  auto name = freeName(r);
  if (!name) return name.error();
  auto inserted = c_.query(
      "INSERT INTO agents(name, token_hash, enrolled_at, agent_id, hostname, version, "
      "enrolled_via) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING name",
      {*name, r.credential_hash, r.now, r.agent_id, r.hostname, r.version, out.secret});
  if (!inserted) return inserted.error();
  out.outcome = Outcome::kEnrolled;
  out.name = *name;
  return out;
}

Result<EnrollmentResult> SqlEnrollment::refusal(const EnrollmentRequest& r) {
  auto rows = c_.query(
      "SELECT name, revoked_at, expires, max_uses, uses FROM enrollment_secrets WHERE "
      "secret_hash = ?",
      {r.secret_hash});
  if (!rows) return rows.error();
  EnrollmentResult out;
  if (rows->empty()) return out;  // kUnknownSecret
  const SqlRow& row = (*rows)[0];
  out.secret = row[0].value_or("");
  if (row[1]) {
    out.outcome = Outcome::kRevoked;
  } else if (row[2] && sqlInt(row[2]) <= r.now) {
    out.outcome = Outcome::kExpired;
  } else {
    out.outcome = Outcome::kExhausted;
  }
  return out;
}

Result<std::string> SqlEnrollment::freeName(const EnrollmentRequest& r) {
  std::string base = nameFromHost(r.hostname);
  if (base.empty()) base = r.agent_id.substr(0, 64);
  // Clones of one VM share a host name: the agent id tells them apart.
  const std::vector<std::string> candidates = {base, base + "-" + r.agent_id.substr(0, 12),
                                               base + "-" + r.agent_id};
  for (const std::string& name : candidates) {
    auto taken = c_.query("SELECT name FROM agents WHERE name = ?", {name});
    if (!taken) return taken.error();
    if (taken->empty()) return name;
  }
  return makeError(Errc::kInvalidArgument, "no free agent name for host " + r.hostname);
}

Status SqlEnrollment::addSecret(const EnrollmentSecret& s) {
  auto r = c_.query(
      "INSERT INTO enrollment_secrets(name, secret_hash, created, expires, max_uses) "
      "VALUES (?, ?, ?, ?, ?)",
      {s.name, s.secret_hash, s.created, sqlOptParam(s.expires), sqlOptParam(s.max_uses)});
  if (!r) {
    if (r.error().code == Errc::kInvalidArgument) {
      return makeError(Errc::kInvalidArgument, "enrolment secret " + s.name + " exists already");
    }
    return r.error();
  }
  return {};
}

Result<std::vector<EnrollmentSecret>> SqlEnrollment::listSecrets() {
  auto rows = c_.query(
      "SELECT name, created, expires, max_uses, uses, revoked_at FROM enrollment_secrets "
      "ORDER BY name",
      {});
  if (!rows) return rows.error();
  std::vector<EnrollmentSecret> out;
  for (const auto& r : *rows) {
    EnrollmentSecret s;
    s.name = r[0].value_or("");
    s.created = sqlInt(r[1]);
    s.expires = sqlOptInt(r[2]);
    s.max_uses = sqlOptInt(r[3]);
    s.uses = sqlInt(r[4]);
    s.revoked_at = sqlOptInt(r[5]);
    out.push_back(std::move(s));
  }
  return out;
}

Result<bool> SqlEnrollment::revokeSecret(const std::string& name, int64_t now) {
  auto rows = c_.query(
      "UPDATE enrollment_secrets SET revoked_at = COALESCE(revoked_at, ?) WHERE name = ? "
      "RETURNING name",
      {now, name});
  if (!rows) return rows.error();
  return !rows->empty();
}

Result<bool> SqlEnrollment::revokeAgent(const std::string& name, int64_t now) {
  auto rows = c_.query(
      "UPDATE agents SET revoked_at = COALESCE(revoked_at, ?) WHERE name = ? RETURNING name",
      {now, name});
  if (!rows) return rows.error();
  return !rows->empty();
}

Result<bool> SqlEnrollment::rotateCredential(const std::string& name, const std::string& token_hash,
                                             int64_t now) {
  auto rows = c_.query(
      "UPDATE agents SET token_hash = ?, rotated_at = ?, revoked_at = NULL WHERE name = ? "
      "RETURNING name",
      {token_hash, now, name});
  if (!rows) return rows.error();
  return !rows->empty();
}

}  // namespace t0w::collector
