#include "agent/config/policy_source.h"

#include <algorithm>

#include "common/text/ascii.h"

namespace t0w {

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](char x, char y) { return foldAscii(x) < foldAscii(y); });
}

const PolicyValues* PolicySnapshot::values(std::string_view subkey) const {
  const auto it = keys.find(subkey);
  return it == keys.end() ? nullptr : &it->second;
}

const PolicyValue* PolicySnapshot::find(std::string_view subkey, std::string_view name) const {
  const PolicyValues* v = values(subkey);
  if (v == nullptr) return nullptr;
  const auto it = v->find(name);
  return it == v->end() ? nullptr : &it->second;
}

void MemoryPolicySource::erase(const std::string& subkey, const std::string& name) {
  const auto it = snapshot_.keys.find(subkey);
  if (it == snapshot_.keys.end()) return;
  it->second.erase(name);
  if (it->second.empty()) snapshot_.keys.erase(it);
}

}  // namespace t0w
