#include "agent/shipper/transport.h"

#include <cctype>

namespace t0w {
namespace {

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string_view> findHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (equalsNoCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

const char* transportErrorKindName(TransportErrorKind kind) {
  switch (kind) {
    case TransportErrorKind::kConnectRefused:
      return "connect-refused";
    case TransportErrorKind::kDns:
      return "dns";
    case TransportErrorKind::kTlsVerification:
      return "tls-verification";
    case TransportErrorKind::kTls:
      return "tls";
    case TransportErrorKind::kTimeout:
      return "timeout";
    case TransportErrorKind::kReset:
      return "reset";
    case TransportErrorKind::kProxy:
      return "proxy";
    case TransportErrorKind::kProtocol:
      return "protocol";
    case TransportErrorKind::kOther:
      return "other";
  }
  return "unknown";
}

}  // namespace t0w
