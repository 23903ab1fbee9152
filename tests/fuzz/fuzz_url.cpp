// libFuzzer target for the agent's URL parser (collector.url, collector.proxy, from a file or
// Group Policy): no crash; a parsed URL is https/http with a host and a numeric port, its path
// has no trailing slash, and the authority it prints parses back to the same host and port.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/http/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto url = t0w::parseUrl(in);
  if (!url) {
    if (url.error().message.empty()) std::abort();
    return 0;
  }
  if (url->scheme != "https" && url->scheme != "http") std::abort();
  if (url->host.empty() || url->port.empty()) std::abort();
  for (char c : url->port) {
    if (c < '0' || c > '9') std::abort();
  }
  if (!url->path.empty() && url->path.back() == '/') std::abort();
  auto again = t0w::parseUrl(url->scheme + "://" + url->authority() + url->path);
  if (!again || again->host != url->host || again->port != url->port) std::abort();
  return 0;
}
