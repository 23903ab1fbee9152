// Group Policy input of the agent: the values under HKLM\SOFTWARE\Policies\Tier0Watch as a
// snapshot, behind a small interface so that the merge with the YAML file (policy_overlay.h) is
// portable. Windows reads the registry (agent/platform/windows/registry_policy_source.h); tests
// and non-Windows builds use MemoryPolicySource.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"

namespace t0w {

// One registry value. REG_EXPAND_SZ is read as kString (not expanded: nothing we read needs it).
struct PolicyValue {
  enum class Type { kString, kDword, kQword, kMultiString, kOther };
  Type type = Type::kString;
  std::string text;                // kString
  uint64_t number = 0;             // kDword, kQword
  std::vector<std::string> items;  // kMultiString

  static PolicyValue string(std::string s) { return {Type::kString, std::move(s), 0, {}}; }
  static PolicyValue dword(uint32_t v) { return {Type::kDword, {}, v, {}}; }
  bool operator==(const PolicyValue&) const = default;
};

// Registry names compare case-insensitively (ASCII), as Windows does.
struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
  using is_transparent = void;
};

using PolicyValues = std::map<std::string, PolicyValue, CaseInsensitiveLess>;

// subkey ("" for the policy key itself, "Channels", ...) -> its values.
struct PolicySnapshot {
  std::map<std::string, PolicyValues, CaseInsensitiveLess> keys;

  const PolicyValue* find(std::string_view subkey, std::string_view name) const;
  const PolicyValues* values(std::string_view subkey) const;
  bool empty() const { return keys.empty(); }
  bool operator==(const PolicySnapshot&) const = default;
};

class PolicySource {
 public:
  virtual ~PolicySource() = default;
  // Everything under the policy key. A missing key (no policy applied) is an empty snapshot.
  virtual Result<PolicySnapshot> read() = 0;
  // For messages: "HKLM\SOFTWARE\Policies\Tier0Watch".
  virtual std::string describe() const = 0;
};

// The registry layout as data, filled by tests (and empty where there is no registry).
class MemoryPolicySource final : public PolicySource {
 public:
  void set(const std::string& subkey, const std::string& name, PolicyValue value) {
    snapshot_.keys[subkey][name] = std::move(value);
  }
  void erase(const std::string& subkey, const std::string& name);
  Result<PolicySnapshot> read() override { return snapshot_; }
  std::string describe() const override { return "policy (in memory)"; }

 private:
  PolicySnapshot snapshot_;
};

}  // namespace t0w
