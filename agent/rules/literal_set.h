// LiteralSet: does a value contain any of many literals, ASCII case ignored? One pass over the
// value instead of one search per literal: a keyword list or a `|contains` list of 20 entries
// otherwise searches every field value 20 times (SigmaHQ's Mimikatz keyword rule was most of the
// evaluation cost of all 2,400 rules on a DC's events). Each position is screened by its next four
// bytes in a bitmap; only positions that pass compare literals.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace t0w {

class LiteralSet {
 public:
  // Shorter literals cannot be screened by four bytes; callers test them one by one.
  static constexpr size_t kMinLength = 4;

  // Literals already lowercased (lowerAscii), each at least kMinLength bytes.
  explicit LiteralSet(std::vector<std::string> lower_literals);

  bool containsAny(std::string_view value) const;
  size_t size() const { return literals_.size(); }

 private:
  struct Literal {
    uint32_t key;  // first four bytes with bit 0x20 set (see keyAt)
    uint32_t offset;
    uint32_t size;
  };
  uint32_t slot(uint32_t key) const { return (key * 2654435761u) >> shift_; }

  std::string text_;               // the literals, one after the other (12 bytes each besides)
  std::vector<Literal> literals_;  // sorted by key
  std::vector<uint64_t> bitmap_;   // bit slot(key) set for every literal's key
  uint32_t shift_ = 0;
};

}  // namespace t0w
