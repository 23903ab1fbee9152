#include "tools/bench/sample_generator.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <utility>

#include "common/core/time.h"
#include "common/text/xml_escape.h"

namespace t0w::bench {
namespace {

constexpr int64_t kSecond = kTicksPerSecond;
constexpr int64_t kMinute = 60 * kSecond;

constexpr const char* kSecurityProvider = "Microsoft-Windows-Security-Auditing";
constexpr const char* kSecurityGuid = "{54849625-5478-4994-A5BA-3E3B0328C30D}";
constexpr const char* kAuditSuccess = "0x8020000000000000";
constexpr const char* kAuditFailure = "0x8010000000000000";
constexpr const char* kDomainSid = "S-1-5-21-3623811015-3361044348-30300820";
constexpr const char* kNetbios = "CORP";
constexpr const char* kRealm = "CORP.CONTOSO.COM";
constexpr uint32_t kLsassPid = 684;

// Security audit task categories (SubCategory GUID order as Windows renders them).
constexpr uint16_t kTaskLogon = 12544;
constexpr uint16_t kTaskLogoff = 12545;
constexpr uint16_t kTaskUserAccount = 13824;
constexpr uint16_t kTaskComputerAccount = 13825;
constexpr uint16_t kTaskDirectoryAccess = 14080;
constexpr uint16_t kTaskServiceTicket = 14337;
constexpr uint16_t kTaskAuthService = 14339;

// Replication extended rights (the DCSync GUIDs, detection SUP-MSOL).
constexpr const char* kGetChanges = "{1131f6aa-9c07-11d1-f79f-00c04fc2dcd2}";
constexpr const char* kGetChangesAll = "{1131f6ad-9c07-11d1-f79f-00c04fc2dcd2}";
constexpr const char* kGetChangesFiltered = "{89e95b76-444d-4c62-991a-0facbeda640c}";
constexpr const char* kDomainDnsClass = "{19195a5b-6da0-11d0-afd3-00c04fd930c9}";

constexpr std::array<const char*, 24> kFirstNames{
    "adele", "bruno", "carla", "dmitri", "elena", "farid", "grace", "hiro",
    "ines",  "jonas", "kiran", "lena",   "marco", "nadia", "oscar", "priya",
    "quinn", "rosa",  "sven",  "tariq",  "ulla",  "vera",  "wen",   "yusuf"};
constexpr std::array<const char*, 12> kLastNames{"smith",  "garcia", "novak",    "tanaka",
                                                 "muller", "rossi",  "kowalski", "silva",
                                                 "dubois", "jensen", "okafor",   "haddad"};
constexpr std::array<const char*, 6> kServices{
    "MSSQLSvc/sql01.corp.contoso.com:1433", "HTTP/intranet.corp.contoso.com",
    "cifs/fs01.corp.contoso.com",           "ldap/DC02.corp.contoso.com",
    "host/app01.corp.contoso.com",          "TERMSRV/rds01.corp.contoso.com"};

// "adele.smith" -> "Adele Smith"
std::string displayName(const std::string& account) {
  std::string out = account;
  bool start = true;
  for (char& c : out) {
    if (c == '.') {
      c = ' ';
      start = true;
    } else if (start) {
      c = static_cast<char>(c - 'a' + 'A');
      start = false;
    }
  }
  return out;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

struct EventSpec {
  int64_t time = 0;
  std::string scenario;
  std::string provider = kSecurityProvider;
  std::string provider_guid = kSecurityGuid;
  uint32_t event_id = 0;
  uint8_t version = 0;
  uint8_t level = 0;
  uint16_t task = 0;
  std::string keywords = kAuditSuccess;
  std::string channel = "Security";
  uint32_t process_id = kLsassPid;
  uint32_t thread_id = 0;
  std::string user_id;                                    // System/Security/@UserID
  std::vector<std::pair<std::string, std::string>> data;  // empty name: unnamed <Data>
  std::string user_data;  // raw XML under <UserData> (already escaped)
  std::string message;    // RenderingInfo/Message
  std::string rendered_level;
};

// Deterministic across platforms: mt19937_64 is fully specified, and so is the modulo below
// (std::uniform_int_distribution is not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t below(uint64_t bound) { return engine_() % bound; }
  int64_t ticksBelow(int64_t bound) { return static_cast<int64_t>(below(bound)); }
  template <typename T, size_t N>
  const T& pick(const std::array<T, N>& a) {
    return a[below(N)];
  }

 private:
  std::mt19937_64 engine_;
};

class Builder {
 public:
  explicit Builder(const SampleOptions& options) : options_(options), rng_(options.seed) {}

