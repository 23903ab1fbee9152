#include "agent/shipper/credentials.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/wire/bounded_json.h"

namespace t0w {
namespace {

namespace fs = std::filesystem;

bool looksLikeCredential(const std::string& s) {
  if (s.size() < 32 || s.size() > 256) return false;
  for (char c : s) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

}  // namespace

Result<std::string> readCredentialFile(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::string();
  std::ifstream in(file, std::ios::binary);
  if (!in) return makeError(Errc::kIo, file.string() + ": cannot read the agent credential");
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) {
    line.pop_back();
  }
  return line;
}

Status writeCredentialFile(const fs::path& file, const std::string& credential) {
  fs::path tmp = file;
  tmp += ".tmp";
  std::error_code ec;
  fs::remove(tmp, ec);
  // Created empty and narrowed before the credential is written into it.
  { std::ofstream create(tmp, std::ios::binary | std::ios::trunc); }
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                  ec);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << credential << "\n";
    out.flush();
    if (!out) return makeError(Errc::kIo, tmp.string() + ": cannot write the agent credential");
  }
  fs::rename(tmp, file, ec);
  if (ec)
    return makeError(Errc::kIo,
                     file.string() + ": cannot store the agent credential: " + ec.message());
  return {};
}

Credentials::Credentials(CredentialOptions options, Transport& transport)
    : options_(std::move(options)), transport_(transport) {}

bool Credentials::usesSiteSecret() const {
  return std::string_view(options_.configured).starts_with(kSiteSecretPrefix);
}

std::variant<std::string, Outcome> Credentials::token(std::chrono::system_clock::time_point now) {
  if (!usesSiteSecret()) return options_.configured;
  auto stored = readCredentialFile(options_.credential_file);
  if (!stored) {
    Outcome o;
    o.kind = OutcomeKind::kPauseConfig;
    o.detail = stored.error().toString();
    return o;
  }
  if (!stored->empty()) return *stored;
  return enroll(now);
}

std::variant<std::string, Outcome> Credentials::enroll(std::chrono::system_clock::time_point now) {
  HttpRequest req;
  req.method = "POST";
  req.path = options_.enroll_path;
  req.bearer_token = options_.configured;
  req.headers = {{"Content-Type", "application/json"}};
  req.body = nlohmann::json{{"agent_id", options_.agent.id},
                            {"hostname", options_.agent.hostname},
                            {"version", options_.agent.version}}
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  req.timeout = options_.timeout;
  const TransportResult result = transport_.send(req);
  Outcome outcome = classifyOutcome(result, now);
  if (outcome.kind == OutcomeKind::kAck) {
    auto body = parseBoundedJson(result.response().body, JsonLimits{4, 16, 4096});
    const nlohmann::json* cred = nullptr;
    if (body && body->is_object()) {
      auto it = body->find("credential");
      if (it != body->end() && it->is_string()) cred = &*it;
    }
    if (cred == nullptr || !looksLikeCredential(cred->get<std::string>())) {
      outcome.kind = OutcomeKind::kPauseConfig;
      outcome.detail = "enrolment answer without a credential";
      return outcome;
    }
    const std::string credential = cred->get<std::string>();
    if (Status s = writeCredentialFile(options_.credential_file, credential); !s) {
      // Without the file the next start would enrol again and be refused (409): stop here.
      outcome.kind = OutcomeKind::kPauseConfig;
      outcome.detail = s.error().toString();
      return outcome;
    }
    spdlog::info("enrolled with the collector as agent {} (credential stored in {})",
                 body->value("agent", std::string("?")), options_.credential_file.string());
    return credential;
  }
  // A refusal (unknown, revoked, expired or used-up secret; agent id enrolled already) is not
  // the batch's fault and will not pass by retrying soon: pause like a refused credential.
  // A proxy's answer (not_collector) stays a retry: the collector has not said anything yet.
  if (!outcome.not_collector && outcome.status >= 400 && outcome.status <= 499 &&
      outcome.kind != OutcomeKind::kRetry) {
    outcome.kind = OutcomeKind::kPauseAuth;
  }
  std::string why = outcome.detail;
  if (result.isResponse()) {
    auto body = parseBoundedJson(result.response().body, JsonLimits{4, 16, 4096});
    if (body && body->is_object() && body->contains("error") && (*body)["error"].is_string()) {
      why += " (" + (*body)["error"].get<std::string>() + ")";
    }
  }
  outcome.detail = "enrolment with the site secret failed: " + why;
  return outcome;
}

}  // namespace t0w
