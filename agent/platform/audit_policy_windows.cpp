// AuditPolicyReader on Windows: the effective advanced audit policy (AuditQuerySystemPolicy,
// advapi32; needs SeSecurityPrivilege, which the LocalSystem service holds), the PowerShell
// script block logging policy (registry) and channel configuration (EvtGetChannelConfigProperty).
#include <windows.h>
// windows.h first: the headers below need its types.
#include <ntsecapi.h>
#include <winevt.h>

#include <cstdio>
#include <vector>

#include "agent/platform/windows/error_text.h"
#include "agent/platform/windows/utf.h"
#include "agent/rules/audit_prerequisites.h"

namespace t0w {
namespace {

using win::toWide;
using win::win32Error;

Result<GUID> parseGuid(const std::string& text) {
  GUID g{};
  unsigned long d1 = 0;
  unsigned int d2 = 0, d3 = 0, b[8] = {};
  if (std::sscanf(text.c_str(), "%8lx-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x", &d1, &d2, &d3, &b[0],
                  &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7]) != 11) {
    return makeError(Errc::kInvalidArgument, "not a GUID: " + text);
  }
  g.Data1 = d1;
  g.Data2 = static_cast<unsigned short>(d2);
  g.Data3 = static_cast<unsigned short>(d3);
  for (int i = 0; i < 8; ++i) g.Data4[i] = static_cast<unsigned char>(b[i]);
  return g;
}

class EvtHandleCloser {
 public:
  explicit EvtHandleCloser(EVT_HANDLE h) : h_(h) {}
  ~EvtHandleCloser() {
    if (h_ != nullptr) EvtClose(h_);
  }
  EvtHandleCloser(const EvtHandleCloser&) = delete;
  EvtHandleCloser& operator=(const EvtHandleCloser&) = delete;
  EVT_HANDLE get() const { return h_; }

 private:
  EVT_HANDLE h_;
};

Result<EVT_VARIANT> channelProperty(EVT_HANDLE h, EVT_CHANNEL_CONFIG_PROPERTY_ID id,
                                    const std::string& name) {
  std::vector<unsigned char> buf(sizeof(EVT_VARIANT) + 512);
  DWORD used = 0;
  if (!EvtGetChannelConfigProperty(h, id, 0, static_cast<DWORD>(buf.size()),
                                   reinterpret_cast<PEVT_VARIANT>(buf.data()), &used)) {
    return win32Error(Errc::kIo, "channel " + name, GetLastError());
  }
  return *reinterpret_cast<PEVT_VARIANT>(buf.data());
}

class WindowsAuditPolicyReader final : public AuditPolicyReader {
 public:
  Result<uint32_t> subcategory(const std::string& guid) override {
    auto g = parseGuid(guid);
    if (!g) return g.error();
    PAUDIT_POLICY_INFORMATION info = nullptr;
    if (!AuditQuerySystemPolicy(&*g, 1, &info)) {
      return win32Error(Errc::kIo, "AuditQuerySystemPolicy", GetLastError());
    }
    const uint32_t bits =
        info->AuditingInformation & (POLICY_AUDIT_EVENT_SUCCESS | POLICY_AUDIT_EVENT_FAILURE);
    AuditFree(info);
    return bits;
  }

  Result<bool> scriptBlockLogging() override {
    DWORD value = 0;
    DWORD size = sizeof(value);
    const LSTATUS rc =
        RegGetValueW(HKEY_LOCAL_MACHINE,
                     L"SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell\\ScriptBlockLogging",
                     L"EnableScriptBlockLogging", RRF_RT_REG_DWORD | RRF_SUBKEY_WOW6464KEY, nullptr,
                     &value, &size);
    if (rc == ERROR_FILE_NOT_FOUND || rc == ERROR_PATH_NOT_FOUND) return false;  // not configured
    if (rc != ERROR_SUCCESS) {
      return win32Error(Errc::kIo, "ScriptBlockLogging policy", static_cast<uint32_t>(rc));
    }
    return value == 1;
  }

  Result<ChannelConfigState> channel(const std::string& name) override {
    auto wide = toWide(name);
    if (!wide) return wide.error();
    EvtHandleCloser h(EvtOpenChannelConfig(nullptr, wide->c_str(), 0));
    if (h.get() == nullptr) {
      const DWORD err = GetLastError();
      if (err == ERROR_EVT_CHANNEL_NOT_FOUND) {
        return makeError(Errc::kNotFound, "channel " + name + " does not exist");
      }
      return win32Error(Errc::kIo, "channel " + name, err);
    }
    ChannelConfigState st;
    auto enabled = channelProperty(h.get(), EvtChannelConfigEnabled, name);
    if (!enabled) return enabled.error();
    st.enabled = enabled->BooleanVal != FALSE;
    auto size = channelProperty(h.get(), EvtChannelLoggingConfigMaxSize, name);
    if (!size) return size.error();
    st.max_size_bytes = size->UInt64Val;
    return st;
  }
};

}  // namespace

std::unique_ptr<AuditPolicyReader> makeAuditPolicyReader() {
  return std::make_unique<WindowsAuditPolicyReader>();
}

}  // namespace t0w
