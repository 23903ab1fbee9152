// TraceFileSystem: what the trace tail needs from the file system, behind one interface so that
// the Windows semantics (share modes, file index identity, delete-pending) stay in one file.
// Linux: open(2) + fstat (identity st_dev:st_ino). Windows: CreateFileW with FILE_SHARE_READ |
// FILE_SHARE_WRITE | FILE_SHARE_DELETE (the tail never blocks a deletion or rename), identity =
// volume serial number + file index (GetFileInformationByHandle).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/core/result.h"

namespace t0w {

// Stays the same across renames; changes when a file is replaced under the same name.
struct FileIdentity {
  uint64_t volume = 0;  // st_dev / volume serial number
  uint64_t index = 0;   // st_ino / file index
  bool operator==(const FileIdentity&) const = default;
  std::string toString() const;  // "<volume hex>-<index hex>"
};

struct FileInfo {
  FileIdentity id;
  uint64_t size = 0;
  // Windows: deleted while open (the name lingers until the last handle closes).
  bool delete_pending = false;
};

struct DirEntry {
  std::string name;  // UTF-8
  bool directory = false;
};

struct DirListing {
  enum class Problem { kNone, kAbsent, kAccessDenied, kOther };
  Problem problem = Problem::kNone;
  std::string detail;  // the error text when problem != kNone
  std::vector<DirEntry> entries;
};

// An open file; reads are positional (no shared file pointer).
class TraceFile {
 public:
  virtual ~TraceFile() = default;
  // Up to n bytes at offset; 0 at the end of the file.
  virtual Result<size_t> read(uint64_t offset, char* buf, size_t n) = 0;
  // Identity and size of the open file (not of whatever its old name points to now).
  virtual Result<FileInfo> info() = 0;
};

class TraceFileSystem {
 public:
  virtual ~TraceFileSystem() = default;
  virtual DirListing list(const std::string& dir) = 0;
  // kNotFound when the path does not exist (any more).
  virtual Result<FileInfo> stat(const std::string& path) = 0;
  virtual Result<std::unique_ptr<TraceFile>> open(const std::string& path) = 0;
};

// The platform's file system (file_system_posix.cpp or file_system_windows.cpp).
std::unique_ptr<TraceFileSystem> nativeTraceFileSystem();

// Directory listing through std::filesystem (shared by both platforms).
DirListing listDirectory(const std::string& dir);

}  // namespace t0w
