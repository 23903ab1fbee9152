#include "agent/shipper/winhttp_options.h"

namespace t0w {

Result<WinHttpTarget> validateWinHttpOptions(const WinHttpTransportOptions& options) {
  WinHttpTarget target;
  auto url = parseUrl(options.url);
  if (!url) return makeError(Errc::kInvalidArgument, "collector " + url.error().message);
  if (url->scheme == "http" && !options.allow_insecure) {
    return makeError(Errc::kInvalidArgument,
                     "collector URL uses plain http://" + url->authority() +
                         "; use https, or set allow_insecure for a lab setup");
  }
  if (!url->username.empty() || !url->password.empty()) {
    return makeError(Errc::kInvalidArgument,
                     "collector URL must not carry credentials; use the bearer token");
  }
  target.url = std::move(*url);
  if (options.proxy_url.empty()) {
    target.proxy_mode = ProxyMode::kSystem;
  } else if (options.proxy_url == "direct") {
    target.proxy_mode = ProxyMode::kDirect;
  } else {
    auto proxy = parseUrl(options.proxy_url);
    if (!proxy) return makeError(Errc::kInvalidArgument, "proxy " + proxy.error().message);
    if (proxy->scheme != "http") {
      return makeError(Errc::kInvalidArgument, "proxy URL must be http://host:port or \"direct\"");
    }
    if (!proxy->path.empty()) {
      return makeError(Errc::kInvalidArgument, "proxy URL must not have a path");
    }
    target.proxy_mode = ProxyMode::kNamed;
    target.proxy = std::move(*proxy);
  }
  if (options.max_response_bytes == 0) {
    return makeError(Errc::kInvalidArgument, "max_response_bytes must be positive");
  }
  if (options.user_agent.find_first_of("\r\n") != std::string::npos) {
    return makeError(Errc::kInvalidArgument, "user agent must not contain CR or LF");
  }
  if (options.client_cert.match != ClientCertMatch::kNone && options.client_cert_store.empty()) {
    return makeError(Errc::kInvalidArgument, "client certificate store name is empty");
  }
  return target;
}

}  // namespace t0w