  std::vector<SampleEvent> build() {
    background();
    if (!options_.scenarios) return render();
    passwordSpray();
    dcsync();
    computerDelegationChange();
    rc4Kerberoast();
    dsrmPasswordSet();
    passwordProtectionRejections();
    ptaAgentFailures();
    logCleared();
    return render();
  }

 private:
  int64_t at(int64_t offset) const { return options_.start_ticks + offset; }
  uint32_t thread() { return 700 + static_cast<uint32_t>(rng_.below(6000)) * 4; }
  // Each draw is its own statement: the order of evaluation of operands and arguments is
  // unspecified, and the output must not depend on the compiler.
  std::string user() {
    std::string name = rng_.pick(kFirstNames);
    name += ".";
    name += rng_.pick(kLastNames);
    return name;
  }
  std::string userSid(const std::string& name) {
    // Stable per name within one run so that the same user keeps the same SID.
    auto [it, inserted] = rids_.emplace(name, 1100 + rids_.size());
    return std::string(kDomainSid) + "-" + std::to_string(it->second);
  }
  std::string logonId() { return hex(0x100000 + rng_.below(0x7FFFFFF)); }
  std::string clientIp() {
    const uint64_t subnet = 1 + rng_.below(40);
    const uint64_t host = 2 + rng_.below(250);
    return "10.10." + std::to_string(subnet) + "." + std::to_string(host);
  }
  std::string port() { return std::to_string(49152 + rng_.below(16000)); }
  std::string logonGuid() {
    std::array<unsigned long long, 5> parts{};
    const std::array<uint64_t, 5> bounds{1ULL << 32, 1 << 16, 1 << 16, 1 << 16, 1ULL << 48};
    for (size_t i = 0; i < parts.size(); ++i) parts[i] = rng_.below(bounds[i]);
    char buf[48];
    std::snprintf(buf, sizeof buf, "{%08llX-%04llX-%04llX-%04llX-%012llX}", parts[0], parts[1],
                  parts[2], parts[3], parts[4]);
    return buf;
  }
  std::string dcName() const {
    return options_.computer.substr(0, options_.computer.find('.')) + "$";
  }

  EventSpec security(std::string scenario, int64_t time, uint32_t id, uint16_t task,
                     bool success = true) {
    EventSpec e;
    e.scenario = std::move(scenario);
    e.time = time;
    e.event_id = id;
    e.task = task;
    e.keywords = success ? kAuditSuccess : kAuditFailure;
    e.thread_id = thread();
    return e;
  }

  void subject(EventSpec& e, const std::string& name, const std::string& sid,
               const std::string& domain, const std::string& logon_id) {
    e.data.emplace_back("SubjectUserSid", sid);
    e.data.emplace_back("SubjectUserName", name);
    e.data.emplace_back("SubjectDomainName", domain);
    e.data.emplace_back("SubjectLogonId", logon_id);
  }

