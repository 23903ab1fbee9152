// libFuzzer target for the agent's configuration: the input as a YAML file (parseConfig: schema
// validation, defaults, paths; fileProvenance) and, when it parses, overlaid with Group Policy
// values decoded from the same input (applyPolicy), as an administrator's or an attacker's
// registry values would reach it. Checks: no crash; every refusal says what is wrong; a policy
// value that is refused is reported as an issue naming the value, never applied silently.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/config/agent_config.h"
#include "agent/config/config_source.h"
#include "agent/config/policy_overlay.h"
#include "agent/config/policy_source.h"

namespace {

// Registry values from bytes: each line "subkey|name|type|value" (type s, d, q or m; m items
// separated by ';'), and one value of every known policy name filled from the input's text so
// that the fuzzer reaches each parser without guessing the names.
t0w::PolicySnapshot policyFrom(std::string_view in) {
  t0w::PolicySnapshot snap;
  size_t i = 0;
  for (const auto& info : t0w::policyValueInfos()) {
    if (in.empty()) break;
    const std::string name = std::string(info.name) == "*" ? "v" + std::to_string(i) : info.name;
    const size_t len = 1 + static_cast<unsigned char>(in[i % in.size()]) % 48;
    const size_t at = (i * 7) % in.size();
    const std::string text(in.substr(at, len));
    t0w::PolicyValue v;
    v.type = info.type;
    v.text = text;
    v.number = 0;
    for (unsigned char c : text) v.number = v.number * 31 + c;
    if (info.type == t0w::PolicyValue::Type::kDword) v.number &= 0xffffffffu;
    if (info.type == t0w::PolicyValue::Type::kMultiString) v.items = {text, text + "x"};
    snap.keys[info.subkey][name] = std::move(v);
    ++i;
  }
  size_t start = 0;
  while (start < in.size()) {
    size_t end = in.find('\n', start);
    if (end == std::string_view::npos) end = in.size();
    const std::string_view line = in.substr(start, end - start);
    start = end + 1;
    std::string_view parts[4];
    size_t from = 0;
    int n = 0;
    for (; n < 3; ++n) {
      const size_t bar = line.find('|', from);
      if (bar == std::string_view::npos) break;
      parts[n] = line.substr(from, bar - from);
      from = bar + 1;
    }
    if (n < 3) continue;
    parts[3] = line.substr(from);
    t0w::PolicyValue v;
    const char type = parts[2].empty() ? 's' : parts[2][0];
    v.type = type == 'd'   ? t0w::PolicyValue::Type::kDword
             : type == 'q' ? t0w::PolicyValue::Type::kQword
             : type == 'm' ? t0w::PolicyValue::Type::kMultiString
             : type == 'o' ? t0w::PolicyValue::Type::kOther
                           : t0w::PolicyValue::Type::kString;
    v.text = std::string(parts[3]);
    for (char c : parts[3]) {
      if (c >= '0' && c <= '9') v.number = v.number * 10 + static_cast<uint64_t>(c - '0');
    }
    size_t item = 0;
    while (item <= parts[3].size()) {
      size_t semi = parts[3].find(';', item);
      if (semi == std::string_view::npos) semi = parts[3].size();
      v.items.emplace_back(parts[3].substr(item, semi - item));
      item = semi + 1;
    }
    snap.keys[std::string(parts[0])][std::string(parts[1])] = std::move(v);
  }
  return snap;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto config = t0w::parseConfig(in, "fuzz.yaml", "/nonexistent-base");
  auto provenance = t0w::fileProvenance(in, "fuzz.yaml");
  if (!config) {
    if (config.error().message.empty()) std::abort();
    // A configuration that failed still gets policy: the minimal one the agent starts from.
    auto minimal = t0w::parseConfig(
        "collector: {url: \"https://collector.example:8443\", token: x}\n", "min.yaml", "/");
    if (!minimal) std::abort();
    config = std::move(minimal);
    provenance = t0w::fileProvenance("", "min.yaml");
  }
  const auto result = t0w::applyPolicy(*config, provenance, policyFrom(in));
  for (const auto& issue : result.issues) {
    if (issue.empty()) std::abort();
  }
  (void)t0w::effectiveSettings(result.config);
  return 0;
}
