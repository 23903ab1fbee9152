// Windows: every handle is opened with FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, so
// the wizard keeps writing, and an administrator (or Microsoft's 48-hour privacy clean-up) can
// delete or rename the file while the tail reads it. Identity = volume serial + file index.
#include <windows.h>

#include "agent/platform/windows/error_text.h"
#include "agent/platform/windows/handle.h"
#include "agent/platform/windows/utf.h"
#include "collectors/tracefile/file_system.h"

namespace t0w {
namespace {

constexpr DWORD kShareAll = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

Error winError(const std::string& what, DWORD code) {
  const bool missing = code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND;
  return makeError(missing ? Errc::kNotFound : Errc::kIo, what + ": " + win::errorText(code));
}

Result<FileInfo> infoOf(HANDLE h, const std::string& path) {
  BY_HANDLE_FILE_INFORMATION bh{};
  if (!GetFileInformationByHandle(h, &bh)) return winError(path, GetLastError());
  FileInfo info;
  info.id.volume = bh.dwVolumeSerialNumber;
  info.id.index = (static_cast<uint64_t>(bh.nFileIndexHigh) << 32) | bh.nFileIndexLow;
  info.size = (static_cast<uint64_t>(bh.nFileSizeHigh) << 32) | bh.nFileSizeLow;
  FILE_STANDARD_INFO standard{};
  if (GetFileInformationByHandleEx(h, FileStandardInfo, &standard, sizeof(standard))) {
    info.delete_pending = standard.DeletePending != FALSE;
  }
  return info;
}

Result<win::FileHandle> openShared(const std::string& path, DWORD access) {
  auto wide = win::toWide(path);
  if (!wide) return wide.error();
  win::FileHandle h(CreateFileW(wide->c_str(), access, kShareAll, nullptr, OPEN_EXISTING,
                                FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!h) return winError(path, GetLastError());
  return h;
}

class WindowsTraceFile final : public TraceFile {
 public:
  WindowsTraceFile(win::FileHandle h, std::string path)
      : h_(std::move(h)), path_(std::move(path)) {}

  Result<size_t> read(uint64_t offset, char* buf, size_t n) override {
    OVERLAPPED ov{};
    ov.Offset = static_cast<DWORD>(offset & 0xffffffffu);
    ov.OffsetHigh = static_cast<DWORD>(offset >> 32);
    DWORD got = 0;
    const DWORD want = static_cast<DWORD>(n > (1u << 30) ? (1u << 30) : n);
    if (!ReadFile(h_.get(), buf, want, &got, &ov)) {
      const DWORD code = GetLastError();
      if (code == ERROR_HANDLE_EOF) return size_t{0};
      return winError(path_ + ": read at " + std::to_string(offset), code);
    }
    return static_cast<size_t>(got);
  }

  Result<FileInfo> info() override { return infoOf(h_.get(), path_); }

 private:
  win::FileHandle h_;
  std::string path_;
};

class WindowsTraceFileSystem final : public TraceFileSystem {
 public:
  DirListing list(const std::string& dir) override { return listDirectory(dir); }

  Result<FileInfo> stat(const std::string& path) override {
    // No data access: only attributes, shared with everyone (never blocks the writer).
    auto h = openShared(path, FILE_READ_ATTRIBUTES);
    if (!h) return h.error();
    auto info = infoOf(h->get(), path);
    if (info && GetFileType(h->get()) != FILE_TYPE_DISK) {
      return makeError(Errc::kUnsupported, path + ": not a regular file");
    }
    return info;
  }

  Result<std::unique_ptr<TraceFile>> open(const std::string& path) override {
    auto h = openShared(path, GENERIC_READ);
    if (!h) return h.error();
    return std::unique_ptr<TraceFile>(std::make_unique<WindowsTraceFile>(std::move(*h), path));
  }
};

}  // namespace

std::unique_ptr<TraceFileSystem> nativeTraceFileSystem() {
  return std::make_unique<WindowsTraceFileSystem>();
}

}  // namespace t0w
