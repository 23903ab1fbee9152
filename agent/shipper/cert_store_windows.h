// Windows certificate store access for the client certificate (mutual TLS): reads the
// certificates of a system store (LocalMachine\My by default) into descriptors, lets
// selectClientCertificate (cert_store_select.h) choose, and returns the chosen context.
// Windows only.
#pragma once

#include <windows.h>
// wincrypt.h needs windows.h first.
#include <wincrypt.h>

#include <memory>
#include <string>

#include "agent/shipper/cert_store_select.h"
#include "common/core/result.h"

namespace t0w {

struct CertContextFree {
  void operator()(const CERT_CONTEXT* context) const { CertFreeCertificateContext(context); }
};
using CertContextPtr = std::unique_ptr<const CERT_CONTEXT, CertContextFree>;

// The descriptor of one certificate (thumbprint, CN, template, validity, key, EKU).
CertificateDescriptor describeCertificate(const CERT_CONTEXT* context);

// kNotFound when no certificate qualifies (the message says why), kIo when the store cannot be
// opened.
Result<CertContextPtr> findClientCertificate(CertStoreLocation location,
                                             const std::string& store_name,
                                             const ClientCertSelector& selector);

// "LocalMachine\My" for messages.
std::string certStoreDisplayName(CertStoreLocation location, const std::string& store_name);

// UTF-8 <-> UTF-16 for the W APIs.
std::wstring widen(const std::string& utf8);
std::string narrow(const wchar_t* utf16, size_t length);

}  // namespace t0w
