#include "agent/shipper/transport_factory.h"

#include "agent/shipper/cert_store_select.h"

#ifdef _WIN32
#include "agent/shipper/winhttp_transport.h"
#else
#include "common/http/beast_transport.h"
#endif

namespace t0w {
namespace {

Error refuse(const AgentConfig& c, const std::string& message) {
  const std::string where = c.config_file.empty() ? "configuration" : c.config_file.string();
  return makeError(Errc::kInvalidArgument, where + ": " + message);
}

}  // namespace

Status validateTransportConfig(const AgentConfig& c, HostPlatform platform) {
  if (platform == HostPlatform::kWindows) {
    if (!c.ca_bundle.empty()) {
      return refuse(c,
                    "collector.ca_bundle (a PEM file) applies to Linux only; on Windows the "
                    "collector's certificate is validated against the Windows certificate store: "
                    "trust its CA in LocalMachine\\Root (e.g. by Group Policy)");
    }
    if (!c.client_cert.empty() || !c.client_key.empty()) {
      return refuse(c,
                    "collector.client_cert and collector.client_key (PEM files) apply to Linux "
                    "only; on Windows set collector.client_certificate to thumbprint:<hex>, "
                    "subject:<text> or template:<name or OID> of a certificate in "
                    "LocalMachine\\My");
    }
    auto selector = parseClientCertSelector(c.client_certificate);
    if (!selector) return refuse(c, "collector.client_certificate: " + selector.error().message);
    return {};
  }
  if (!c.client_certificate.empty()) {
    return refuse(c,
                  "collector.client_certificate selects a certificate from the Windows "
                  "certificate store and applies to Windows only; on Linux use "
                  "collector.client_cert and collector.client_key (PEM files)");
  }
  if (c.proxy == "direct") {
    return refuse(c,
                  "collector.proxy \"direct\" (bypass the system proxy) applies to Windows "
                  "only; on Linux leave collector.proxy out for a direct connection");
  }
  return {};
}

Result<std::unique_ptr<Transport>> makeTransport(const AgentConfig& c,
                                                 const std::string& user_agent) {
  if (auto valid = validateTransportConfig(c); !valid) return valid.error();
#ifdef _WIN32
  WinHttpTransportOptions o;
  o.url = c.url;
  o.allow_insecure = c.allow_insecure;
  o.proxy_url = c.proxy;  // "" = the system proxy configuration
  o.user_agent = user_agent;
  auto selector = parseClientCertSelector(c.client_certificate);
  if (!selector) return selector.error();
  o.client_cert = *selector;
  auto t = WinHttpTransport::create(std::move(o));
#else
  BeastTransportOptions o;
  o.url = c.url;
  o.ca_bundle_file = c.ca_bundle.string();
  o.client_cert_file = c.client_cert.string();
  o.client_key_file = c.client_key.string();
  o.allow_insecure = c.allow_insecure;
  o.proxy_url = c.proxy;
  o.user_agent = user_agent;
  auto t = BeastTransport::create(std::move(o));
#endif
  if (!t) return t.error();
  return std::unique_ptr<Transport>(std::move(*t));
}

}  // namespace t0w
