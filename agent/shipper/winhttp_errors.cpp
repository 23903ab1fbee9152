#include "agent/shipper/winhttp_errors.h"

namespace t0w::winhttp {

namespace {

// Flags that say the server's certificate (chain, name, dates, usage, revocation) was refused,
// as opposed to a failure of the channel itself.
constexpr uint32_t kVerificationFlags = kFlagCertRevFailed | kFlagInvalidCert | kFlagCertRevoked |
                                        kFlagInvalidCa | kFlagCertCnInvalid | kFlagCertDateInvalid |
                                        kFlagCertWrongUsage;

}  // namespace

TransportErrorKind classifyError(uint32_t error, uint32_t secure_failure_flags) {
  switch (error) {
    case kErrTimeout:
    case kWsaTimedOut:
      return TransportErrorKind::kTimeout;
    case kErrNameNotResolved:
      return TransportErrorKind::kDns;
    case kErrCannotConnect:
    case kWsaConnRefused:
    case kWsaNetUnreachable:
    case kWsaHostUnreachable:
      return TransportErrorKind::kConnectRefused;
    case kErrConnectionError:
    case kWsaConnReset:
      return TransportErrorKind::kReset;
    case kErrSecureCertDateInvalid:
    case kErrSecureCertCnInvalid:
    case kErrSecureInvalidCa:
    case kErrSecureCertRevFailed:
    case kErrSecureInvalidCert:
    case kErrSecureCertRevoked:
    case kErrSecureCertWrongUsage:
      return TransportErrorKind::kTlsVerification;
    case kErrSecureFailure:
      // Documented as "errors in the certificate sent by the server"; the callback's flags
      // refine it. Only a bare channel-error flag means the handshake itself failed.
      if (secure_failure_flags != 0 && (secure_failure_flags & kVerificationFlags) == 0) {
        return TransportErrorKind::kTls;
      }
      return TransportErrorKind::kTlsVerification;
    case kErrSecureChannelError:
      // Wine 8 reports every handshake failure, certificate rejections included, this way and
      // sends no SECURE_FAILURE callback (docs/windows-verification.md); flags decide when present.
      return (secure_failure_flags & kVerificationFlags) != 0 ? TransportErrorKind::kTlsVerification
                                                              : TransportErrorKind::kTls;
    case kErrClientAuthCertNeeded:
      return TransportErrorKind::kTls;
    case kErrBadAutoProxyScript:
    case kErrUnableToDownloadScript:
    case kErrAutoProxyServiceError:
    case kErrAutodetectionFailed:
    case kErrClientAuthCertNeededProxy:
    case kErrSecureFailureProxy:
      return TransportErrorKind::kProxy;
    case kErrInvalidServerResponse:
    case kErrHeaderSizeOverflow:
    case kErrChunkedEncodingHeaderSizeOverflow:
    case kErrResponseDrainOverflow:
      return TransportErrorKind::kProtocol;
    default:
      return TransportErrorKind::kOther;
  }
}

std::string describeSecureFailureFlags(uint32_t flags) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {kFlagInvalidCa, "untrusted CA"},
      {kFlagCertCnInvalid, "name mismatch"},
      {kFlagCertDateInvalid, "expired or not yet valid"},
      {kFlagCertWrongUsage, "not valid for server authentication"},
      {kFlagCertRevoked, "revoked"},
      {kFlagCertRevFailed, "revocation check failed"},
      {kFlagInvalidCert, "invalid certificate"},
      {kFlagSecurityChannelError, "secure channel error"},
  };
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if ((flags & bit) == 0) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace t0w::winhttp
