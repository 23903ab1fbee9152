// ValueMatcher: one compiled Sigma value (after its modifier chain) tested against one field value.
// Strings compile to the cheapest test that does the job: exact, prefix, suffix, contains, or a
// glob only when wildcards sit inside the value. Needles are lowercased once at load time and the
// comparison folds ASCII case of the haystack on the fly, so matching never allocates.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/text/ascii.h"

namespace re2 {
class RE2;
}

namespace t0w {

// A Sigma string value: bytes plus which bytes are wildcards ('*' or '?') rather than literals.
struct SigmaString {
  std::string text;
  std::vector<bool> wild;  // wild[i]: text[i] is a wildcard

  // Parses Sigma escaping: `\*` `\?` `\\` are literals; any other backslash is literal itself.
  static SigmaString parse(std::string_view raw);
  static SigmaString literal(std::string_view raw);
  bool hasWildcards() const;
  void append(const SigmaString& other);
  void prependStar();
  void appendStar();
};

struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};
  int prefix = 0;
};

// Parses "a.b.c.d" or an IPv6 address (with "::" and an optional dotted IPv4 tail).
bool parseIp(std::string_view text, bool& v6, std::array<uint8_t, 16>& out);
Result<Cidr> parseCidr(std::string_view text);

class ValueMatcher {
 public:
  enum class Kind : uint8_t {
    kExact,
    kPrefix,
    kSuffix,
    kContains,
    kGlob,
    kRegex,
    kCidr,
    kLt,
    kLte,
    kGt,
    kGte,
    kBitAnd,  // Tier0Watch extension `bitand`: (value & mask) == mask
    kNull,    // field absent or empty
  };

  static ValueMatcher fromString(const SigmaString& s, bool cased);
  static Result<ValueMatcher> regex(std::string_view pattern, bool icase, bool multiline,
                                    bool dotall, int64_t max_mem, int max_program_size);
  static ValueMatcher cidr(const Cidr& c);
  static ValueMatcher numeric(Kind op, double value);
  static ValueMatcher bitAnd(uint64_t mask);
  static ValueMatcher null();

  bool match(std::string_view value) const;
  bool matchesAbsent() const { return kind_ == Kind::kNull; }
  Kind kind() const { return kind_; }
  const std::string& needle() const { return needle_; }
  bool cased() const { return cased_; }
  const std::vector<bool>& wild() const { return wild_; }

 private:
  bool globMatch(std::string_view value) const;

  friend struct RuleCodecAccess;  // rule_codec.cpp stores and restores matchers (RuleCache)

  Kind kind_ = Kind::kExact;
  bool cased_ = false;
  bool multiline_ = false, dotall_ = false;  // kRegex: how it was compiled
  std::string needle_;                       // literal text, lowercased unless cased_
  std::vector<bool> wild_;                   // kGlob only: which needle bytes are wildcards
  std::shared_ptr<const re2::RE2> regex_;
  Cidr cidr_;
  double number_ = 0;
  uint64_t mask_ = 0;
};

// An unsigned integer as Windows renders flags: decimal ("528384") or hex with 0x ("0x2080"),
// optional surrounding spaces. nullopt for anything else ("-", "", "12a").
std::optional<uint64_t> parseFlagValue(std::string_view text);

// Case-insensitive matching of a haystack against a lowered needle (foldAscii, lowerAscii:
// common/text/ascii.h; Windows event text is mostly ASCII and Sigma has no locale rules).
bool equalsFold(std::string_view hay, std::string_view lower_needle);
bool containsFold(std::string_view hay, std::string_view lower_needle);

}  // namespace t0w
