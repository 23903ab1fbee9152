#include "collectors/evtx/libevtx_handles.h"

#include <array>

namespace t0w::evtx {

std::string takeErrorText(libevtx_error_t*& error) {
  if (error == nullptr) return "unknown libevtx error";
  // The backtrace holds the cause ("invalid file signature"); the plain message only says
  // "unable to open file".
  std::array<char, 4096> buf{};
  int n = libevtx_error_backtrace_sprint(error, buf.data(), buf.size());
  libevtx_error_free(&error);
  if (n <= 0) return "unknown libevtx error";
  std::string text(buf.data());
  // libevtx prints one frame per line, innermost first; an error message must fit on one line.
  // The two innermost frames name the cause; outer ones only repeat "unable to open file".
  constexpr int kMaxFrames = 2;
  int frames = 0;
  std::string joined;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && frames < kMaxFrames) {
      ++frames;
      if (!joined.empty()) joined += "; ";
      joined += line;
    }
    start = end + 1;
  }
  return joined.empty() ? "unknown libevtx error" : joined;
}

void RecordDeleter::operator()(libevtx_record_t* record) const {
  libevtx_error_t* error = nullptr;
  if (libevtx_record_free(&record, &error) != 1) libevtx_error_free(&error);
}

Result<EvtxFile> EvtxFile::open(const std::string& path) {
  libevtx_error_t* error = nullptr;
  libevtx_file_t* file = nullptr;
  if (libevtx_file_initialize(&file, &error) != 1) {
    return makeError(Errc::kInternal, takeErrorText(error));
  }
  if (libevtx_file_open(file, path.c_str(), LIBEVTX_OPEN_READ, &error) != 1) {
    std::string text = takeErrorText(error);
    libevtx_file_free(&file, &error);
    libevtx_error_free(&error);
    return makeError(Errc::kIo, text);
  }
  return EvtxFile(file);
}

EvtxFile::~EvtxFile() {
  if (file_ == nullptr) return;
  libevtx_error_t* error = nullptr;
  if (libevtx_file_close(file_, &error) != 0) libevtx_error_free(&error);
  if (libevtx_file_free(&file_, &error) != 1) libevtx_error_free(&error);
}

Result<int> EvtxFile::recordCount() {
  libevtx_error_t* error = nullptr;
  int n = 0;
  if (libevtx_file_get_number_of_records(file_, &n, &error) != 1) {
    return makeError(Errc::kCorrupt, takeErrorText(error));
  }
  return n;
}

Result<int> EvtxFile::recoveredRecordCount() {
  libevtx_error_t* error = nullptr;
  int n = 0;
  if (libevtx_file_get_number_of_recovered_records(file_, &n, &error) != 1) {
    return makeError(Errc::kCorrupt, takeErrorText(error));
  }
  return n;
}

bool EvtxFile::isCorrupted() {
  libevtx_error_t* error = nullptr;
  int r = libevtx_file_is_corrupted(file_, &error);
  if (r == -1) libevtx_error_free(&error);
  return r == 1;
}

Result<RecordHandle> EvtxFile::record(int index) {
  libevtx_error_t* error = nullptr;
  libevtx_record_t* record = nullptr;
  if (libevtx_file_get_record_by_index(file_, index, &record, &error) != 1) {
    return makeError(Errc::kCorrupt, takeErrorText(error));
  }
  return RecordHandle(record);
}

Result<RecordHandle> EvtxFile::recoveredRecord(int index) {
  libevtx_error_t* error = nullptr;
  libevtx_record_t* record = nullptr;
  if (libevtx_file_get_recovered_record_by_index(file_, index, &record, &error) != 1) {
    return makeError(Errc::kCorrupt, takeErrorText(error));
  }
  return RecordHandle(record);
}

void EvtxFile::signalAbort() {
  libevtx_error_t* error = nullptr;
  if (libevtx_file_signal_abort(file_, &error) != 1) libevtx_error_free(&error);
}

Result<std::string> recordXml(libevtx_record_t* record) {
  libevtx_error_t* error = nullptr;
  size_t size = 0;
  if (libevtx_record_get_utf8_xml_string_size(record, &size, &error) != 1) {
    return makeError(Errc::kCorrupt, takeErrorText(error));
  }
  if (size == 0) return makeError(Errc::kCorrupt, "record has no XML");
  std::string xml(size, '\0');
  if (libevtx_record_get_utf8_xml_string(record, reinterpret_cast<uint8_t*>(xml.data()), size,
                                         &error) != 1) {
    return makeError(Errc::kCorrupt, takeErrorText(error));
  }
  while (!xml.empty() && xml.back() == '\0') xml.pop_back();
  return xml;
}

}  // namespace t0w::evtx
