// Trace file text: the encoding from the byte-order mark (UTF-16LE or UTF-8; none: UTF-8), lines
// split at LF (a CR before it dropped) with their byte offsets, converted to valid UTF-8.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/text/utf8.h"  // appendValidUtf8 for UTF-8 files

namespace t0w {

enum class TraceEncoding { kUtf8, kUtf16Le };
const char* traceEncodingName(TraceEncoding encoding);  // "utf-8" | "utf-16le"

struct DetectedEncoding {
  TraceEncoding encoding = TraceEncoding::kUtf8;
  size_t bom = 0;  // bytes of the byte-order mark (skipped)
};

// From the first bytes of a file; nullopt while a BOM may still be incomplete (fewer than 3
// bytes that so far agree with one) and the file may grow.
std::optional<DetectedEncoding> detectEncoding(std::string_view head, bool final);

// UTF-16LE code units (an even number of bytes) as UTF-8, unpaired surrogates as U+FFFD.
bool appendUtf16LeAsUtf8(std::string& out, std::string_view bytes);

struct TraceLine {
  uint64_t offset = 0;     // first byte of the line in the file
  uint64_t end = 0;        // after its line feed
  std::string text;        // UTF-8, without the line break
  uint64_t raw_bytes = 0;  // bytes of the line in the file, line break excluded
  bool truncated = false;  // longer than the cap: text holds its beginning
  bool invalid = false;    // invalid UTF-8 / UTF-16 replaced by U+FFFD
};

// Splits a byte stream of one file into lines. A line is delivered when its line feed has been
// read; the bytes after the last line feed are held (partial line) until more arrive. Lines
// longer than `max_line` bytes keep their first `max_line` bytes (rest skipped, still counted).
class TraceLineReader {
 public:
  TraceLineReader(TraceEncoding encoding, uint64_t offset, size_t max_line);

  // Bytes that follow offset(); fn(TraceLine&&) for each completed line.
  template <typename Fn>
  void feed(std::string_view bytes, Fn&& fn) {
    while (!bytes.empty()) {
      const size_t n = scan(bytes);  // bytes up to and including a line feed, or all
      append(bytes.substr(0, n));
      offset_ += n;
      bytes.remove_prefix(n);
      if (complete_) fn(takeLine());
    }
  }
  // The held partial line as a line (a file that will not grow any more); nullopt when none.
  std::optional<TraceLine> takePartial();

  uint64_t offset() const { return offset_; }         // next byte to feed
  uint64_t lineStart() const { return line_start_; }  // first byte not yet delivered
  bool hasPartial() const { return offset_ > line_start_; }
  TraceEncoding encoding() const { return encoding_; }

 private:
  size_t scan(std::string_view bytes);
  void append(std::string_view bytes);
  TraceLine takeLine();

  TraceEncoding encoding_;
  size_t max_line_;
  uint64_t offset_;
  uint64_t line_start_;
  std::string raw_;         // the current line's bytes (capped)
  uint64_t raw_total_ = 0;  // all its bytes
  bool odd_ = false;        // UTF-16: a code unit's first byte was the last one fed
  char odd_byte_ = 0;
  bool complete_ = false;
};

}  // namespace t0w
