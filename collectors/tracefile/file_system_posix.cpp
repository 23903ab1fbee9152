// Linux: identity st_dev:st_ino. A deleted or renamed file stays readable through its descriptor.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "collectors/tracefile/file_system.h"

namespace t0w {
namespace {

FileInfo infoOf(const struct stat& st) {
  FileInfo info;
  info.id.volume = static_cast<uint64_t>(st.st_dev);
  info.id.index = static_cast<uint64_t>(st.st_ino);
  info.size = static_cast<uint64_t>(st.st_size);
  info.delete_pending = st.st_nlink == 0;  // unlinked while open: it will never grow again
  return info;
}

Error posixError(const std::string& what, int err) {
  return makeError(err == ENOENT ? Errc::kNotFound : Errc::kIo, what + ": " + std::strerror(err));
}

class PosixTraceFile final : public TraceFile {
 public:
  PosixTraceFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixTraceFile() override { ::close(fd_); }

  Result<size_t> read(uint64_t offset, char* buf, size_t n) override {
    for (;;) {
      const ssize_t r = ::pread(fd_, buf, n, static_cast<off_t>(offset));
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return posixError(path_ + ": read at " + std::to_string(offset), errno);
    }
  }

  Result<FileInfo> info() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return posixError(path_, errno);
    return infoOf(st);
  }

 private:
  int fd_;
  std::string path_;
};

class PosixTraceFileSystem final : public TraceFileSystem {
 public:
  DirListing list(const std::string& dir) override { return listDirectory(dir); }

  Result<FileInfo> stat(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return posixError(path, errno);
    if (!S_ISREG(st.st_mode)) return makeError(Errc::kUnsupported, path + ": not a regular file");
    return infoOf(st);
  }

  Result<std::unique_ptr<TraceFile>> open(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return posixError(path, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return makeError(Errc::kUnsupported, path + ": not a regular file");
    }
    return std::unique_ptr<TraceFile>(std::make_unique<PosixTraceFile>(fd, path));
  }
};

}  // namespace

std::unique_ptr<TraceFileSystem> nativeTraceFileSystem() {
  return std::make_unique<PosixTraceFileSystem>();
}

}  // namespace t0w
