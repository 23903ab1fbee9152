#include "common/http/transport.h"

#include "common/text/ascii.h"

namespace t0w {

std::optional<std::string_view> findHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (equalsIgnoreCaseAscii(key, name)) return std::string_view(value);
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
