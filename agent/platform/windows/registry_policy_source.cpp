#include "agent/platform/windows/registry_policy_source.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "agent/platform/windows/error_text.h"
#include "agent/platform/windows/utf.h"

namespace t0w::win {
namespace {

struct RegKey {
  HKEY h = nullptr;
  ~RegKey() {
    if (h != nullptr) RegCloseKey(h);
  }
};

constexpr REGSAM kRead = KEY_READ | KEY_WOW64_64KEY;

PolicyValue convert(DWORD type, const std::vector<BYTE>& data, DWORD size) {
  PolicyValue v;
  const auto wide = [&](size_t bytes) {
    std::wstring w(reinterpret_cast<const wchar_t*>(data.data()), bytes / sizeof(wchar_t));
    return w;
  };
  switch (type) {
    case REG_SZ:
    case REG_EXPAND_SZ: {
      std::wstring w = wide(size);
      while (!w.empty() && w.back() == L'\0') w.pop_back();  // stored with or without NUL
      v.type = PolicyValue::Type::kString;
      v.text = toUtf8(w);
      break;
    }
    case REG_DWORD:
      v.type = PolicyValue::Type::kDword;
      if (size >= 4) v.number = *reinterpret_cast<const uint32_t*>(data.data());
      break;
    case REG_QWORD:
      v.type = PolicyValue::Type::kQword;
      if (size >= 8) v.number = *reinterpret_cast<const uint64_t*>(data.data());
      break;
    case REG_MULTI_SZ: {
      v.type = PolicyValue::Type::kMultiString;
      const std::wstring w = wide(size);
      size_t start = 0;
      while (start < w.size()) {
        const size_t end = w.find(L'\0', start);
        const size_t stop = end == std::wstring::npos ? w.size() : end;
        if (stop > start) v.items.push_back(toUtf8(w.substr(start, stop - start)));
        start = stop + 1;
      }
      break;
    }
    default:
      v.type = PolicyValue::Type::kOther;
  }
  return v;
}

Status readValues(HKEY key, const std::string& where, PolicyValues& out) {
  DWORD count = 0, max_name = 0, max_data = 0;
  LSTATUS rc = RegQueryInfoKeyW(key, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &count,
                                &max_name, &max_data, nullptr, nullptr);
  if (rc != ERROR_SUCCESS) return win32Error(Errc::kIo, where + ": RegQueryInfoKey", rc);
  std::vector<wchar_t> name(max_name + 2);
  std::vector<BYTE> data(max_data + 2);
  for (DWORD i = 0; i < count; ++i) {
    DWORD name_len = static_cast<DWORD>(name.size());
    DWORD size = static_cast<DWORD>(data.size());
    DWORD type = 0;
    rc = RegEnumValueW(key, i, name.data(), &name_len, nullptr, &type, data.data(), &size);
    if (rc == ERROR_NO_MORE_ITEMS) break;
    if (rc == ERROR_MORE_DATA) {
      // Written between RegQueryInfoKey and here: the next read (notification) gets it.
      continue;
    }
    if (rc != ERROR_SUCCESS) return win32Error(Errc::kIo, where + ": RegEnumValue", rc);
    out[toUtf8(std::wstring(name.data(), name_len))] = convert(type, data, size);
  }
  return {};
}

Status readKey(HKEY key, const std::string& subkey, const std::string& where, int depth,
               PolicySnapshot& out) {
  PolicyValues values;
  if (Status s = readValues(key, where, values); !s) return s;
  if (!values.empty()) out.keys[subkey] = std::move(values);
  if (depth == 0) return {};
  for (DWORD i = 0;; ++i) {
    wchar_t name[256];
    DWORD len = 256;
    const LSTATUS rc = RegEnumKeyExW(key, i, name, &len, nullptr, nullptr, nullptr, nullptr);
    if (rc == ERROR_NO_MORE_ITEMS) break;
    if (rc != ERROR_SUCCESS) return win32Error(Errc::kIo, where + ": RegEnumKeyEx", rc);
    const std::string child = toUtf8(std::wstring(name, len));
    RegKey sub;
    const LSTATUS open = RegOpenKeyExW(key, name, 0, kRead, &sub.h);
    if (open == ERROR_FILE_NOT_FOUND) continue;  // deleted meanwhile
    if (open != ERROR_SUCCESS) return win32Error(Errc::kIo, where + "\\" + child, open);
    const std::string path = subkey.empty() ? child : subkey + "\\" + child;
    if (Status s = readKey(sub.h, path, where + "\\" + child, depth - 1, out); !s) return s;
  }
  return {};
}

}  // namespace

RegistryPolicySource::RegistryPolicySource(std::string path) : path_(std::move(path)) {}

Result<PolicySnapshot> RegistryPolicySource::read() {
  auto wide = toWide(path_);
  if (!wide) return wide.error();
  RegKey key;
  const LSTATUS rc = RegOpenKeyExW(HKEY_LOCAL_MACHINE, wide->c_str(), 0, kRead, &key.h);
  if (rc == ERROR_FILE_NOT_FOUND) return PolicySnapshot{};
  if (rc != ERROR_SUCCESS) return win32Error(errcForWin32(rc), describe(), rc);
  PolicySnapshot snapshot;
  if (Status s = readKey(key.h, "", describe(), 2, snapshot); !s) return s.error();
  return snapshot;
}

// ---------------------------------------------------------------------------------------------

RegistryWatcher::RegistryWatcher(std::string path, std::function<void()> on_change, HANDLE stop,
                                 HANDLE changed)
    : path_(std::move(path)), on_change_(std::move(on_change)), stop_(stop), changed_(changed) {}

Result<std::unique_ptr<RegistryWatcher>> RegistryWatcher::start(std::string path,
                                                                std::function<void()> on_change) {
  HANDLE stop = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  HANDLE changed = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  if (stop == nullptr || changed == nullptr) {
    const DWORD e = GetLastError();
    if (stop != nullptr) CloseHandle(stop);
    if (changed != nullptr) CloseHandle(changed);
    return win32Error(Errc::kIo, "CreateEvent", e);
  }
  std::unique_ptr<RegistryWatcher> w(
      new RegistryWatcher(std::move(path), std::move(on_change), stop, changed));
  w->thread_ = std::thread([raw = w.get()] { raw->loop(); });
  return w;
}

RegistryWatcher::~RegistryWatcher() {
  SetEvent(stop_);
  if (thread_.joinable()) thread_.join();
  CloseHandle(stop_);
  CloseHandle(changed_);
}

void RegistryWatcher::loop() {
  const std::wstring path = *toWide(path_);
  const std::wstring parent = path.substr(0, path.rfind(L'\\'));
  bool reported_error = false;
  bool pending = false;  // a change seen, callback not run yet
  RegKey key;
  bool on_parent = false;
  while (true) {
    // Watch the key itself (subtree: values and subkeys) when it exists, else its parent for
    // the key's creation. One RegNotifyChangeKeyValue reports one change, so it is armed again
    // BEFORE the callback reads the values: a change made meanwhile signals the next wait.
    LSTATUS rc = ERROR_SUCCESS;
    if (key.h == nullptr) {
      on_parent = false;
      rc = RegOpenKeyExW(HKEY_LOCAL_MACHINE, path.c_str(), 0, KEY_NOTIFY | KEY_WOW64_64KEY, &key.h);
      if (rc == ERROR_FILE_NOT_FOUND) {
        on_parent = true;
        rc = RegOpenKeyExW(HKEY_LOCAL_MACHINE, parent.c_str(), 0, KEY_NOTIFY | KEY_WOW64_64KEY,
                           &key.h);
      }
    }
    if (rc == ERROR_SUCCESS) {
      rc = RegNotifyChangeKeyValue(key.h, on_parent ? FALSE : TRUE,
                                   REG_NOTIFY_CHANGE_LAST_SET | REG_NOTIFY_CHANGE_NAME, changed_,
                                   TRUE);
      if (rc == ERROR_KEY_DELETED) {  // the policy was removed: watch the parent again
        RegCloseKey(key.h);
        key.h = nullptr;
        pending = true;
        continue;
      }
    }
    if (rc != ERROR_SUCCESS) {
      if (key.h != nullptr) {
        RegCloseKey(key.h);
        key.h = nullptr;
      }
      if (!reported_error) {
        spdlog::error("policy watch on HKLM\\{}: {}; retrying every 30 s", path_, errorText(rc));
        reported_error = true;
      }
      if (WaitForSingleObject(stop_, 30'000) == WAIT_OBJECT_0) return;
      continue;
    }
    reported_error = false;
    {
      std::lock_guard lock(mu_);
      ++armed_;
    }
    cv_.notify_all();
    if (pending) {
      pending = false;
      if (on_change_) on_change_();
      {
        std::lock_guard lock(mu_);
        ++changes_;
      }
      cv_.notify_all();
    }
    HANDLE handles[2] = {stop_, changed_};
    const DWORD w = WaitForMultipleObjects(2, handles, FALSE, INFINITE);
    if (w != WAIT_OBJECT_0 + 1) return;  // stop (or a failed wait: nothing sensible to do)
    if (on_parent) {
      // Something under SOFTWARE\Policies changed: only our key's appearance counts.
      RegKey probe;
      if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, path.c_str(), 0, KEY_READ | KEY_WOW64_64KEY,
                        &probe.h) != ERROR_SUCCESS) {
        continue;  // re-armed on the parent
      }
      RegCloseKey(key.h);
      key.h = nullptr;  // reopened on the key itself
    }
    pending = true;
  }
}

uint64_t RegistryWatcher::changes() const {
  std::lock_guard lock(mu_);
  return changes_;
}

bool RegistryWatcher::waitForChange(uint64_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return changes_ > n; });
}

bool RegistryWatcher::waitArmed(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return armed_ > 0; });
}

}  // namespace t0w::win
