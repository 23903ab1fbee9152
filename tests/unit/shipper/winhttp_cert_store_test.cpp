// The client certificate store access (cert_store_windows.h) against a real Windows certificate
// store: certificates with keys are made with CertCreateSelfSignCertificate in a scratch
// CurrentUser store, then found by subject, thumbprint and template. Runs under Wine in CI.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/shipper/cert_store_windows.h"

namespace t0w {
namespace {

constexpr int64_t kDay = 864'000'000'000;

FILETIME filetime(int64_t ticks) {
  return FILETIME{static_cast<DWORD>(ticks & 0xffffffff), static_cast<DWORD>(ticks >> 32)};
}

int64_t nowTicks() {
  FILETIME ft;
  GetSystemTimeAsFileTime(&ft);
  return static_cast<int64_t>((static_cast<uint64_t>(ft.dwHighDateTime) << 32) | ft.dwLowDateTime);
}

class ScratchStore : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = "T0WTest" + std::to_string(GetCurrentProcessId());
    const std::wstring wide = widen(name_);
    store_ =
        CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER, wide.c_str());
    ASSERT_NE(store_, nullptr) << GetLastError();
  }
  void TearDown() override {
    if (store_ != nullptr) CertCloseStore(store_, 0);
    const std::wstring wide = widen(name_);
    CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                  CERT_SYSTEM_STORE_CURRENT_USER | CERT_STORE_DELETE_FLAG, wide.c_str());
  }

  // Adds a self-signed certificate with a fresh key; returns its thumbprint.
  std::string add(const std::string& cn, int64_t from_days, int64_t to_days,
                  const std::string& template_ext_oid = "", const std::string& ext_der = "") {
    const std::wstring subject = widen("CN=" + cn);
    BYTE encoded[512];
    DWORD encoded_size = sizeof(encoded);
    EXPECT_TRUE(CertStrToNameW(X509_ASN_ENCODING, subject.c_str(), CERT_X500_NAME_STR, nullptr,
                               encoded, &encoded_size, nullptr));
    CERT_NAME_BLOB name{encoded_size, encoded};
    const int64_t now = nowTicks();
    FILETIME from = filetime(now + from_days * kDay), to = filetime(now + to_days * kDay);
    SYSTEMTIME start, end;
    FileTimeToSystemTime(&from, &start);
    FileTimeToSystemTime(&to, &end);
    std::string ext_value = ext_der;
    CERT_EXTENSION extension{
        const_cast<char*>(template_ext_oid.c_str()),
        FALSE,
        {static_cast<DWORD>(ext_value.size()), reinterpret_cast<BYTE*>(ext_value.data())}};
    CERT_EXTENSIONS extensions{template_ext_oid.empty() ? 0u : 1u, &extension};
    const CERT_CONTEXT* cert =
        CertCreateSelfSignCertificate(0, &name, 0, nullptr, nullptr, &start, &end, &extensions);
    EXPECT_NE(cert, nullptr) << "CertCreateSelfSignCertificate: " << GetLastError();
    if (cert == nullptr) return "";
    const std::string thumbprint = describeCertificate(cert).thumbprint;
    EXPECT_TRUE(
        CertAddCertificateContextToStore(store_, cert, CERT_STORE_ADD_REPLACE_EXISTING, nullptr));
    CertFreeCertificateContext(cert);
    // A registry store writes through on commit or close; the lookup opens the store afresh.
    EXPECT_TRUE(CertControlStore(store_, 0, CERT_STORE_CTRL_COMMIT, nullptr)) << GetLastError();
    return thumbprint;
  }

  Result<CertContextPtr> find(std::string_view selector) {
    auto parsed = parseClientCertSelector(selector);
    EXPECT_TRUE(parsed);
    return findClientCertificate(CertStoreLocation::kCurrentUser, name_, *parsed);
  }

  std::string name_;
  HCERTSTORE store_ = nullptr;
};

TEST_F(ScratchStore, NewestValidCertificateForSubjectWins) {
  const std::string cn = "dc01-" + name_ + ".corp.example";
  add(cn, -30, 300);
  const std::string newest = add(cn, -2, 300);
  add(cn, 5, 300);   // not yet valid
  add(cn, -60, -1);  // expired
  add("dc02.corp.example", -1, 300);
  auto found = find("subject:" + cn);
  ASSERT_TRUE(found) << found.error().toString();
  const CertificateDescriptor d = describeCertificate(found->get());
  EXPECT_EQ(d.thumbprint, newest);
  EXPECT_EQ(d.subject_cn, cn);
  EXPECT_TRUE(d.has_private_key);
  EXPECT_TRUE(d.client_auth_usage);
}

TEST_F(ScratchStore, ByThumbprintAndByTemplate) {
  const std::string plain = add("plain-" + name_, -3, 30);
  // v1 template name extension: BMPString "T0WMachine".
  std::string bmp = {'\x1e', '\x14'};
  for (char c : std::string("T0WMachine")) bmp += std::string{'\0', c};
  const std::string v1 = add("v1-" + name_, -3, 30, "1.3.6.1.4.1.311.20.2", bmp);
  // v2 template extension: SEQUENCE { OID 1.3.6.1.4.1.311.21.8.1.2, INTEGER 100 }.
  const std::string v2_der = {'\x30', '\x10', '\x06', '\x0b', '\x2b', '\x06',
                              '\x01', '\x04', '\x01', '\x82', '\x37', '\x15',
                              '\x08', '\x01', '\x02', '\x02', '\x01', '\x64'};
  const std::string v2 = add("v2-" + name_, -3, 30, "1.3.6.1.4.1.311.21.7", v2_der);

  auto by_thumbprint = find("thumbprint:" + plain);
  ASSERT_TRUE(by_thumbprint) << by_thumbprint.error().toString();
  EXPECT_EQ(describeCertificate(by_thumbprint->get()).thumbprint, plain);

  auto by_name = find("template:t0wmachine");
  ASSERT_TRUE(by_name) << by_name.error().toString();
  EXPECT_EQ(describeCertificate(by_name->get()).thumbprint, v1);

  auto by_oid = find("template:1.3.6.1.4.1.311.21.8.1.2");
  ASSERT_TRUE(by_oid) << by_oid.error().toString();
  EXPECT_EQ(describeCertificate(by_oid->get()).thumbprint, v2);
}

TEST_F(ScratchStore, NothingMatchingIsNotFoundWithTheStoreName) {
  add("someone-else", -1, 30);
  auto found = find("subject:nobody-" + name_);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, Errc::kNotFound);
  EXPECT_NE(found.error().message.find("CurrentUser\\" + name_), std::string::npos)
      << found.error().message;
}

TEST(CertStoreTest, MissingStoreIsAnIoError) {
  ClientCertSelector selector{ClientCertMatch::kSubject, "x"};
  auto found =
      findClientCertificate(CertStoreLocation::kCurrentUser, "T0WNoSuchStore-9f3e", selector);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, Errc::kIo) << found.error().toString();
}

}  // namespace
}  // namespace t0w
