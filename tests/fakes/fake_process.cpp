#include "tests/fakes/fake_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace t0w::fakes {

Result<std::unique_ptr<FakeProcess>> FakeProcess::start(const std::string& executable,
                                                        const std::vector<std::string>& args,
                                                        std::chrono::milliseconds ready_timeout) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return makeError(Errc::kIo, "pipe: " + std::string(strerror(errno)));
  std::vector<std::string> argv_storage{executable};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return makeError(Errc::kIo, "fork: " + std::string(strerror(errno)));
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    execv(executable.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);

  auto fail = [&](const std::string& message) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(fds[0]);
    return makeError(Errc::kIo, executable + ": " + message);
  };
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return fail("no ready line within the timeout");
    pollfd pfd{fds[0], POLLIN, 0};
    const int rc = poll(&pfd, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return fail("no ready line within the timeout");
    char chunk[512];
    const ssize_t n = read(fds[0], chunk, sizeof(chunk));
    if (n <= 0) return fail("exited before it was ready");
    line.append(chunk, static_cast<size_t>(n));
  }
  close(fds[0]);  // the fakes write nothing else to stdout
  auto ready = nlohmann::json::parse(line.substr(0, line.find('\n')), nullptr, false);
  if (ready.is_discarded() || !ready.contains("port")) return fail("bad ready line: " + line);
  return std::unique_ptr<FakeProcess>(new FakeProcess(pid, std::move(ready)));
}

FakeProcess::~FakeProcess() {
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/t0w-test-XXXXXX";
  if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

std::vector<nlohmann::json> readJsonLines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  return lines;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace t0w::fakes
