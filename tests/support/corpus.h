// Access to ../shared/corpus from tests. A user's fresh clone has no corpus: those tests skip
// with a message. CI sets T0W_REQUIRE_CORPUS=1 so that a missing corpus fails instead.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace t0w::testing {

inline std::filesystem::path sourceDir() { return T0W_SOURCE_DIR; }
inline std::filesystem::path testData(const std::string& rel) {
  return sourceDir() / "tests" / "data" / rel;
}

inline bool corpusRequired() {
  const char* v = std::getenv("T0W_REQUIRE_CORPUS");
  return v != nullptr && std::string(v) == "1";
}

// Returns the corpus path, or an empty path after GTEST_SKIP/FAIL has been recorded.
#define T0W_CORPUS_OR_SKIP(var)                                                     \
  std::filesystem::path var = std::filesystem::path(T0W_CORPUS_DIR);                \
  if (!std::filesystem::is_directory(var)) {                                        \
    if (::t0w::testing::corpusRequired()) FAIL() << "corpus missing at " << var;    \
    GTEST_SKIP() << "public corpus not found at " << var << " (see README: Tests)"; \
  }

}  // namespace t0w::testing
