// One Entra Connect trace entry: a line "[hh:mm:ss.fff] [  1] [INFO ] message" and the lines
// that follow it without a timestamp (exception stack frames, blank lines, wrapped text).
// The time of day is local time; the date comes from the file name (trace-YYYYMMDD-HHMMSS.log)
// or the wizard's header "Start Time (Local): Thu, 16 Nov 2023 12:09:02 GMT", the UTC offset
// from that header and "Start Time (UTC): ...", and a time that goes back by more than 12 hours
// is the next day.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace t0w {

// True when the line starts with "[dd:dd:dd.ddd]": a new entry (else: a continuation line).
bool startsWithTraceTimestamp(std::string_view line);

struct TraceLineFields {
  std::string_view time;     // "12:09:05.868"
  std::string_view thread;   // "1"
  std::string_view level;    // "INFO", "VERB", "WARN", "ERROR" (padding removed)
  std::string_view message;  // the rest of the first line (may be empty)
  int64_t time_of_day_ms = 0;
};

// The full shape of a trace line; nullopt when only part of it is there (kept whole).
std::optional<TraceLineFields> parseTraceLine(std::string_view line);

// Windows event level of a trace level: ERROR 2, WARN 3, INFO 4, VERB 5; 0 when unknown.
uint8_t traceLevelNumber(std::string_view level);

// What turns a time of day into a UTC time, per file. Part of the file's checkpoint: an entry
// read again after a restart gets the same time as the first time it was read.
struct TraceClock {
  std::optional<int64_t> local_day;           // days since 1970-01-01 of the local start date
  std::optional<int64_t> local_start_s;       // "Start Time (Local)" in seconds since 1970 (as UTC)
  std::optional<int32_t> utc_offset_minutes;  // local - UTC
  int64_t last_time_of_day_ms = -1;
  int32_t day_shift = 0;  // midnights passed since local_day

  // The date of a "trace-YYYYMMDD-HHMMSS.log" name; nothing for other names.
  void startFromFileName(std::string_view file_name);
  // Advances with one entry (in file order): header lines set the date and the offset, a time
  // that goes back past midnight the day. Returns the entry's UTC time in FILETIME ticks when
  // the date and the offset are known.
  std::optional<int64_t> advance(const TraceLineFields& fields);

  bool operator==(const TraceClock&) const = default;
};

// "Thu, 16 Nov 2023 12:09:02 GMT" → seconds since 1970 (the text taken as UTC).
std::optional<int64_t> parseHeaderTime(std::string_view text);

}  // namespace t0w