  void logon4624(std::string scenario, int64_t time, const std::string& name, const std::string& ip,
                 const std::string& auth_package) {
    EventSpec e = security(std::move(scenario), time, 4624, kTaskLogon);
    e.version = 2;
    subject(e, "-", "S-1-0-0", "-", "0x0");
    e.data.emplace_back("TargetUserSid", userSid(name));
    e.data.emplace_back("TargetUserName", name);
    e.data.emplace_back("TargetDomainName", kNetbios);
    e.data.emplace_back("TargetLogonId", logonId());
    e.data.emplace_back("LogonType", "3");
    e.data.emplace_back("LogonProcessName", auth_package == "Kerberos" ? "Kerberos" : "NtLmSsp ");
    e.data.emplace_back("AuthenticationPackageName", auth_package);
    e.data.emplace_back("WorkstationName", auth_package == "Kerberos" ? "-" : "WKS-" + port());
    e.data.emplace_back("LogonGuid", auth_package == "Kerberos"
                                         ? logonGuid()
                                         : "{00000000-0000-0000-0000-000000000000}");
    e.data.emplace_back("TransmittedServices", "-");
    e.data.emplace_back("LmPackageName", auth_package == "Kerberos" ? "-" : "NTLM V2");
    e.data.emplace_back("KeyLength", auth_package == "Kerberos" ? "0" : "128");
    e.data.emplace_back("ProcessId", "0x0");
    e.data.emplace_back("ProcessName", "-");
    e.data.emplace_back("IpAddress", ip);
    e.data.emplace_back("IpPort", port());
    e.data.emplace_back("ImpersonationLevel", "%%1833");
    e.data.emplace_back("RestrictedAdminMode", "-");
    e.data.emplace_back("TargetOutboundUserName", "-");
    e.data.emplace_back("TargetOutboundDomainName", "-");
    e.data.emplace_back("VirtualAccount", "%%1843");
    e.data.emplace_back("TargetLinkedLogonId", "0x0");
    e.data.emplace_back("ElevatedToken", "%%1843");
    specs_.push_back(std::move(e));
  }

  void serviceTicket4769(std::string scenario, int64_t time, const std::string& name,
                         const std::string& service, const std::string& ip, uint32_t etype) {
    EventSpec e = security(std::move(scenario), time, 4769, kTaskServiceTicket);
    e.version = 1;
    e.data.emplace_back("TargetUserName", name + "@" + kRealm);
    e.data.emplace_back("TargetDomainName", kRealm);
    const std::string account =
        service.substr(service.find('/') + 1, service.find('.') - service.find('/') - 1);
    e.data.emplace_back("ServiceName", "svc-" + account);
    e.data.emplace_back("ServiceSid", userSid("svc-" + account));
    e.data.emplace_back("TicketOptions", etype == 0x17 ? "0x40810000" : "0x40810010");
    e.data.emplace_back("TicketEncryptionType", hex(etype));
    e.data.emplace_back("IpAddress", "::ffff:" + ip);
    e.data.emplace_back("IpPort", port());
    e.data.emplace_back("Status", "0x0");
    e.data.emplace_back("LogonGuid", logonGuid());
    e.data.emplace_back("TransmittedServices", "-");
    specs_.push_back(std::move(e));
  }

  // Ordinary DC traffic: network logons, logoffs, TGTs and AES service tickets.
  void background() {
    const int64_t span = 60 * kMinute;
    for (size_t i = 0; i < options_.background_events; ++i) {
      const int64_t t = at(rng_.ticksBelow(span));
      const std::string name = user();
      const std::string ip = clientIp();
      switch (rng_.below(4)) {
        case 0:
          logon4624("background", t, name, ip, "Kerberos");
          break;
        case 1: {
          EventSpec e = security("background", t, 4634, kTaskLogoff);
          e.data.emplace_back("TargetUserSid", userSid(name));
          e.data.emplace_back("TargetUserName", name);
          e.data.emplace_back("TargetDomainName", kNetbios);
          e.data.emplace_back("TargetLogonId", logonId());
          e.data.emplace_back("LogonType", "3");
          specs_.push_back(std::move(e));
          break;
        }
        case 2: {
          EventSpec e = security("background", t, 4768, kTaskAuthService);
          e.data.emplace_back("TargetUserName", name);
          e.data.emplace_back("TargetDomainName", kNetbios);
          e.data.emplace_back("TargetSid", userSid(name));
          e.data.emplace_back("ServiceName", "krbtgt");
          e.data.emplace_back("ServiceSid", std::string(kDomainSid) + "-502");
          e.data.emplace_back("TicketOptions", "0x40810010");
          e.data.emplace_back("Status", "0x0");
          e.data.emplace_back("TicketEncryptionType", "0x12");
          e.data.emplace_back("PreAuthType", "2");
          e.data.emplace_back("IpAddress", "::ffff:" + ip);
          e.data.emplace_back("IpPort", port());
          e.data.emplace_back("CertIssuerName", "");
          e.data.emplace_back("CertSerialNumber", "");
          e.data.emplace_back("CertThumbprint", "");
          specs_.push_back(std::move(e));
          break;
        }
        default:
          serviceTicket4769("background", t, name, rng_.pick(kServices), ip, 0x12);
      }
    }
  }

