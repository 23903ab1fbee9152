#include "agent/shipper/cert_store_windows.h"

#include <vector>

namespace t0w {
namespace {

constexpr char kTemplateOidExtension[] = "1.3.6.1.4.1.311.21.7";  // szOID_CERTIFICATE_TEMPLATE
constexpr char kTemplateNameExtension[] =
    "1.3.6.1.4.1.311.20.2";                             // szOID_ENROLL_CERTTYPE_EXTENSION
constexpr char kClientAuthOid[] = "1.3.6.1.5.5.7.3.2";  // szOID_PKIX_KP_CLIENT_AUTH

struct StoreClose {
  void operator()(void* store) const { CertCloseStore(store, 0); }
};
using StorePtr = std::unique_ptr<void, StoreClose>;

int64_t ticks(const FILETIME& ft) {
  return static_cast<int64_t>((static_cast<uint64_t>(ft.dwHighDateTime) << 32) | ft.dwLowDateTime);
}

std::string_view extensionValue(const CERT_CONTEXT* context, const char* oid) {
  const CERT_EXTENSION* ext =
      CertFindExtension(oid, context->pCertInfo->cExtension, context->pCertInfo->rgExtension);
  if (ext == nullptr) return {};
  return {reinterpret_cast<const char*>(ext->Value.pbData), ext->Value.cbData};
}

bool allowsClientAuth(const CERT_CONTEXT* context) {
  DWORD size = 0;
  if (!CertGetEnhancedKeyUsage(context, 0, nullptr, &size)) {
    return GetLastError() == static_cast<DWORD>(CRYPT_E_NOT_FOUND);  // no EKU: any use
  }
  std::vector<BYTE> buffer(size);
  auto* usage = reinterpret_cast<CERT_ENHKEY_USAGE*>(buffer.data());
  if (!CertGetEnhancedKeyUsage(context, 0, usage, &size)) return false;
  // Zero identifiers with CRYPT_E_NOT_FOUND means "all uses"; zero otherwise means none.
  if (usage->cUsageIdentifier == 0) {
    return GetLastError() == static_cast<DWORD>(CRYPT_E_NOT_FOUND);
  }
  for (DWORD i = 0; i < usage->cUsageIdentifier; ++i) {
    if (std::string_view(usage->rgpszUsageIdentifier[i]) == kClientAuthOid) return true;
  }
  return false;
}

}  // namespace

std::wstring widen(const std::string& utf8) {
  if (utf8.empty()) return {};
  const int n =
      MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

std::string narrow(const wchar_t* utf16, size_t length) {
  if (length == 0) return {};
  const int n = WideCharToMultiByte(CP_UTF8, 0, utf16, static_cast<int>(length), nullptr, 0,
                                    nullptr, nullptr);
  std::string out(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, utf16, static_cast<int>(length), out.data(), n, nullptr, nullptr);
  return out;
}

std::string certStoreDisplayName(CertStoreLocation location, const std::string& store_name) {
  return std::string(location == CertStoreLocation::kLocalMachine ? "LocalMachine\\"
                                                                  : "CurrentUser\\") +
         store_name;
}

CertificateDescriptor describeCertificate(const CERT_CONTEXT* context) {
  CertificateDescriptor d;
  BYTE hash[20];
  DWORD hash_size = sizeof(hash);
  if (CertGetCertificateContextProperty(context, CERT_SHA1_HASH_PROP_ID, hash, &hash_size)) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (DWORD i = 0; i < hash_size; ++i) {
      d.thumbprint += kHex[hash[i] >> 4];
      d.thumbprint += kHex[hash[i] & 0xf];
    }
  }
  wchar_t cn[256];
  const DWORD cn_length = CertGetNameStringW(context, CERT_NAME_ATTR_TYPE, 0,
                                             const_cast<char*>(szOID_COMMON_NAME), cn, 256);
  if (cn_length > 1) d.subject_cn = narrow(cn, cn_length - 1);
  if (auto oid = decodeTemplateOidExtension(extensionValue(context, kTemplateOidExtension))) {
    d.template_oid = *oid;
    // Domain-joined machines know the names of the forest's template OIDs.
    const CRYPT_OID_INFO* info =
        CryptFindOIDInfo(CRYPT_OID_INFO_OID_KEY, const_cast<char*>(d.template_oid.c_str()),
                         CRYPT_TEMPLATE_OID_GROUP_ID);
    if (info != nullptr && info->pwszName != nullptr) {
      d.template_name = narrow(info->pwszName, wcslen(info->pwszName));
    }
  }
  if (auto name = decodeTemplateNameExtension(extensionValue(context, kTemplateNameExtension))) {
    d.template_name = *name;
  }
  d.not_before = ticks(context->pCertInfo->NotBefore);
  d.not_after = ticks(context->pCertInfo->NotAfter);
  DWORD size = 0;
  d.has_private_key =
      CertGetCertificateContextProperty(context, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &size) ||
      CertGetCertificateContextProperty(context, CERT_KEY_CONTEXT_PROP_ID, nullptr, &size);
  d.client_auth_usage = allowsClientAuth(context);
  return d;
}

Result<CertContextPtr> findClientCertificate(CertStoreLocation location,
                                             const std::string& store_name,
                                             const ClientCertSelector& selector) {
  const std::string display = certStoreDisplayName(location, store_name);
  const DWORD flags =
      (location == CertStoreLocation::kLocalMachine ? CERT_SYSTEM_STORE_LOCAL_MACHINE
                                                    : CERT_SYSTEM_STORE_CURRENT_USER) |
      CERT_STORE_OPEN_EXISTING_FLAG | CERT_STORE_READONLY_FLAG;
  const std::wstring name = widen(store_name);
  StorePtr store(CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, flags, name.c_str()));
  if (!store) {
    return makeError(Errc::kIo, "certificate store " + display + ": cannot open (error " +
                                    std::to_string(GetLastError()) + ")");
  }
  std::vector<CertContextPtr> contexts;
  std::vector<CertificateDescriptor> descriptors;
  const CERT_CONTEXT* it = nullptr;
  while ((it = CertEnumCertificatesInStore(store.get(), it)) != nullptr) {
    contexts.emplace_back(CertDuplicateCertificateContext(it));
    descriptors.push_back(describeCertificate(it));
  }
  FILETIME now;
  GetSystemTimeAsFileTime(&now);
  auto index = selectClientCertificate(descriptors, selector, ticks(now));
  if (!index) return makeError(index.error().code, display + ": " + index.error().message);
  return std::move(contexts[*index]);
}

}  // namespace t0w
