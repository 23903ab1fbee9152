// Classification of WinHTTP failures into the shipper's TransportErrorKind. Portable (plain
// numbers, cross-checked against winhttp.h in the Windows build) so that it is unit-tested on
// every platform; WinHttpTransport calls it with GetLastError() and the flags its
// WINHTTP_CALLBACK_STATUS_SECURE_FAILURE callback received.
#pragma once

#include <cstdint>
#include <string>

#include "common/http/transport.h"

namespace t0w::winhttp {

// Error codes (WINHTTP_ERROR_BASE = 12000) and Winsock codes WinHTTP passes through.
inline constexpr uint32_t kErrTimeout = 12002;
inline constexpr uint32_t kErrNameNotResolved = 12007;
inline constexpr uint32_t kErrOperationCancelled = 12017;
inline constexpr uint32_t kErrCannotConnect = 12029;
inline constexpr uint32_t kErrConnectionError = 12030;
inline constexpr uint32_t kErrSecureCertDateInvalid = 12037;
inline constexpr uint32_t kErrSecureCertCnInvalid = 12038;
inline constexpr uint32_t kErrClientAuthCertNeeded = 12044;
inline constexpr uint32_t kErrSecureInvalidCa = 12045;
inline constexpr uint32_t kErrSecureCertRevFailed = 12057;
inline constexpr uint32_t kErrInvalidServerResponse = 12152;
inline constexpr uint32_t kErrSecureChannelError = 12157;
inline constexpr uint32_t kErrBadAutoProxyScript = 12166;
inline constexpr uint32_t kErrUnableToDownloadScript = 12167;
inline constexpr uint32_t kErrSecureInvalidCert = 12169;
inline constexpr uint32_t kErrSecureCertRevoked = 12170;
inline constexpr uint32_t kErrSecureFailure = 12175;
inline constexpr uint32_t kErrAutoProxyServiceError = 12178;
inline constexpr uint32_t kErrSecureCertWrongUsage = 12179;
inline constexpr uint32_t kErrAutodetectionFailed = 12180;
inline constexpr uint32_t kErrHeaderSizeOverflow = 12182;
inline constexpr uint32_t kErrChunkedEncodingHeaderSizeOverflow = 12183;
inline constexpr uint32_t kErrResponseDrainOverflow = 12184;
inline constexpr uint32_t kErrClientAuthCertNeededProxy = 12187;
inline constexpr uint32_t kErrSecureFailureProxy = 12188;
inline constexpr uint32_t kWsaConnReset = 10054;
inline constexpr uint32_t kWsaTimedOut = 10060;
inline constexpr uint32_t kWsaConnRefused = 10061;
inline constexpr uint32_t kWsaNetUnreachable = 10051;
inline constexpr uint32_t kWsaHostUnreachable = 10065;

// WINHTTP_CALLBACK_STATUS_FLAG_* bits delivered with WINHTTP_CALLBACK_STATUS_SECURE_FAILURE.
inline constexpr uint32_t kFlagCertRevFailed = 0x01;
inline constexpr uint32_t kFlagInvalidCert = 0x02;
inline constexpr uint32_t kFlagCertRevoked = 0x04;
inline constexpr uint32_t kFlagInvalidCa = 0x08;
inline constexpr uint32_t kFlagCertCnInvalid = 0x10;
inline constexpr uint32_t kFlagCertDateInvalid = 0x20;
inline constexpr uint32_t kFlagCertWrongUsage = 0x40;
inline constexpr uint32_t kFlagSecurityChannelError = 0x80000000u;

// `secure_failure_flags` is 0 when no SECURE_FAILURE callback came.
TransportErrorKind classifyError(uint32_t error, uint32_t secure_failure_flags);

// "untrusted CA, name mismatch" for the flags set; "" for none.
std::string describeSecureFailureFlags(uint32_t flags);

}  // namespace t0w::winhttp