  // AI-02 / PTA-06: one source address tries one password against many accounts, NTLM (4625)
  // and Kerberos pre-authentication (4771), then one account falls.
  void passwordSpray() {
    const std::string attacker_ip = "10.66.6." + std::to_string(10 + rng_.below(200));
    const int64_t start = at(12 * kMinute);
    constexpr size_t kTargets = 36;
    std::set<std::string> sprayed;  // a spray tries each account once
    std::string last;
    for (size_t i = 0; i < kTargets; ++i) {
      std::string name = user();
      while (!sprayed.insert(name).second) name = user();
      last = name;
      const int64_t t = start + static_cast<int64_t>(i) * 2 * kSecond + rng_.ticksBelow(kSecond);
      EventSpec f = security("password-spray", t, 4625, kTaskLogon, false);
      f.version = 0;
      subject(f, "-", "S-1-0-0", "-", "0x0");
      f.data.emplace_back("TargetUserSid", "S-1-0-0");
      f.data.emplace_back("TargetUserName", name);
      f.data.emplace_back("TargetDomainName", kNetbios);
      f.data.emplace_back("Status", "0xc000006d");
      f.data.emplace_back("FailureReason", "%%2313");
      f.data.emplace_back("SubStatus", "0xc000006a");
      f.data.emplace_back("LogonType", "3");
      f.data.emplace_back("LogonProcessName", "NtLmSsp ");
      f.data.emplace_back("AuthenticationPackageName", "NTLM");
      f.data.emplace_back("WorkstationName", "KALI");
      f.data.emplace_back("TransmittedServices", "-");
      f.data.emplace_back("LmPackageName", "-");
      f.data.emplace_back("KeyLength", "0");
      f.data.emplace_back("ProcessId", "0x0");
      f.data.emplace_back("ProcessName", "-");
      f.data.emplace_back("IpAddress", attacker_ip);
      f.data.emplace_back("IpPort", port());
      specs_.push_back(std::move(f));

      EventSpec k = security("password-spray", t + kSecond / 2, 4771, kTaskAuthService, false);
      k.data.emplace_back("TargetUserName", name);
      k.data.emplace_back("TargetSid", userSid(name));
      k.data.emplace_back("ServiceName", std::string("krbtgt/") + kRealm);
      k.data.emplace_back("TicketOptions", "0x40810010");
      k.data.emplace_back("Status", "0x18");
      k.data.emplace_back("PreAuthType", "2");
      k.data.emplace_back("IpAddress", "::ffff:" + attacker_ip);
      k.data.emplace_back("IpPort", port());
      k.data.emplace_back("CertIssuerName", "");
      k.data.emplace_back("CertSerialNumber", "");
      k.data.emplace_back("CertThumbprint", "");
      specs_.push_back(std::move(k));
    }
    logon4624("password-spray", start + static_cast<int64_t>(kTargets) * 2 * kSecond + kSecond,
              last, attacker_ip, "NTLM");
  }

