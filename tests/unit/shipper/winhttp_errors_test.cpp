#include "agent/shipper/winhttp_errors.h"

#include <gtest/gtest.h>

namespace t0w::winhttp {
namespace {

TEST(WinHttpErrorsTest, NetworkErrorsMapToTheirClasses) {
  EXPECT_EQ(classifyError(kErrTimeout, 0), TransportErrorKind::kTimeout);
  EXPECT_EQ(classifyError(kWsaTimedOut, 0), TransportErrorKind::kTimeout);
  EXPECT_EQ(classifyError(kErrNameNotResolved, 0), TransportErrorKind::kDns);
  EXPECT_EQ(classifyError(kErrCannotConnect, 0), TransportErrorKind::kConnectRefused);
  EXPECT_EQ(classifyError(kWsaConnRefused, 0), TransportErrorKind::kConnectRefused);
  EXPECT_EQ(classifyError(kWsaHostUnreachable, 0), TransportErrorKind::kConnectRefused);
  EXPECT_EQ(classifyError(kErrConnectionError, 0), TransportErrorKind::kReset);
  EXPECT_EQ(classifyError(kWsaConnReset, 0), TransportErrorKind::kReset);
  EXPECT_EQ(classifyError(kErrInvalidServerResponse, 0), TransportErrorKind::kProtocol);
  EXPECT_EQ(classifyError(kErrHeaderSizeOverflow, 0), TransportErrorKind::kProtocol);
  EXPECT_EQ(classifyError(kErrAutodetectionFailed, 0), TransportErrorKind::kProxy);
  EXPECT_EQ(classifyError(kErrSecureFailureProxy, 0), TransportErrorKind::kProxy);
  EXPECT_EQ(classifyError(kErrOperationCancelled, 0), TransportErrorKind::kOther);
  EXPECT_EQ(classifyError(5 /* ERROR_ACCESS_DENIED */, 0), TransportErrorKind::kOther);
}

TEST(WinHttpErrorsTest, CertificateErrorsAreVerificationFailures) {
  for (uint32_t code : {kErrSecureCertDateInvalid, kErrSecureCertCnInvalid, kErrSecureInvalidCa,
                        kErrSecureCertRevFailed, kErrSecureInvalidCert, kErrSecureCertRevoked,
                        kErrSecureCertWrongUsage}) {
    EXPECT_EQ(classifyError(code, 0), TransportErrorKind::kTlsVerification) << code;
  }
}

TEST(WinHttpErrorsTest, SecureFailureUsesTheCallbackFlags) {
  EXPECT_EQ(classifyError(kErrSecureFailure, kFlagInvalidCa), TransportErrorKind::kTlsVerification);
  EXPECT_EQ(classifyError(kErrSecureFailure, kFlagCertCnInvalid | kFlagSecurityChannelError),
            TransportErrorKind::kTlsVerification);
  EXPECT_EQ(classifyError(kErrSecureFailure, kFlagCertDateInvalid),
            TransportErrorKind::kTlsVerification);
  // Documented as a certificate problem even when no callback told which one.
  EXPECT_EQ(classifyError(kErrSecureFailure, 0), TransportErrorKind::kTlsVerification);
  EXPECT_EQ(classifyError(kErrSecureFailure, kFlagSecurityChannelError), TransportErrorKind::kTls);
}

TEST(WinHttpErrorsTest, ChannelErrorIsTlsUnlessFlagsBlameTheCertificate) {
  EXPECT_EQ(classifyError(kErrSecureChannelError, 0), TransportErrorKind::kTls);
  EXPECT_EQ(classifyError(kErrSecureChannelError, kFlagSecurityChannelError),
            TransportErrorKind::kTls);
  EXPECT_EQ(classifyError(kErrSecureChannelError, kFlagInvalidCa),
            TransportErrorKind::kTlsVerification);
  EXPECT_EQ(classifyError(kErrClientAuthCertNeeded, 0), TransportErrorKind::kTls);
}

TEST(WinHttpErrorsTest, DescribesFlags) {
  EXPECT_EQ(describeSecureFailureFlags(0), "");
  EXPECT_EQ(describeSecureFailureFlags(kFlagInvalidCa), "untrusted CA");
  EXPECT_EQ(describeSecureFailureFlags(kFlagInvalidCa | kFlagCertCnInvalid),
            "untrusted CA, name mismatch");
  EXPECT_EQ(describeSecureFailureFlags(kFlagSecurityChannelError | kFlagCertRevoked),
            "revoked, secure channel error");
}

}  // namespace
}  // namespace t0w::winhttp
