// Group Policy values from the registry (HKLM\SOFTWARE\Policies\Tier0Watch by default), and a
// watcher that reports changes under that key (RegNotifyChangeKeyValue, event based, on its own
// thread). Both are used by the service host and `tier0watch config show` on Windows.
#pragma once

#include <windows.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "agent/config/policy_source.h"
#include "common/core/result.h"

namespace t0w::win {

class RegistryPolicySource final : public PolicySource {
 public:
  // `path` under HKEY_LOCAL_MACHINE, e.g. "SOFTWARE\\Policies\\Tier0Watch". Always the 64-bit
  // view (KEY_WOW64_64KEY): Group Policy writes there.
  explicit RegistryPolicySource(std::string path);
  // Values of the key and of its subkeys (two levels). A missing key is an empty snapshot.
  Result<PolicySnapshot> read() override;
  std::string describe() const override { return "HKLM\\" + path_; }

 private:
  std::string path_;
};

// Calls `on_change` (on the watcher's thread) after every change of values or subkeys under
// HKLM\<path>, including the key being created or deleted (a GPO applied or removed: the parent
// is watched while the key does not exist). Each notification is armed again before the
// callback runs, so a change made during the callback is not missed.
class RegistryWatcher {
 public:
  static Result<std::unique_ptr<RegistryWatcher>> start(std::string path,
                                                        std::function<void()> on_change);
  ~RegistryWatcher();  // stops the thread
  RegistryWatcher(const RegistryWatcher&) = delete;
  RegistryWatcher& operator=(const RegistryWatcher&) = delete;

  // Changes seen so far, and a wait for more (tests: a bounded wait for the notification).
  uint64_t changes() const;
  // True when changes() > n within `timeout`.
  bool waitForChange(uint64_t n, std::chrono::milliseconds timeout) const;
  // True once the watch is armed (the first RegNotifyChangeKeyValue succeeded).
  bool waitArmed(std::chrono::milliseconds timeout) const;

 private:
  RegistryWatcher(std::string path, std::function<void()> on_change, HANDLE stop, HANDLE changed);
  void loop();

  std::string path_;
  std::function<void()> on_change_;
  HANDLE stop_;
  HANDLE changed_;
  std::thread thread_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t changes_ = 0;
  uint64_t armed_ = 0;
};

}  // namespace t0w::win