  // SUP-MSOL: replication rights exercised by a user account (not a DC, not MSOL_*), next to
  // the partner DC's legitimate replication.
  void dcsync() {
    auto replication = [&](const std::string& who, const std::string& sid, int64_t t,
                           const char* right) {
      EventSpec e = security("dcsync", t, 4662, kTaskDirectoryAccess);
      subject(e, who, sid, kNetbios, logonId());
      e.data.emplace_back("ObjectServer", "DS");
      e.data.emplace_back("ObjectType", std::string("%") + kDomainDnsClass);
      e.data.emplace_back("ObjectName", "%{4b6a3e8c-1d5f-4f0a-9b7e-2c8d9e1f3a57}");
      e.data.emplace_back("OperationType", "Object Access");
      e.data.emplace_back("HandleId", "0x0");
      e.data.emplace_back("AccessList", "%%7688\n\t\t\t\t");
      e.data.emplace_back("AccessMask", "0x100");
      e.data.emplace_back("Properties",
                          std::string("%%7688\n\t\t") + right + "\n\t" + kDomainDnsClass + "\n");
      e.data.emplace_back("AdditionalInfo", "-");
      e.data.emplace_back("AdditionalInfo2", "");
      specs_.push_back(std::move(e));
    };
    const int64_t partner = at(5 * kMinute);
    replication("DC02$", std::string(kDomainSid) + "-1001", partner, kGetChanges);
    const std::string attacker = "svc-backup";
    const int64_t t = at(27 * kMinute);
    replication(attacker, userSid(attacker), t, kGetChanges);
    replication(attacker, userSid(attacker), t + kSecond / 10, kGetChangesAll);
    replication(attacker, userSid(attacker), t + kSecond / 5, kGetChangesFiltered);
  }

  // PNC-02: a computer account becomes trusted for delegation (OldUacValue 0x80 -> 0x2080).
  void computerDelegationChange() {
    EventSpec e = security("computer-delegation", at(33 * kMinute), 4742, kTaskComputerAccount);
    const std::string admin = "adm-" + user();
    e.data.emplace_back("ComputerAccountChange", "-");
    e.data.emplace_back("TargetUserName", "APP01$");
    e.data.emplace_back("TargetDomainName", kNetbios);
    e.data.emplace_back("TargetSid", userSid("APP01$"));
    subject(e, admin, userSid(admin), kNetbios, logonId());
    e.data.emplace_back("PrivilegeList", "-");
    for (const char* unchanged :
         {"SamAccountName", "DisplayName", "UserPrincipalName", "HomeDirectory", "HomePath",
          "ScriptPath", "ProfilePath", "UserWorkstations", "PasswordLastSet", "AccountExpires",
          "PrimaryGroupId", "AllowedToDelegateTo"}) {
      e.data.emplace_back(unchanged, "-");
    }
    e.data.emplace_back("OldUacValue", "0x80");
    e.data.emplace_back("NewUacValue", "0x2080");
    e.data.emplace_back("UserAccountControl", "\n\t\t%%2093");
    e.data.emplace_back("UserParameters", "-");
    e.data.emplace_back("SidHistory", "-");
    e.data.emplace_back("LogonHours", "-");
    e.data.emplace_back("DnsHostName", "-");
    e.data.emplace_back("ServicePrincipalNames", "-");
    specs_.push_back(std::move(e));
  }

  // PNC-03: one account asks for RC4 (0x17) service tickets for many SPNs (Kerberoasting).
  void rc4Kerberoast() {
    const std::string name = user();
    const std::string ip = clientIp();
    const int64_t start = at(41 * kMinute);
    for (size_t i = 0; i < kServices.size(); ++i) {
      serviceTicket4769("rc4-kerberoast", start + static_cast<int64_t>(i) * kSecond / 3, name,
                        kServices[i], ip, 0x17);
    }
  }

  // SUP-PP-04: the DSRM administrator password is set (ntdsutil), Status 0x0.
  void dsrmPasswordSet() {
    EventSpec e = security("dsrm-password", at(46 * kMinute), 4794, kTaskUserAccount);
    subject(e, "Administrator", std::string(kDomainSid) + "-500", kNetbios, logonId());
    e.data.emplace_back("Workstation", dcName().substr(0, dcName().size() - 1));
    e.data.emplace_back("Status", "0x0");
    specs_.push_back(std::move(e));
  }

