// Limits applied while loading Sigma rules, so that a hostile or broken rule file is rejected with
// a clear error instead of exhausting memory or time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace t0w {

struct RuleLimits {
  size_t max_file_bytes = 1024 * 1024;  // the largest SigmaHQ rule is ~40 KiB
  size_t max_documents_per_file = 256;
  size_t max_yaml_depth = 16;         // a Sigma rule nests at most ~5 levels
  size_t max_yaml_nodes = 20000;      // after alias expansion (YAML bombs stop here)
  size_t max_values_per_rule = 5000;  // values after modifier expansion (windash, base64offset)
  size_t max_value_bytes = 8192;
  size_t max_condition_bytes = 4096;
  size_t max_condition_depth = 32;
  size_t max_condition_nodes = 2000;   // after `1 of x*` expansion
  int64_t max_regex_memory = 8 << 20;  // RE2 max_mem per regex (RE2 default; DFA cache)
  int max_regex_program_size = 20000;
  size_t max_windash_dashes = 4;  // permutations grow as 5^n
};

}  // namespace t0w
