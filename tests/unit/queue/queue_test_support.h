// Test helpers for the queue: a fake clock, a per-test temporary directory, record builders.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/core/clock.h"
#include "common/wire/queue_record.h"
#include "tests/support/fake_clock.h"

namespace t0w::testing {

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("t0w-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" +
             std::to_string(std::random_device()()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Deterministic filler that compresses poorly, so that byte sizes are predictable.
inline std::string noise(size_t n, uint64_t seed) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out.push_back(kHex[x & 15]);
  }
  return out;
}

inline QueueRecord eventRecord(const std::string& source, uint64_t n, size_t body_bytes = 64) {
  QueueRecord r;
  r.kind = RecordKind::kEvent;
  r.key = source + "|" + std::to_string(n);
  r.time = 133500000000000000 + static_cast<int64_t>(n);
  r.body = "{\"n\":" + std::to_string(n) + ",\"pad\":\"" + noise(body_bytes, n) + "\"}";
  return r;
}

inline QueueRecord alertRecord(const std::string& id) {
  QueueRecord r;
  r.kind = RecordKind::kAlert;
  r.key = "alert|" + id;
  r.body = "{\"rule_id\":\"" + id + "\"}";
  return r;
}

inline std::vector<QueueRecord> eventBatch(const std::string& source, uint64_t first, size_t n,
                                           size_t body_bytes = 64) {
  std::vector<QueueRecord> out;
  for (size_t i = 0; i < n; ++i) out.push_back(eventRecord(source, first + i, body_bytes));
  return out;
}

}  // namespace t0w::testing
