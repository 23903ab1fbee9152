#include <gtest/gtest.h>

#include "agent/shipper/cert_store_select.h"

namespace t0w {
namespace {

constexpr int64_t kDay = 864'000'000'000;  // FILETIME ticks
constexpr int64_t kNow = 134'000'000'000'000'000;

CertificateDescriptor cert(std::string thumbprint, std::string cn, int64_t not_before_days,
                           int64_t not_after_days) {
  CertificateDescriptor d;
  d.thumbprint = std::move(thumbprint);
  d.subject_cn = std::move(cn);
  d.not_before = kNow + not_before_days * kDay;
  d.not_after = kNow + not_after_days * kDay;
  d.has_private_key = true;
  return d;
}

ClientCertSelector selector(std::string_view text) {
  auto parsed = parseClientCertSelector(text);
  EXPECT_TRUE(parsed) << parsed.error().toString();
  return parsed ? *parsed : ClientCertSelector{};
}

TEST(ClientCertSelectorTest, ParsesAndNormalisesThumbprint) {
  auto s = selector("thumbprint: 3A:F2 9c0011223344556677 8899AABBCCDDEEFF00 ");
  EXPECT_EQ(s.match, ClientCertMatch::kThumbprint);
  EXPECT_EQ(s.value, "3af29c00112233445566778899aabbccddeeff00");
}

TEST(ClientCertSelectorTest, RefusesBadSelectors) {
  EXPECT_EQ(parseClientCertSelector("").value().match, ClientCertMatch::kNone);
  const std::vector<std::string> bad_selectors = {
      "dc01",           "subject:",
      "thumbprint:abc", "thumbprint:" + std::string(40, 'g'),
      "serial:01",      "thumbprint:" + std::string(42, 'a')};
  for (const std::string& bad : bad_selectors) {
    auto parsed = parseClientCertSelector(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, Errc::kInvalidArgument);
  }
}

TEST(ClientCertSelectionTest, NewestValidMatchingCertificateWins) {
  std::vector<CertificateDescriptor> certs = {
      cert("aa", "dc01.corp.example", -300, 65),   // older, valid
      cert("bb", "dc01.corp.example", -20, 345),   // newest valid: wins
      cert("cc", "dc01.corp.example", 5, 370),     // not yet valid
      cert("dd", "dc02.corp.example", -1, 364),    // other machine
      cert("ee", "DC01.corp.example", -400, -35),  // expired
  };
  auto index = selectClientCertificate(certs, selector("subject:dc01.CORP"), kNow);
  ASSERT_TRUE(index) << index.error().toString();
  EXPECT_EQ(certs[*index].thumbprint, "bb");
}

TEST(ClientCertSelectionTest, SameStartLaterExpiryWins) {
  std::vector<CertificateDescriptor> certs = {cert("aa", "dc01", -10, 100),
                                              cert("bb", "dc01", -10, 200)};
  auto index = selectClientCertificate(certs, selector("subject:dc01"), kNow);
  ASSERT_TRUE(index);
  EXPECT_EQ(*index, 1u);
}

TEST(ClientCertSelectionTest, SkipsCertificatesWithoutKeyOrClientAuth) {
  std::vector<CertificateDescriptor> certs = {
      cert("aa", "dc01", -10, 100), cert("bb", "dc01", -5, 100), cert("cc", "dc01", -1, 100)};
  certs[1].has_private_key = false;
  certs[2].client_auth_usage = false;
  auto index = selectClientCertificate(certs, selector("subject:dc01"), kNow);
  ASSERT_TRUE(index);
  EXPECT_EQ(certs[*index].thumbprint, "aa");
}

TEST(ClientCertSelectionTest, ByThumbprint) {
  const std::string wanted = "00112233445566778899aabbccddeeff00112233";
  std::vector<CertificateDescriptor> certs = {
      cert("ffffffffffffffffffffffffffffffffffffffff", "x", -1, 1), cert(wanted, "y", -2, 1)};
  auto index = selectClientCertificate(
      certs, selector("thumbprint:00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00 11 22 33"),
      kNow);
  ASSERT_TRUE(index);
  EXPECT_EQ(*index, 1u);
}

TEST(ClientCertSelectionTest, ByTemplateNameOrOid) {
  std::vector<CertificateDescriptor> certs = {
      cert("v1", "dc01", -30, 300), cert("v2", "dc01", -10, 300), cert("other", "dc01", -1, 300)};
  certs[0].template_name = "DomainController";
  certs[1].template_oid = "1.3.6.1.4.1.311.21.8.1.2.3.4.5.6.7";
  certs[1].template_name = "Kerberos Authentication";
  certs[2].template_name = "WebServer";
  auto by_name = selectClientCertificate(certs, selector("template:domaincontroller"), kNow);
  ASSERT_TRUE(by_name);
  EXPECT_EQ(certs[*by_name].thumbprint, "v1");
  auto by_oid =
      selectClientCertificate(certs, selector("template:1.3.6.1.4.1.311.21.8.1.2.3.4.5.6.7"), kNow);
  ASSERT_TRUE(by_oid);
  EXPECT_EQ(certs[*by_oid].thumbprint, "v2");
  auto resolved =
      selectClientCertificate(certs, selector("template:Kerberos Authentication"), kNow);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(certs[*resolved].thumbprint, "v2");
  // A name is never a prefix match on the OID and vice versa.
  EXPECT_FALSE(selectClientCertificate(certs, selector("template:1.3.6.1.4.1.311.21.8"), kNow));
}

TEST(ClientCertSelectionTest, NotFoundSaysWhy) {
  std::vector<CertificateDescriptor> certs = {cert("aa", "dc01", -400, -1),
                                              cert("bb", "dc01", -10, 100)};
  certs[1].has_private_key = false;
  auto result = selectClientCertificate(certs, selector("subject:dc01"), kNow);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::kNotFound);
  const std::string& m = result.error().message;
  EXPECT_NE(m.find("subject 'dc01'"), std::string::npos) << m;
  EXPECT_NE(m.find("2 matched"), std::string::npos) << m;
  EXPECT_NE(m.find("1 outside their validity period"), std::string::npos) << m;
  EXPECT_NE(m.find("1 without a private key"), std::string::npos) << m;

