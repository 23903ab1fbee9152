// Notifications: health issues opening and closing, and new alerts, for people and other tools.
// - A generic webhook output (notify.webhook): each notification is one HTTPS POST of a JSON
//   object, signed with HMAC-SHA256 over "<timestamp>.<body>" with a shared secret
//   (X-Tier0Watch-Timestamp, X-Tier0Watch-Signature: sha256=<hex>). It is an Output of the
//   forwarder: rows wait in the durable forward queue and are retried with backoff until the
//   receiver answers 2xx. The secret is never logged.
// - The SIEM outputs already configured (Splunk HEC, syslog) get the same health notifications
//   as records of kind "health"; they receive alerts with the other records already.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tools/collector/forwarder.h"
#include "tools/collector/health.h"

namespace t0w::collector {

inline constexpr const char* kWebhookOutput = "webhook";

Result<std::unique_ptr<Output>> makeWebhookOutput(const WebhookOutputConfig& config);

// "sha256=" + hex HMAC-SHA256 of "<timestamp>.<body>" under `secret` (what a receiver checks).
std::string webhookSignature(const std::string& secret, const std::string& timestamp,
                             const std::string& body);

// The forward-queue payload of a health change.
std::string healthNotification(const HealthChange& change);

// Queues each change for every output (webhook and SIEM); logs what opened and closed.
class HealthNotifier {
 public:
  HealthNotifier(Storage& storage, std::vector<std::string> outputs);
  Status notify(const std::vector<HealthChange>& changes, int64_t now);

 private:
  Storage& storage_;
  std::vector<std::string> outputs_;
};

}  // namespace t0w::collector
