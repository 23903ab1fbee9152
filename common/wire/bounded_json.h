// parseBoundedJson: nlohmann's parser with limits enforced WHILE it parses (a SAX handler that
// builds the document). Parsing and destroying a document never recurse in nlohmann; copying and
// dump() do, so a body nested 100,000 deep (about 1 KB gzip-compressed) would exhaust the stack
// of whoever copies or prints it. Checked here, before anything walks the tree.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/core/result.h"

namespace t0w {

struct JsonLimits {
  size_t max_depth = 64;              // nesting of objects and arrays
  size_t max_values = 4'000'000;      // values, members and elements in the whole document
  size_t max_string_bytes = 1 << 20;  // one string or member name
};

// Errc::kLimit when a limit is exceeded (naming which), Errc::kParse for malformed JSON.
Result<nlohmann::json> parseBoundedJson(std::string_view text, const JsonLimits& limits);

}  // namespace t0w
