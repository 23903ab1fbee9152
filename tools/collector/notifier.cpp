#include "tools/collector/notifier.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/http/beast_transport.h"
#include "tools/collector/http_util.h"

namespace t0w::collector {
namespace {

class WebhookOutput final : public Output {
 public:
  WebhookOutput(WebhookOutputConfig config, std::string path,
                std::unique_ptr<BeastTransport> transport)
      : config_(std::move(config)), path_(std::move(path)), transport_(std::move(transport)) {}
  const std::string& name() const override { return name_; }

  // One POST per notification, in order; the first failure fails the rest (retried later, so a
  // receiver may see one twice: each carries its forward-queue id to deduplicate).
  Status deliver(const std::vector<ForwardItem>& items) override {
    for (const ForwardItem& item : items) {
      nlohmann::json p = nlohmann::json::parse(item.payload, nullptr, false);
      if (p.is_discarded()) continue;  // written by us; cannot happen short of disk damage
      p["notification_id"] = item.id;
      const std::string body = p.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      const std::string timestamp = std::to_string(systemNowMicros() / 1'000'000);
      HttpRequest req;
      req.method = "POST";
      req.path = path_;
      req.headers = {{"Content-Type", "application/json"},
                     {"X-Tier0Watch-Timestamp", timestamp},
                     {"X-Tier0Watch-Signature", webhookSignature(config_.secret, timestamp, body)}};
      req.body = body;
      req.timeout = std::chrono::seconds(30);
      TransportResult r = transport_->send(req);
      if (!r.isResponse()) return makeError(Errc::kIo, "webhook: " + r.error().toString());
      if (r.response().status / 100 != 2) {
        return makeError(Errc::kIo, "webhook: HTTP " + std::to_string(r.response().status));
      }
    }
    return {};
  }

 private:
  std::string name_ = kWebhookOutput;
  WebhookOutputConfig config_;
  std::string path_;
  std::unique_ptr<BeastTransport> transport_;
};

std::string hex(const unsigned char* data, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

}  // namespace

std::string webhookSignature(const std::string& secret, const std::string& timestamp,
                             const std::string& body) {
  const std::string signed_text = timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac, &len);
  return "sha256=" + hex(mac, len);
}

Result<std::unique_ptr<Output>> makeWebhookOutput(const WebhookOutputConfig& config) {
  // The transport takes the origin; the rest of the URL is the request path.
  const auto scheme = config.url.find("://");
  if (scheme == std::string::npos) {
    return makeError(Errc::kInvalidArgument, "notify.webhook.url: not a URL: " + config.url);
  }
  const auto slash = config.url.find('/', scheme + 3);
  BeastTransportOptions o;
  o.url = config.url.substr(0, slash);
  o.ca_bundle_file = config.ca_file;
  o.user_agent = "tier0watch-collector";
  auto t = BeastTransport::create(o);
  if (!t) return makeError(t.error().code, "notify.webhook: " + t.error().message);
  const std::string path = slash == std::string::npos ? "/" : config.url.substr(slash);
  return std::unique_ptr<Output>(new WebhookOutput(config, path, std::move(*t)));
}

std::string healthNotification(const HealthChange& change) {
  const bool opened = change.kind == HealthChange::Kind::kOpened;
  nlohmann::json j{{"kind", "health"},
                   {"event", opened ? "health_issue_opened" : "health_issue_closed"},
                   {"agent", change.issue.agent},
                   {"host", change.issue.agent},
                   {"time", opened ? change.issue.last_seen
                                   : change.issue.closed_at.value_or(change.issue.last_seen)},
                   // SIEM outputs read the level from the body, as for alerts.
                   {"body", healthIssueJson(change.issue)}};
  j["body"]["level"] = change.issue.severity;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HealthNotifier::HealthNotifier(Storage& storage, std::vector<std::string> outputs)
    : storage_(storage), outputs_(std::move(outputs)) {}

Status HealthNotifier::notify(const std::vector<HealthChange>& changes, int64_t now) {
  for (const auto& c : changes) {
    const bool opened = c.kind == HealthChange::Kind::kOpened;
    spdlog::log(opened ? spdlog::level::warn : spdlog::level::info,
                "health: {} {} on agent {}{}: {}", c.issue.code, opened ? "opened" : "closed",
                c.issue.agent, c.issue.source.empty() ? "" : " (" + c.issue.source + ")",
                c.issue.detail);
    const std::string payload = healthNotification(c);
    for (const auto& output : outputs_) {
      if (Status s = storage_.enqueueForward(output, payload, now); !s) return s;
    }
  }
  return {};
}

}  // namespace t0w::collector
