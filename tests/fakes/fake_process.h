// Starts a fake server executable (t0w-fake-collector, t0w-fake-proxy) for a test, waits for its
// one-line JSON "ready" message on stdout, and ends it when destroyed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/core/result.h"

namespace t0w::fakes {

class FakeProcess {
 public:
  // Waits at most `ready_timeout` for the ready line; the child is killed on failure.
  static Result<std::unique_ptr<FakeProcess>> start(
      const std::string& executable, const std::vector<std::string>& args,
      std::chrono::milliseconds ready_timeout = std::chrono::seconds(20));
  ~FakeProcess();
  FakeProcess(const FakeProcess&) = delete;
  FakeProcess& operator=(const FakeProcess&) = delete;

  const nlohmann::json& ready() const { return ready_; }
  int port() const { return ready_.at("port").get<int>(); }
  pid_t pid() const { return pid_; }

 private:
  FakeProcess(pid_t pid, nlohmann::json ready) : pid_(pid), ready_(std::move(ready)) {}
  pid_t pid_;
  nlohmann::json ready_;
};

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Lines of a JSONL file (a missing file reads as no lines).
std::vector<nlohmann::json> readJsonLines(const std::string& path);
std::string readFile(const std::string& path);

}  // namespace t0w::fakes
