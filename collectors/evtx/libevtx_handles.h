// Small RAII owners for libevtx's C handles, so that every early return frees what it opened.
#pragma once

#include <libevtx.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/core/result.h"

namespace t0w::evtx {

// Takes ownership of a libevtx error, frees it and returns its text on one line.
std::string takeErrorText(libevtx_error_t*& error);

struct RecordDeleter {
  void operator()(libevtx_record_t* record) const;
};
using RecordHandle = std::unique_ptr<libevtx_record_t, RecordDeleter>;

// An open .evtx file. Messages carry libevtx's text only; callers add the file and record.
class EvtxFile {
 public:
  static Result<EvtxFile> open(const std::string& path);

  EvtxFile(EvtxFile&& other) noexcept : file_(other.file_) { other.file_ = nullptr; }
  EvtxFile& operator=(EvtxFile&&) = delete;
  EvtxFile(const EvtxFile&) = delete;
  EvtxFile& operator=(const EvtxFile&) = delete;
  ~EvtxFile();

  Result<int> recordCount();
  Result<int> recoveredRecordCount();
  bool isCorrupted();  // libevtx noticed damage while opening (e.g. missing chunks)
  Result<RecordHandle> record(int index);
  Result<RecordHandle> recoveredRecord(int index);
  void signalAbort();

 private:
  explicit EvtxFile(libevtx_file_t* file) : file_(file) {}
  libevtx_file_t* file_;  // initialized and open
};

// The record's XML as libevtx renders it (UTF-8, without the terminating NUL).
Result<std::string> recordXml(libevtx_record_t* record);

}  // namespace t0w::evtx
