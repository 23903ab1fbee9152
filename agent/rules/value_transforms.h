// Sigma's value-rewriting modifiers (base64, base64offset's encoder, utf16le/utf16be/utf16/wide,
// windash): the detection compiler (compiled_rule.cpp) applies them before values become
// matchers. Kept apart so the encoders can be read without the compiler.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/rules/value_matcher.h"

namespace t0w::sigma {

// Standard base64 with '=' padding.
std::string base64Encode(std::string_view in);

// Encodes the literal runs of s as UTF-16; wildcards stay wildcards.
SigmaString toUtf16(const SigmaString& s, bool big_endian, bool bom);

// Sigma's windash: every '-' or '/' that starts a command-line flag (preceded by a non-word
// character or the start, followed by a word character) in all of its dash forms.
std::vector<SigmaString> windash(const SigmaString& s, size_t max_dashes);

}  // namespace t0w::sigma
