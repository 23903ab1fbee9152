// FieldKey: a field name with its hash computed once, so that rules compiled at load time look
// fields up without hashing or allocating per event.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace t0w {

// FNV-1a, 32 bit. Case-sensitive: Windows field names are matched as written.
constexpr uint32_t fieldHash(std::string_view name) {
  uint32_t h = 2166136261u;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

class FieldKey {
 public:
  FieldKey() = default;
  explicit FieldKey(std::string name) : name_(std::move(name)), hash_(fieldHash(name_)) {}
  const std::string& name() const { return name_; }
  uint32_t hash() const { return hash_; }

 private:
  std::string name_;
  uint32_t hash_ = fieldHash("");
};

}  // namespace t0w
