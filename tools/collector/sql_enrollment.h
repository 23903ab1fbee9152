// The statements of site enrolment and credential management (Storage::enrollWithSecret and
// friends) on a connection, shared by SQLite and PostgreSQL. enroll() expects the caller to
// have begun a transaction.
#pragma once

#include <vector>

#include "common/core/result.h"
#include "tools/collector/sql_conn.h"
#include "tools/collector/storage.h"

namespace t0w::collector {

class SqlEnrollment {
 public:
  explicit SqlEnrollment(SqlConn& conn) : c_(conn) {}

  Result<EnrollmentResult> enroll(const EnrollmentRequest& request);
  Status addSecret(const EnrollmentSecret& secret);
  Result<std::vector<EnrollmentSecret>> listSecrets();
  Result<bool> revokeSecret(const std::string& name, int64_t now);
  Result<bool> revokeAgent(const std::string& name, int64_t now);
  Result<bool> rotateCredential(const std::string& name, const std::string& token_hash,
                                int64_t now);

 private:
  // Why a secret cannot be used now (it did not match the "usable" update).
  Result<EnrollmentResult> refusal(const EnrollmentRequest& request);
  // The host name made into a free agent name.
  Result<std::string> freeName(const EnrollmentRequest& request);

  SqlConn& c_;
};

}  // namespace t0w::collector
