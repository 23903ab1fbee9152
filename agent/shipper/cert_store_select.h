// Choosing the client certificate for mutual TLS: a pure function over descriptors of the
// certificates found in a store, so the rules are unit-tested on every platform. The Windows
// store access that builds the descriptors is cert_store_windows.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"

namespace t0w {

// Where a certificate store lives: the machine's (the agent runs as LocalSystem; the DC's
// auto-enrolled certificate is in LocalMachine\My) or the current user's (tests, development).
enum class CertStoreLocation { kLocalMachine, kCurrentUser };

enum class ClientCertMatch {
  kNone,        // no client certificate
  kThumbprint,  // SHA-1 thumbprint, hex (spaces/colons and case ignored)
  kSubject,     // substring of the subject's common name, case-insensitive
  kTemplate,    // certificate template: name (v1 extension or resolved v2) or v2 template OID
};

struct ClientCertSelector {
  ClientCertMatch match = ClientCertMatch::kNone;
  std::string value;  // normalised by parseClientCertSelector (thumbprint: 40 lower-case hex)
};

// "thumbprint:<hex>", "subject:<text>", "template:<name or OID>", or "" for none.
Result<ClientCertSelector> parseClientCertSelector(std::string_view text);

struct CertificateDescriptor {
  std::string thumbprint;     // SHA-1, 40 lower-case hex digits
  std::string subject_cn;     // common name of the subject ("" when absent)
  std::string template_name;  // v1 template name extension (1.3.6.1.4.1.311.20.2), or the
                              // v2 template's name when the system could resolve its OID
  std::string template_oid;   // v2 template extension (1.3.6.1.4.1.311.21.7), dotted
  int64_t not_before = 0;     // FILETIME ticks (common/core/time.h)
  int64_t not_after = 0;
  bool has_private_key = false;
  bool client_auth_usage = true;  // no EKU extension, or one that lists clientAuth
};

// Index of the certificate to use: among those matching the selector that are valid at `now`
// (FILETIME ticks), have a private key and allow client authentication, the newest (latest
// not_before, then latest not_after) wins. kNotFound names the selector and why the candidates
// were refused; kInvalidArgument for a kNone selector.
Result<size_t> selectClientCertificate(const std::vector<CertificateDescriptor>& candidates,
                                       const ClientCertSelector& selector, int64_t now);

// The certificate template extensions' values (DER), decoded without the platform's decoder
// (Wine's crypt32 has none for the v2 template structure). nullopt on malformed input.
// 1.3.6.1.4.1.311.21.7: SEQUENCE { templateID OID, major INTEGER, minor INTEGER OPTIONAL }.
std::optional<std::string> decodeTemplateOidExtension(std::string_view der);
// 1.3.6.1.4.1.311.20.2: the template name, a BMPString (UTF-16BE) -> UTF-8.
std::optional<std::string> decodeTemplateNameExtension(std::string_view der);

}  // namespace t0w