  // SUP-PP-01: Microsoft Entra Password Protection DC agent rejects passwords. The agent's
  // EventData names are not published: the insertion strings are unnamed <Data> (UserName,
  // FullName), and the rendered message carries the text.
  void passwordProtectionRejections() {
    const int64_t start = at(49 * kMinute);
    for (int i = 0; i < 3; ++i) {
      const std::string name = user();
      const bool reset = i == 2;  // 10017: set (admin reset); 10016: change by the user
      EventSpec e;
      e.scenario = "password-protection";
      e.time = start + i * 90 * kSecond;
      e.provider = "Microsoft-AzureADPasswordProtection-DCAgent";
      e.provider_guid.clear();
      e.event_id = reset ? 10017 : 10016;
      e.level = 3;
      e.keywords = "0x4000000000000000";
      e.channel = "Microsoft-AzureADPasswordProtection-DCAgent/Admin";
      e.process_id = kLsassPid;
      e.thread_id = thread();
      e.user_id = "S-1-5-18";
      e.data.emplace_back("", name);
      e.data.emplace_back("", displayName(name));
      e.rendered_level = "Warning";
      e.message = std::string("The ") + (reset ? "reset" : "changed") +
                  " password for the specified user was rejected because it did not comply "
                  "with the current Microsoft Entra Password Protection policy.\n\nUserName: " +
                  name + "\nFullName: " + displayName(name) +
                  "\n\nPlease see the correlated event log message for more "
                  "information on why the password was rejected.";
      specs_.push_back(std::move(e));
    }
  }

  // PTA-01..05: the pass-through authentication agent cannot reach AD. Its Admin-channel event
  // IDs are not publicly documented (detections match Level and message): 12000 is a
  // placeholder ID.
  void ptaAgentFailures() {
    const int64_t start = at(52 * kMinute);
    for (int i = 0; i < 4; ++i) {
      EventSpec e;
      e.scenario = "pta-agent";
      e.time = start + i * 40 * kSecond + rng_.ticksBelow(kSecond);
      e.provider = "Microsoft-AzureADConnect-AuthenticationAgent";
      e.provider_guid.clear();
      e.event_id = 12000;
      e.level = 2;
      e.keywords = "0x4000000000000000";
      e.channel = "Microsoft-AzureADConnect-AuthenticationAgent/Admin";
      e.process_id = 3120;
      e.thread_id = thread();
      e.user_id = "S-1-5-20";
      const std::string request = logonGuid();
      const std::string reason = i % 2 == 0 ? "1311" : "1355";
      e.data.emplace_back("", request.substr(1, request.size() - 2));
      e.data.emplace_back("", reason);
      e.rendered_level = "Error";
      e.message = "Passthrough Authentication request failed. RequestId: '" +
                  request.substr(1, request.size() - 2) + "'. Reason: '" + reason +
                  "'. AADSTS80001: Unable to connect to Active Directory.";
      specs_.push_back(std::move(e));
    }
  }

  // The attacker clears the Security log (1102, UserData/LogFileCleared).
  void logCleared() {
    EventSpec e;
    e.scenario = "log-cleared";
    e.time = at(58 * kMinute);
    e.provider = "Microsoft-Windows-Eventlog";
    e.provider_guid = "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}";
    e.event_id = 1102;
    e.level = 4;
    e.task = 104;
    e.keywords = "0x4020000000000000";
    e.thread_id = thread();
    const std::string who = "svc-backup";
    e.user_data =
        "<LogFileCleared xmlns=\"http://manifests.microsoft.com/win/2004/08/windows/"
        "eventlog\"><SubjectUserSid>" +
        userSid(who) + "</SubjectUserSid><SubjectUserName>" + who +
        "</SubjectUserName><SubjectDomainName>" + kNetbios +
        "</SubjectDomainName><SubjectLogonId>" + logonId() + "</SubjectLogonId></LogFileCleared>";
    specs_.push_back(std::move(e));
  }