  auto none = selectClientCertificate({}, selector("subject:dc01"), kNow);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("among 0"), std::string::npos);
  EXPECT_FALSE(selectClientCertificate(certs, ClientCertSelector{}, kNow));
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

TEST(TemplateExtensionTest, DecodesV2TemplateOid) {
  // SEQUENCE { OID 1.3.6.1.4.1.311.21.8.1.2, INTEGER 100, INTEGER 4 }
  const std::string der = bytes({0x30, 0x13, 0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37,
                                 0x15, 0x08, 0x01, 0x02, 0x02, 0x01, 0x64, 0x02, 0x01, 0x04});
  auto oid = decodeTemplateOidExtension(der);
  ASSERT_TRUE(oid);
  EXPECT_EQ(*oid, "1.3.6.1.4.1.311.21.8.1.2");
}

TEST(TemplateExtensionTest, RejectsMalformedV2) {
  EXPECT_FALSE(decodeTemplateOidExtension(""));
  EXPECT_FALSE(decodeTemplateOidExtension(bytes({0x30, 0x05, 0x06, 0x03, 0x2b})));  // truncated
  EXPECT_FALSE(decodeTemplateOidExtension(bytes({0x31, 0x03, 0x06, 0x01, 0x2b})));  // not SEQUENCE
  EXPECT_FALSE(decodeTemplateOidExtension(bytes({0x30, 0x03, 0x02, 0x01, 0x05})));  // no OID
  EXPECT_FALSE(decodeTemplateOidExtension(bytes({0x30, 0x04, 0x06, 0x02, 0x2b, 0x82})));  // cut arc
}

TEST(TemplateExtensionTest, DecodesV1TemplateName) {
  // BMPString "Machine"
  const std::string der = bytes(
      {0x1e, 0x0e, 0x00, 'M', 0x00, 'a', 0x00, 'c', 0x00, 'h', 0x00, 'i', 0x00, 'n', 0x00, 'e'});
  auto name = decodeTemplateNameExtension(der);
  ASSERT_TRUE(name);
  EXPECT_EQ(*name, "Machine");
  auto umlaut = decodeTemplateNameExtension(bytes({0x1e, 0x02, 0x00, 0xe4}));
  ASSERT_TRUE(umlaut);
  EXPECT_EQ(*umlaut, "\xc3\xa4");
  EXPECT_FALSE(decodeTemplateNameExtension(bytes({0x1e, 0x03, 0x00, 'M', 0x00})));  // odd length
  EXPECT_FALSE(decodeTemplateNameExtension(bytes({0x1e, 0x04, 0x00, 'M'})));  // length past end
  EXPECT_FALSE(decodeTemplateNameExtension(bytes({0x04, 0x02, 0x00, 'M'})));  // OCTET STRING
}

}  // namespace
}  // namespace t0w
