// RuleCache: what loading each rule file produced, kept in one file between runs so that the
// agent does not parse and compile thousands of unchanged Sigma files at every start (yaml-cpp
// alone was most of a 0.6 CPU s start-up with the SigmaHQ rules). An entry is used only for the
// same path with the same bytes (size and two 64-bit hashes), written by the same build (`stamp`)
// with the same compile options; anything else is parsed from the file and the cache rewritten.
// A damaged cache is reported (problem()) and ignored, never trusted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace t0w {

class RuleCache {
 public:
  // Reads `file` if it exists. `stamp` names the build and the compile options.
  RuleCache(std::filesystem::path file, std::string stamp);

  // The stored bytes for this file content, or nullopt. Marks the entry as used.
  std::optional<std::string_view> find(const std::string& path, std::string_view content);
  void put(const std::string& path, std::string_view content, std::string bytes);
  // An entry found but unusable (it did not decode): dropped, and the cache rewritten.
  void drop(const std::string& path);

  // Writes the entries used or put since the start when anything changed (stale or unused
  // entries go); a temporary file and a rename, so that a crash leaves the old or new cache.
  // Returns a problem to report, or "".
  std::string save();

  // Why the cache file was not used ("" when it was, or there was none).
  const std::string& problem() const { return problem_; }
  size_t hits() const { return hits_; }

 private:
  struct Entry {
    uint64_t size = 0, h1 = 0, h2 = 0;
    std::string_view bytes;  // in data_, or in owned
    std::string owned;       // put() since the start
    bool used = false;
  };
  static Entry keyOf(std::string_view content);
  bool read();  // true: the file is this build's good cache

  std::filesystem::path file_;
  std::string stamp_;
  std::string data_;  // the cache file as read
  std::map<std::string, Entry> entries_;
  std::string problem_;
  bool changed_ = false;
  size_t hits_ = 0;
};

}  // namespace t0w