  std::string toXml(const EventSpec& e, uint64_t record_id) const {
    std::string x;
    x.reserve(2048);
    x += "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>";
    x += "<Provider Name='" + xmlEscape(e.provider) + "'";
    if (!e.provider_guid.empty()) x += " Guid='" + e.provider_guid + "'";
    x += "/><EventID>" + std::to_string(e.event_id) + "</EventID>";
    x += "<Version>" + std::to_string(e.version) + "</Version>";
    x += "<Level>" + std::to_string(e.level) + "</Level>";
    x += "<Task>" + std::to_string(e.task) + "</Task><Opcode>0</Opcode>";
    x += "<Keywords>" + e.keywords + "</Keywords>";
    x += "<TimeCreated SystemTime='" + formatFiletime(e.time) + "'/>";
    x += "<EventRecordID>" + std::to_string(record_id) + "</EventRecordID><Correlation/>";
    x += "<Execution ProcessID='" + std::to_string(e.process_id) + "' ThreadID='" +
         std::to_string(e.thread_id) + "'/>";
    x += "<Channel>" + xmlEscape(e.channel) + "</Channel>";
    x += "<Computer>" + xmlEscape(options_.computer) + "</Computer>";
    x += e.user_id.empty() ? "<Security/>" : "<Security UserID='" + e.user_id + "'/>";
    x += "</System>";
    if (!e.user_data.empty()) {
      x += "<UserData>" + e.user_data + "</UserData>";
    } else {
      x += "<EventData>";
      for (const auto& [name, value] : e.data) {
        x += name.empty() ? "<Data>" : "<Data Name='" + name + "'>";
        x += xmlEscape(value) + "</Data>";
      }
      x += "</EventData>";
    }
    if (!e.message.empty()) {
      x += "<RenderingInfo Culture='en-US'><Message>" + xmlEscape(e.message) + "</Message>";
      x += "<Level>" + e.rendered_level + "</Level><Task></Task><Opcode>Info</Opcode>";
      x += "<Channel>" + xmlEscape(e.channel.substr(e.channel.find('/') + 1)) + "</Channel>";
      x += "<Provider>" + xmlEscape(e.provider) + "</Provider><Keywords>";
      x += "<Keyword>Classic</Keyword></Keywords></RenderingInfo>";
    }
    x += "</Event>";
    return x;
  }

  std::vector<SampleEvent> render() {
    std::stable_sort(specs_.begin(), specs_.end(),
                     [](const EventSpec& a, const EventSpec& b) { return a.time < b.time; });
    std::map<std::string, uint64_t> next_record;  // per channel, as Windows numbers them
    std::vector<SampleEvent> out;
    out.reserve(specs_.size());
    for (const EventSpec& e : specs_) {
      auto [it, inserted] = next_record.emplace(e.channel, 0);
      if (inserted) it->second = e.channel == "Security" ? 1'482'000 + rng_.below(50'000) : 200;
      out.push_back(SampleEvent{e.time, e.scenario, toXml(e, it->second++)});
    }
    return out;
  }

  const SampleOptions& options_;
  Rng rng_;
  std::vector<EventSpec> specs_;
  std::map<std::string, size_t> rids_;
};

}  // namespace

std::vector<SampleEvent> generateDcSample(const SampleOptions& options) {
  return Builder(options).build();
}

void writeEventsXml(const std::vector<SampleEvent>& events, std::ostream& out) {
  out << "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Events>\n";
  for (const SampleEvent& e : events) out << e.xml << '\n';
  out << "</Events>\n";
}

std::vector<std::string> sampleScenarios() {
  return {"background",          "password-spray", "dcsync",
          "computer-delegation", "rc4-kerberoast", "dsrm-password",
          "password-protection", "pta-agent",      "log-cleared"};
}

}  // namespace t0w::bench
