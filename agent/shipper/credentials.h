// Credentials: the bearer token the shipper sends with each batch.
// - A per-agent credential configured in collector.token / token_file (the token of
//   `tier0watch-collector agents enroll`, or one issued by `agents rotate`) is sent as it is.
// - A site enrolment secret (it starts with "t0wsite_") is exchanged once, at the first upload,
//   for the agent's own credential (POST /api/v1/enroll with the agent id, host name and
//   version), which is stored in <state_dir>/agent.credential and sent from then on. The file
//   is read before each upload, so a credential an administrator rotated and wrote there is used
//   without a restart, and the queue is kept.
// Neither the secret nor the credential is ever logged.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <variant>

#include "agent/shipper/outcome.h"
#include "common/core/result.h"
#include "common/http/transport.h"
#include "common/wire/batch_encoder.h"

namespace t0w {

inline constexpr std::string_view kSiteSecretPrefix = "t0wsite_";

struct CredentialOptions {
  std::string configured;  // collector.token / token_file: a credential or a site secret
  std::filesystem::path credential_file;  // <state_dir>/agent.credential
  AgentIdentity agent;
  std::string enroll_path = "/api/v1/enroll";
  std::chrono::milliseconds timeout{30'000};
};

class Credentials {
 public:
  Credentials(CredentialOptions options, Transport& transport);

  bool usesSiteSecret() const;
  // The token to send, enrolling first when needed; a failed enrolment gives its outcome
  // (retry, or pause on a refusal) for the shipper to act on.
  std::variant<std::string, Outcome> token(std::chrono::system_clock::time_point now);

 private:
  std::variant<std::string, Outcome> enroll(std::chrono::system_clock::time_point now);

  CredentialOptions options_;
  Transport& transport_;
};

// Reads the first line of a credential file (trailing whitespace removed); empty when absent.
Result<std::string> readCredentialFile(const std::filesystem::path& file);
// Writes it atomically (temporary file, then rename), readable by its owner only on POSIX; on
// Windows the state directory's ACL (SYSTEM and Administrators) protects it.
Status writeCredentialFile(const std::filesystem::path& file, const std::string& credential);

}  // namespace t0w
